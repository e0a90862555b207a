"""GatewayStatusChanged: its JSON wire form and what the decoder refuses (app/events/types.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest

from app.events.types import GatewayStatusChanged
from app.gateways.enums import GatewayStatus
from tests.events.support import make_event


def test_json_round_trip_with_every_field_set() -> None:
    event = make_event(
        organization_id=uuid4(),
        previous_status=GatewayStatus.CONNECTED,
        status=GatewayStatus.ERROR,
        error="Telegram rejected the token",
        occurred_at=datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC),
    )
    assert GatewayStatusChanged.from_json(event.to_json()) == event


def test_json_round_trip_with_nullable_fields_null() -> None:
    event = make_event(organization_id=None, previous_status=None, error=None)
    data = event.to_json()
    assert isinstance(data, bytes)
    assert GatewayStatusChanged.from_json(data) == event
    assert GatewayStatusChanged.from_json(data.decode()) == event  # str is accepted too


def test_defaults_give_a_fresh_id_and_an_aware_utc_timestamp() -> None:
    first, second = make_event(), make_event()
    assert first.event_id != second.event_id
    assert first.occurred_at.tzinfo is UTC


def test_an_aware_timestamp_is_normalised_to_utc() -> None:
    paris = timezone(timedelta(hours=1))
    event = make_event(occurred_at=datetime(2026, 1, 1, 13, 0, tzinfo=paris))
    assert event.occurred_at == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert event.occurred_at.tzinfo is UTC


def test_a_naive_timestamp_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_event(occurred_at=datetime(2026, 1, 1, 12, 0))


def test_unknown_fields_are_ignored_for_rolling_deploys() -> None:
    event = make_event()
    payload = json.loads(event.to_json())
    payload["added_in_a_later_release"] = {"anything": [1, 2]}
    assert GatewayStatusChanged.from_json(json.dumps(payload)) == event


_DELETE = object()


def _payload(**changes: Any) -> bytes:
    """A valid event's JSON with some fields replaced (or deleted with _DELETE)."""
    payload = json.loads(make_event().to_json())
    for key, value in changes.items():
        if value is _DELETE:
            del payload[key]
        else:
            payload[key] = value
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"{not json", id="not-json"),
        pytest.param(b"\xff\xfe\x00", id="not-utf8"),
        pytest.param(b"[1, 2]", id="array"),
        pytest.param(b'"a string"', id="string"),
        pytest.param(b"[" * 100_000, id="deeply-nested"),
        pytest.param(_payload(type=_DELETE), id="no-type"),
        pytest.param(_payload(type="gateway.deleted"), id="other-type"),
        pytest.param(_payload(gateway_id=_DELETE), id="missing-gateway-id"),
        pytest.param(_payload(owner_id=None), id="null-owner-id"),
        pytest.param(_payload(gateway_id="not-a-uuid"), id="bad-uuid"),
        pytest.param(_payload(gateway_id=123), id="uuid-as-number"),
        pytest.param(_payload(organization_id=["x"]), id="org-as-list"),
        pytest.param(_payload(status="DEGRADED"), id="unknown-status"),
        pytest.param(_payload(previous_status=1), id="status-as-number"),
        pytest.param(_payload(error=42), id="error-as-number"),
        pytest.param(_payload(occurred_at="yesterday"), id="bad-timestamp"),
        pytest.param(_payload(occurred_at="2026-01-01T12:00:00"), id="naive-timestamp"),
        pytest.param(_payload(event_id=_DELETE), id="missing-event-id"),
    ],
)
def test_malformed_input_raises_value_error(data: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the contract is "ValueError", whatever the message
        GatewayStatusChanged.from_json(data)


def test_the_status_version_survives_the_wire() -> None:
    event = make_event(version=7)
    assert GatewayStatusChanged.from_json(event.to_json()).version == 7


def test_an_event_without_a_version_is_from_an_older_release() -> None:
    payload = json.loads(make_event(version=3).to_json())
    del payload["version"]
    assert GatewayStatusChanged.from_json(json.dumps(payload)).version == 0


@pytest.mark.parametrize("version", [-1, "2", True, 1.5, None])
def test_a_bad_version_is_refused(version: object) -> None:
    payload = json.loads(make_event().to_json())
    payload["version"] = version
    with pytest.raises(ValueError, match="version"):
        GatewayStatusChanged.from_json(json.dumps(payload))


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_an_event_with_non_standard_json_is_refused(constant: bytes) -> None:
    # Even in a field this release ignores: it is not JSON, and no release writes it.
    data = _payload()[:-1] + b', "added_later": ' + constant + b"}"
    with pytest.raises(ValueError, match="not valid JSON"):
        GatewayStatusChanged.from_json(data)
