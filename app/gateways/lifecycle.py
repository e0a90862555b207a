"""Gateway lifecycle against upstreams: connect, disconnect, test, execute, reset, delete.

Every upstream call runs inside the gateway's own circuit breaker, and every status change goes
through `StatusChanger`. Role rules: MEMBER may read and test; everything that acts on an
upstream on the scope's behalf (connect, disconnect, actions, messages, chats, reset) needs ADMIN
or OWNER, as in the personal scope where the user is the owner.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from app.audit.service import audit
from app.core.circuit_breaker import (
    BreakerConfig,
    BreakerRegistry,
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
)
from app.core.clock import Clock
from app.errors import FieldIssue, ValidationFailedError
from app.gateways.enums import GatewayStatus, GatewayType
from app.gateways.models import Gateway
from app.gateways.service import GatewayService
from app.gateways.vault import DecryptionError
from app.providers.base import (
    AuthInvalidError,
    GatewayHandle,
    ProviderError,
    RateLimitedError,
    UnsupportedActionError,
)
from app.providers.registry import ProviderRegistry
from app.service_context import ServiceContext

log = logging.getLogger("app.gateways")
T = TypeVar("T")

# Telegram trips sooner: its Bot API is one upstream shared by every bot, and a failing
# Telegram is better noticed after three failures than five.
FAILURE_THRESHOLDS: dict[GatewayType, int] = {
    GatewayType.TELEGRAM_BOT: 3,
    GatewayType.AI: 5,
    GatewayType.WEBHOOK: 5,
}


def build_breaker_configs(
    *, reset_timeout: float = 30.0, monitor_window: float = 60.0
) -> dict[GatewayType, BreakerConfig]:
    return {
        gateway_type: BreakerConfig(
            failure_threshold=threshold, reset_timeout=reset_timeout, monitor_window=monitor_window
        )
        for gateway_type, threshold in FAILURE_THRESHOLDS.items()
    }


LIVE_STATUSES = (GatewayStatus.CONNECTED, GatewayStatus.ERROR)
# Deleting a gateway tries to remove its Telegram webhook, but never waits long for it.
DELETE_CLEANUP_TIMEOUT = 5.0


def hash_webhook_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class TestOutcome:
    success: bool
    latency_ms: float | None
    error: str | None
    details: dict[str, Any]
    tested_at: datetime
    gateway: Gateway


class GatewayLifecycle:
    def __init__(
        self,
        *,
        gateways: GatewayService,
        providers: ProviderRegistry,
        breakers: BreakerRegistry,
        clock: Clock,
        breaker_configs: Mapping[GatewayType, BreakerConfig] | None = None,
    ) -> None:
        self._gateways = gateways
        self._providers = providers
        self._breakers = breakers
        self._clock = clock
        self._breaker_configs = dict(breaker_configs or build_breaker_configs())
        gateways.on_credentials_dropped(self._forget_breaker)

    async def _forget_breaker(self, gateway: Gateway) -> None:
        self._breakers.drop(str(gateway.id))

    def breaker(self, gateway: Gateway) -> CircuitBreaker:
        return self._breakers.get(str(gateway.id), self._breaker_configs[gateway.type])

    def _handle(self, gateway: Gateway) -> GatewayHandle:
        try:
            credentials = self._gateways.vault.open(gateway)
        except DecryptionError:
            raise AuthInvalidError(
                "The stored credentials cannot be decrypted; enter new credentials."
            ) from None
        return GatewayHandle(
            id=gateway.id, type=gateway.type, credentials=credentials, config=dict(gateway.config)
        )

    async def _guarded(self, gateway: Gateway, fn: Callable[[], Awaitable[T]]) -> T:
        return await self.breaker(gateway).call(fn)

    async def _status(
        self,
        gateway: Gateway,
        status: GatewayStatus,
        *,
        ctx: ServiceContext | None,
        cause: str,
        error: str | None = None,
    ) -> Gateway:
        changed = await self._gateways.status.change(
            gateway.id, status, error=error, ctx=ctx, cause=cause
        )
        return changed or gateway

    # ---------------------------------------------------------------- connect / disconnect

    async def connect(self, ctx: ServiceContext, gateway_id: UUID | None) -> Gateway:
        gateway = await self._gateways.require(ctx, gateway_id)
        ctx.require_write("connect gateways")
        provider = self._providers.get(gateway.type)
        gateway = await self._status(gateway, GatewayStatus.CONNECTING, ctx=ctx, cause="connect")
        try:
            handle = self._handle(gateway)
            result = await self._guarded(gateway, lambda: provider.connect(handle))
        except (ProviderError, CircuitOpenError) as exc:
            message = _failure_message(exc)
            await self._status(
                gateway, GatewayStatus.ERROR, ctx=ctx, cause="connect", error=message
            )
            await audit(ctx, "gateway.connect", gateway_id=gateway.id, metadata=_failed(exc))
            raise
        config = {**gateway.config, **result.config_updates}
        secret_hash = hash_webhook_secret(result.webhook_secret) if result.webhook_secret else None
        await Gateway.filter(id=gateway.id).update(config=config, webhook_secret_hash=secret_hash)
        gateway = await self._status(gateway, GatewayStatus.CONNECTED, ctx=ctx, cause="connect")
        await audit(ctx, "gateway.connect", gateway_id=gateway.id, metadata={"success": True})
        return await Gateway.get(id=gateway.id)

    async def disconnect(self, ctx: ServiceContext, gateway_id: UUID | None) -> Gateway:
        gateway = await self._gateways.require(ctx, gateway_id)
        ctx.require_write("disconnect gateways")
        provider = self._providers.get(gateway.type)
        upstream_cleaned = True
        try:
            handle = self._handle(gateway)  # undecryptable credentials raise AuthInvalidError
            await self._guarded(gateway, lambda: provider.disconnect(handle))
        except (AuthInvalidError, CircuitOpenError) as exc:
            # Either the upstream no longer accepts these credentials (or we can no longer read
            # them), or its circuit is open because it keeps failing: nothing it holds can be
            # removed now, but taking the gateway down locally must still be possible. Its
            # webhook secret is cleared below, so a leftover webhook is refused with 401.
            upstream_cleaned = False
            log.warning(
                "gateway.disconnect.upstream_skipped",
                extra={"gateway_id": str(gateway.id), "reason": type(exc).__name__},
            )
        await Gateway.filter(id=gateway.id).update(webhook_secret_hash=None)
        gateway = await self._status(
            gateway, GatewayStatus.DISCONNECTED, ctx=ctx, cause="disconnect"
        )
        await audit(
            ctx,
            "gateway.disconnect",
            gateway_id=gateway.id,
            metadata={"upstreamCleaned": upstream_cleaned},
        )
        return await Gateway.get(id=gateway.id)

    async def delete(self, ctx: ServiceContext, gateway_id: UUID | None) -> UUID:
        gateway = await self._gateways.require(ctx, gateway_id)
        ctx.require_write("delete gateways")
        if gateway.webhook_secret_hash is not None:
            await self._best_effort_disconnect(gateway)
        return await self._gateways.delete(ctx, gateway.id)

    async def _best_effort_disconnect(self, gateway: Gateway) -> None:
        provider = self._providers.get(gateway.type)
        try:
            handle = self._handle(gateway)
            async with asyncio.timeout(DELETE_CLEANUP_TIMEOUT):
                await provider.disconnect(handle)
        except (ProviderError, TimeoutError) as exc:
            # Deleting must not fail because the upstream is down: the webhook then points at a
            # route that answers 404 for this gateway, and Telegram gives up on it.
            log.warning(
                "gateway.delete.cleanup_failed",
                extra={"gateway_id": str(gateway.id), "error": type(exc).__name__},
            )

    # ---------------------------------------------------------------- test / execute

    async def test(self, ctx: ServiceContext, gateway_id: UUID | None) -> TestOutcome:
        gateway = await self._gateways.require(ctx, gateway_id)
        provider = self._providers.get(gateway.type)
        started = time.perf_counter()
        error: str | None = None
        circuit_open = False
        details: dict[str, Any] = {}
        try:
            handle = self._handle(gateway)
            details = (await self._guarded(gateway, lambda: provider.check_health(handle))).details
        except (ProviderError, CircuitOpenError) as exc:
            error = _failure_message(exc)
            details = {"code": _failed(exc)["code"]}
            # The breaker already put the gateway in ERROR with the failure that opened it;
            # "circuit open" would only replace that cause with a less useful message.
            circuit_open = isinstance(exc, CircuitOpenError)
        latency_ms = round((time.perf_counter() - started) * 1000, 2)
        if error is not None and not circuit_open:
            gateway = await self._status(
                gateway, GatewayStatus.ERROR, ctx=ctx, cause="test", error=error
            )
        elif error is None and gateway.status is GatewayStatus.ERROR and self._is_live(gateway):
            gateway = await self._status(gateway, GatewayStatus.CONNECTED, ctx=ctx, cause="test")
        await audit(
            ctx,
            "gateway.test",
            gateway_id=gateway.id,
            metadata={"success": error is None, "latencyMs": latency_ms},
        )
        return TestOutcome(
            success=error is None,
            latency_ms=latency_ms,
            error=error,
            details=details,
            tested_at=self._clock.now(),
            gateway=await Gateway.get(id=gateway.id),
        )

    async def background_check(self, gateway: Gateway, *, time_limit: float) -> str | None:
        """The health checker's check: None when healthy, else the reason.

        Never audited per run (a check every few minutes per gateway would drown the trail);
        status changes it causes are audited by the status function like any other. A
        rate-limited upstream is throttling, not down: it leaves the status as it is.
        """
        provider = self._providers.get(gateway.type)
        try:
            handle = self._handle(gateway)
            async with asyncio.timeout(time_limit):
                await self._guarded(gateway, lambda: provider.check_health(handle))
        except RateLimitedError:
            return None
        except TimeoutError:
            error: str | None = f"TIMEOUT: no answer within {time_limit:g} s"
        except (ProviderError, CircuitOpenError) as exc:
            error = _failure_message(exc)
        else:
            error = None
        # `gateway` was read when the pass claimed it; the user may have disconnected it or
        # replaced its credentials while the check ran. The verdict applies only to a gateway
        # that is still live, judged as it is now (re-read here, and re-checked under the row
        # lock by `only_from`).
        current = await Gateway.get_or_none(id=gateway.id)
        if current is None or current.status not in LIVE_STATUSES:
            return error
        if error is not None:
            await self._gateways.status.change(
                current.id,
                GatewayStatus.ERROR,
                error=error,
                cause="health_check",
                only_from=LIVE_STATUSES,
            )
        elif current.status is GatewayStatus.ERROR and self._is_live(current):
            await self._gateways.status.change(
                current.id,
                GatewayStatus.CONNECTED,
                cause="health_check",
                only_from=(GatewayStatus.ERROR,),
            )
        return error

    @staticmethod
    def _is_live(gateway: Gateway) -> bool:
        """Whether a passing check means CONNECTED: a Telegram bot also needs its webhook set."""
        return gateway.type is not GatewayType.TELEGRAM_BOT or bool(gateway.webhook_secret_hash)

    async def execute(
        self,
        ctx: ServiceContext,
        gateway_id: UUID | None,
        action: str,
        params: Mapping[str, Any],
        *,
        expect_type: GatewayType | None = None,
    ) -> tuple[dict[str, Any], Gateway]:
        gateway = await self._gateways.require(ctx, gateway_id)
        ctx.require_write("run gateway actions")
        if expect_type is not None and gateway.type is not expect_type:
            raise ValidationFailedError(
                [FieldIssue("gatewayId", f"This is not a {expect_type.value} gateway.")]
            )
        provider = self._providers.get(gateway.type)
        supported = [a.name for a in provider.actions]
        if action not in supported:
            raise UnsupportedActionError(action, supported)
        handle = self._handle(gateway)
        try:
            data = await self._guarded(gateway, lambda: provider.execute(handle, action, params))
        except (ProviderError, CircuitOpenError) as exc:
            await audit(
                ctx,
                "gateway.execute",
                gateway_id=gateway.id,
                metadata={"action": action, **_failed(exc)},
            )
            raise
        await audit(
            ctx,
            "gateway.execute",
            gateway_id=gateway.id,
            metadata={"action": action, "success": True},
        )
        # Re-read: the call may have closed the circuit and so changed the status.
        return data, await Gateway.get(id=gateway.id)

    async def reset_circuit(self, ctx: ServiceContext, gateway_id: UUID | None) -> Gateway:
        gateway = await self._gateways.require(ctx, gateway_id)
        ctx.require_write("reset circuits")
        breaker = self._breakers.peek(str(gateway.id))
        previous = breaker.state if breaker else CircuitState.CLOSED
        if breaker is not None:
            await breaker.reset()
        await audit(
            ctx,
            "gateway.circuit_reset",
            gateway_id=gateway.id,
            metadata={"previousState": previous.value},
        )
        return await Gateway.get(id=gateway.id)

    # ---------------------------------------------------------------- breaker → status

    async def on_breaker_state_change(
        self, key: str, old: CircuitState, new: CircuitState, cause: BaseException | None
    ) -> None:
        """Reflect the breaker on the gateway: OPEN → ERROR, closed again → CONNECTED."""
        gateway = await Gateway.get_or_none(id=key)
        if gateway is None:
            return
        if new is CircuitState.OPEN:
            reason = _failure_message(cause) if cause is not None else "upstream failing"
            await self._status(
                gateway,
                GatewayStatus.ERROR,
                ctx=None,
                cause="breaker",
                error=f"circuit open: {reason}",
            )
        elif (
            new is CircuitState.CLOSED
            and gateway.status is GatewayStatus.ERROR
            # Only undo what the breaker did: an ERROR from a failed test or connect stays.
            and (gateway.last_error or "").startswith("circuit open")
            and self._is_live(gateway)
        ):
            await self._status(gateway, GatewayStatus.CONNECTED, ctx=None, cause="breaker")


def _failure_message(exc: BaseException) -> str:
    if isinstance(exc, ProviderError):
        return f"{exc.code.value}: {exc.message}"
    if isinstance(exc, CircuitOpenError):
        return f"circuit open; retry in {exc.retry_after:.0f} s"
    return type(exc).__name__


def _failed(exc: BaseException) -> dict[str, Any]:
    code = exc.code.value if isinstance(exc, ProviderError) else "CIRCUIT_OPEN"
    return {"success": False, "code": code}
