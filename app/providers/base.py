"""What every provider implements, and the one error tree every upstream failure maps to.

    ProviderError                 code             retryable  breaker failure
     ├── AuthInvalidError         AUTH_INVALID     no         no
     ├── PermissionDeniedError    PERMISSION       no         no
     ├── QuotaExhaustedError      QUOTA_EXHAUSTED  no         no
     ├── RateLimitedError         RATE_LIMITED     yes        yes
     ├── UnavailableError         UNAVAILABLE      yes        yes
     ├── UpstreamTimeoutError     TIMEOUT          yes        yes
     └── BadRequestError          BAD_REQUEST      no         no

Only an upstream that is unwell (down, slow, throttling) counts against its gateway's circuit
breaker: a user's bad request, a bad key or an exhausted quota says nothing about the upstream's
health, so it must never open the circuit for everybody else's calls.

Messages carry the upstream's own description where it helps the user, never a credential.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Protocol
from uuid import UUID

from app.gateways.credentials import Credentials
from app.gateways.enums import AIProvider, GatewayType


class ProviderErrorCode(StrEnum):
    AUTH_INVALID = "AUTH_INVALID"
    PERMISSION = "PERMISSION"
    QUOTA_EXHAUSTED = "QUOTA_EXHAUSTED"
    RATE_LIMITED = "RATE_LIMITED"
    UNAVAILABLE = "UNAVAILABLE"
    TIMEOUT = "TIMEOUT"
    BAD_REQUEST = "BAD_REQUEST"


class ProviderError(Exception):
    code: ClassVar[ProviderErrorCode]
    retryable: ClassVar[bool] = False
    counts_as_breaker_failure: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        upstream_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.upstream_status = upstream_status
        self.retry_after = retry_after


class AuthInvalidError(ProviderError):
    code = ProviderErrorCode.AUTH_INVALID


class PermissionDeniedError(ProviderError):
    code = ProviderErrorCode.PERMISSION


class QuotaExhaustedError(ProviderError):
    code = ProviderErrorCode.QUOTA_EXHAUSTED


class RateLimitedError(ProviderError):
    code = ProviderErrorCode.RATE_LIMITED
    retryable = True
    counts_as_breaker_failure = True


class UnavailableError(ProviderError):
    code = ProviderErrorCode.UNAVAILABLE
    retryable = True
    counts_as_breaker_failure = True


class UpstreamTimeoutError(ProviderError):
    code = ProviderErrorCode.TIMEOUT
    retryable = True
    counts_as_breaker_failure = True


class BadRequestError(ProviderError):
    code = ProviderErrorCode.BAD_REQUEST


def is_breaker_failure(exc: BaseException) -> bool:
    """The predicate circuit breakers use to decide whether an exception counts against them."""
    if not isinstance(exc, ProviderError) or not exc.counts_as_breaker_failure:
        return False
    # A RATE_LIMITED without an upstream status is our own outgoing throttle refusing to send:
    # the upstream was never asked, so it says nothing about the upstream's health.
    return not (isinstance(exc, RateLimitedError) and exc.upstream_status is None)


def retry_after_of(exc: BaseException) -> float | None:
    return exc.retry_after if isinstance(exc, ProviderError) else None


class UnsupportedActionError(Exception):
    def __init__(self, action: str, supported: Sequence[str]) -> None:
        super().__init__(f"Action {action!r} is not supported; supported: {', '.join(supported)}.")
        self.action = action
        self.supported = list(supported)


@dataclass(frozen=True, slots=True)
class ParamError:
    """One invalid action parameter; `field` is a dotted path into the params object."""

    field: str
    message: str


class ActionParamsError(Exception):
    """The params of an action are invalid; raised before any upstream call is made."""

    def __init__(self, errors: Sequence[ParamError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = list(errors)


@dataclass(frozen=True, slots=True)
class ActionSpec:
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class GatewayHandle:
    """What a provider needs of a gateway: no ORM object crosses into the provider layer."""

    id: UUID
    type: GatewayType
    credentials: Credentials
    config: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Outcome of a successful credential or health check: provider-specific facts."""

    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConnectResult:
    """What connecting changed: config keys to merge, and the webhook secret if one was set.

    The secret is returned in clear exactly once so the caller can store its hash; it is never
    persisted or logged as is.
    """

    config_updates: dict[str, Any] = field(default_factory=dict)
    webhook_secret: str | None = field(default=None, repr=False)


class Provider(Protocol):
    type: GatewayType
    name: str
    description: str
    actions: Sequence[ActionSpec]
    ai_providers: Sequence[AIProvider]

    async def validate_credentials(self, gateway: GatewayHandle) -> CheckResult:
        """The cheapest authenticated upstream call that proves the credentials work."""
        ...

    async def connect(self, gateway: GatewayHandle) -> ConnectResult: ...

    async def disconnect(self, gateway: GatewayHandle) -> None: ...

    async def check_health(self, gateway: GatewayHandle) -> CheckResult:
        """A cheap check (never a paid call) used by testGateway and the health checker."""
        ...

    async def execute(
        self, gateway: GatewayHandle, action: str, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Run a named action; raises UnsupportedActionError, ActionParamsError, ProviderError."""
        ...
