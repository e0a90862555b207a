"""The background health checker: every interval, each live gateway gets one cheap check.

Several server processes may run it at once. Each pass *claims* the gateways it will check by
stamping `health_checked_at` inside a transaction that locks the rows with SKIP LOCKED (on
PostgreSQL), so a gateway is claimed by one process per interval and the others pass it by.
Within a process a lock keeps passes from overlapping (the serve loop and a manual run).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from app.auth.service import AuthService
from app.core.circuit_breaker import BreakerRegistry, CircuitState
from app.core.clock import Clock
from app.gateways.enums import GatewayStatus
from app.gateways.lifecycle import GatewayLifecycle
from app.gateways.models import Gateway
from app.webhooks.inbox import prune_updates, retention_cutoff

log = logging.getLogger("app.health_checker")

CHECKED_STATUSES = (GatewayStatus.CONNECTED, GatewayStatus.ERROR)
CLAIM_BATCH = 100


@dataclass(slots=True)
class CheckReport:
    checked: int = 0
    healthy: int = 0
    failed: int = 0
    skipped_open_circuit: int = 0
    pruned_updates: int = 0
    pruned_auth_rows: int = 0
    failures: dict[UUID, str] = field(default_factory=dict)


class HealthChecker:
    def __init__(
        self,
        *,
        lifecycle: GatewayLifecycle,
        breakers: BreakerRegistry,
        clock: Clock,
        interval: float,
        retention_days: int,
        concurrency: int = 8,
        check_timeout: float = 20.0,
        auth: AuthService | None = None,
        on_pass: Callable[[CheckReport], None] | None = None,
    ) -> None:
        self._auth = auth
        self._on_pass = on_pass  # metrics
        self._lifecycle = lifecycle
        self._breakers = breakers
        self._clock = clock
        self._interval = interval
        self._retention_days = retention_days
        self._concurrency = concurrency
        self._check_timeout = check_timeout
        self._pass_lock = asyncio.Lock()

    async def claim(self, limit: int = CLAIM_BATCH) -> list[Gateway]:
        """Claim up to `limit` gateways due for a check in this interval."""
        now = self._clock.now()
        # A little slack so a pass that starts a moment early still finds last pass's claims due.
        due_before = now - timedelta(seconds=self._interval * 0.9)
        async with in_transaction():
            rows = (
                await Gateway.filter(
                    Q(health_checked_at__isnull=True) | Q(health_checked_at__lt=due_before),
                    status__in=CHECKED_STATUSES,
                )
                .order_by("health_checked_at", "id")
                .limit(limit)
                .select_for_update(skip_locked=True)
            )
            if rows:
                await Gateway.filter(id__in=[r.id for r in rows]).update(health_checked_at=now)
        return list(rows)

    async def run_once(self) -> CheckReport:
        async with self._pass_lock:
            report = CheckReport()
            semaphore = asyncio.Semaphore(self._concurrency)
            while batch := await self.claim():
                await asyncio.gather(*(self._check(g, semaphore, report) for g in batch))
                if len(batch) < CLAIM_BATCH:
                    break
            cutoff = retention_cutoff(self._clock.now(), self._retention_days)
            report.pruned_updates = await prune_updates(cutoff)
            if self._auth is not None:
                report.pruned_auth_rows = await self._auth.prune()
            log.info(
                "health_checker.pass.completed",
                extra={
                    "checked": report.checked,
                    "failed": report.failed,
                    "skipped": report.skipped_open_circuit,
                    "pruned": report.pruned_updates,
                    "pruned_auth": report.pruned_auth_rows,
                },
            )
            if self._on_pass is not None:
                self._on_pass(report)
            return report

    async def _check(
        self, gateway: Gateway, semaphore: asyncio.Semaphore, report: CheckReport
    ) -> None:
        breaker = self._breakers.peek(str(gateway.id))
        if breaker is not None and breaker.state in (CircuitState.OPEN, CircuitState.FORCED_OPEN):
            # The breaker already knows the upstream is failing; probing would only add load.
            report.skipped_open_circuit += 1
            return
        async with semaphore:
            try:
                error = await self._lifecycle.background_check(
                    gateway, time_limit=self._check_timeout
                )
            except Exception:
                # One gateway's unexpected failure must not end the pass for all the others.
                log.exception("health_checker.check.crashed", extra={"gateway_id": str(gateway.id)})
                error = "unexpected error during the check"
        report.checked += 1
        if error is None:
            report.healthy += 1
        else:
            report.failed += 1
            report.failures[gateway.id] = error

    async def run_forever(self) -> None:
        """The serve loop: a pass, then wait the interval; never two passes at once."""
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("health_checker.pass.failed")
            await asyncio.sleep(self._interval)
