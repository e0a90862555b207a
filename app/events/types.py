"""The events that travel through a broker, and their JSON wire form.

An event is an immutable value. Its JSON form is what the Redis broker carries between
processes, which may run different releases during a rolling deploy, so the decoder ignores
fields it does not know and raises `ValueError` for anything it cannot trust (another release's
event type, a status this release does not know, a missing or mistyped field).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from app.core import strict_json
from app.core.clock import utcnow
from app.gateways.enums import GatewayStatus

_T = TypeVar("_T")

# A discriminator on the wire, so other event kinds can later share the channel.
GATEWAY_STATUS_CHANGED = "gateway.status_changed"


@dataclass(frozen=True, slots=True)
class GatewayStatusChanged:
    """A gateway moved from `previous_status` (None: just created) to `status`.

    `organization_id` None means the personal scope of `owner_id`; subscribers filter on these
    two fields, so they must name the gateway's tenant exactly. `error` is the user-facing
    reason for an ERROR status, never a credential.
    """

    gateway_id: UUID
    owner_id: UUID
    organization_id: UUID | None
    previous_status: GatewayStatus | None
    status: GatewayStatus
    error: str | None
    occurred_at: datetime = field(default_factory=utcnow)
    event_id: UUID = field(default_factory=uuid4)
    # The gateway's status version after this change (0 = unknown, from an older release).
    # Events are published after their commit, so two changes of one gateway can reach a
    # subscriber out of order; the version lets it drop the stale one.
    version: int = 0

    def __post_init__(self) -> None:
        if self.occurred_at.utcoffset() is None:
            raise ValueError("occurred_at must be timezone-aware")
        if self.occurred_at.tzinfo is not UTC:
            # Frozen: normalise through object.__setattr__ so every event compares in UTC.
            object.__setattr__(self, "occurred_at", self.occurred_at.astimezone(UTC))

    def to_json(self) -> bytes:
        payload = {
            "type": GATEWAY_STATUS_CHANGED,
            "event_id": str(self.event_id),
            "gateway_id": str(self.gateway_id),
            "owner_id": str(self.owner_id),
            "organization_id": _str_or_none(self.organization_id),
            "previous_status": _str_or_none(self.previous_status),
            "status": str(self.status),
            "error": self.error,
            "occurred_at": self.occurred_at.isoformat(),
            "version": self.version,
        }
        return strict_json.compact(payload).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> GatewayStatusChanged:
        """Decode `to_json()` output; `ValueError` for anything else."""
        try:
            payload = strict_json.loads(data)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
            raise ValueError(f"event is not valid JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise ValueError("event is not a JSON object")
        if payload.get("type") != GATEWAY_STATUS_CHANGED:
            raise ValueError("event type is not gateway.status_changed")
        return cls(
            gateway_id=_required(payload, "gateway_id", UUID),
            owner_id=_required(payload, "owner_id", UUID),
            organization_id=_optional(payload, "organization_id", UUID),
            previous_status=_optional(payload, "previous_status", GatewayStatus),
            status=_required(payload, "status", GatewayStatus),
            error=_optional(payload, "error", str),
            occurred_at=_required(payload, "occurred_at", datetime.fromisoformat),
            event_id=_required(payload, "event_id", UUID),
            version=_version(payload.get("version", 0)),
        )


def _version(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ValueError("version must be a non-negative integer")


def _str_or_none(value: object | None) -> str | None:
    return None if value is None else str(value)


def _required(payload: dict[str, Any], key: str, parse: Callable[[str], _T]) -> _T:
    value = _optional(payload, key, parse)
    if value is None:
        raise ValueError(f"event field {key!r} is missing or null")
    return value


def _optional(payload: dict[str, Any], key: str, parse: Callable[[str], _T]) -> _T | None:
    value = payload.get(key)
    if value is None:
        return None
    # Every field travels as a string; checking first keeps UUID(123) or GatewayStatus([])
    # from raising something other than ValueError.
    if not isinstance(value, str):
        raise ValueError(f"event field {key!r} is not a string")
    try:
        return parse(value)
    except ValueError:
        raise ValueError(f"event field {key!r} is malformed") from None
