"""StatusChanger: the one way a gateway's status changes; one audit record and one event each."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from app.audit.models import AuditEvent
from app.core.clock import FakeClock
from app.events.broker import Subscription
from app.events.types import GatewayStatusChanged
from app.gateways import status as status_module
from app.gateways.enums import GatewayStatus
from app.gateways.models import Gateway
from app.gateways.status import StatusChanger
from app.gateways.status_events import LatestOnly
from app.service_context import ServiceContext
from tests.support.harness import Harness

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CREATE = """mutation($input: CreateGatewayInput!) { createGateway(input: $input) {
  __typename ... on Gateway { id } } }"""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


async def new_gateway(h: Harness, org: bool = False) -> Gateway:
    token = await h.register(f"user{len(h.tokens)}@example.com")
    org_id = await h.create_org(token, "Org", f"org-{len(h.tokens)}") if org else None
    data = {
        "name": "gw",
        "type": "TELEGRAM_BOT",
        "credentials": {"telegramBot": {"botToken": "123456789:" + "A" * 35}},
    }
    result = (await h.gql(CREATE, {"input": data}, token=token, org=org_id))["createGateway"]
    return await Gateway.get(id=result["id"])


async def next_event(sub: Subscription) -> GatewayStatusChanged:
    return await asyncio.wait_for(anext(sub), timeout=2)


async def status_audits(gateway_id: UUID) -> list[dict[str, Any]]:
    rows = (
        await AuditEvent.filter(gateway_id=gateway_id, action="gateway.status_change")
        .order_by("created_at", "id")
        .values("metadata", "actor_id", "organization_id", "scope_user_id")
    )
    return list(rows)


async def test_each_change_writes_audits_and_publishes_one_event(
    any_harness: Harness, clock: FakeClock
) -> None:
    gateway = await new_gateway(any_harness)
    changer = any_harness.services.gateways.status
    ctx = ServiceContext(user_id=gateway.owner_id, ip_address="198.51.100.1")
    async with any_harness.services.broker.subscribe() as sub:
        row = await changer.change(gateway.id, GatewayStatus.CONNECTED, ctx=ctx, cause="test")
        assert row is not None
        assert row.status is GatewayStatus.CONNECTED
        assert row.last_connected_at == START
        event = await next_event(sub)
        assert sub.pending == 0
        assert (event.gateway_id, event.owner_id, event.organization_id) == (
            gateway.id,
            gateway.owner_id,
            None,
        )
        assert (event.previous_status, event.status, event.error) == (
            GatewayStatus.DISCONNECTED,
            GatewayStatus.CONNECTED,
            None,
        )
        assert event.occurred_at == START

        clock.advance(60)
        await changer.change(
            gateway.id, GatewayStatus.ERROR, error="upstream down", ctx=None, cause="breaker"
        )
        event = await next_event(sub)
        assert sub.pending == 0
        assert (event.previous_status, event.status, event.error) == (
            GatewayStatus.CONNECTED,
            GatewayStatus.ERROR,
            "upstream down",
        )

    stored = await Gateway.get(id=gateway.id)
    assert stored.status is GatewayStatus.ERROR
    assert stored.last_error == "upstream down"
    assert stored.last_error_at == START.replace(minute=1)
    assert stored.last_connected_at == START

    first, second = await status_audits(gateway.id)
    assert first["metadata"] == {
        "previousStatus": "DISCONNECTED",
        "status": "CONNECTED",
        "error": None,
        "cause": "test",
    }
    assert first["actor_id"] == gateway.owner_id
    assert first["scope_user_id"] == gateway.owner_id
    assert second["metadata"]["previousStatus"] == "CONNECTED"
    assert second["metadata"]["status"] == "ERROR"
    assert second["metadata"]["cause"] == "breaker"
    # A system change has no actor but stays in the gateway's tenant scope.
    assert second["actor_id"] is None
    assert second["scope_user_id"] == gateway.owner_id
    assert second["organization_id"] is None


async def test_organization_gateway_events_name_the_organization(any_harness: Harness) -> None:
    gateway = await new_gateway(any_harness, org=True)
    assert gateway.organization_id is not None
    async with any_harness.services.broker.subscribe() as sub:
        await any_harness.services.gateways.status.change(
            gateway.id, GatewayStatus.CONNECTING, cause="system"
        )
        event = await next_event(sub)
    assert event.organization_id == gateway.organization_id
    [audit] = await status_audits(gateway.id)
    assert audit["organization_id"] == gateway.organization_id
    assert audit["scope_user_id"] is None


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (GatewayStatus.CONNECTED, None),
        (GatewayStatus.CONNECTING, None),
        (GatewayStatus.ERROR, "same error"),
    ],
)
async def test_same_status_twice_is_a_no_op(
    any_harness: Harness, clock: FakeClock, status: GatewayStatus, error: str | None
) -> None:
    gateway = await new_gateway(any_harness)
    changer = any_harness.services.gateways.status
    await changer.change(gateway.id, status, error=error, cause="first")
    before = await Gateway.get(id=gateway.id)
    audits_before = await AuditEvent.all().count()
    clock.advance(30)
    async with any_harness.services.broker.subscribe() as sub:
        row = await changer.change(gateway.id, status, error=error, cause="again")
        assert row is not None
        assert row.status is status
        assert sub.pending == 0  # in-memory fan-out is synchronous: nothing was published
    after = await Gateway.get(id=gateway.id)
    assert after.updated_at == before.updated_at
    assert after.last_connected_at == before.last_connected_at
    assert after.last_error_at == before.last_error_at
    assert await AuditEvent.all().count() == audits_before


async def test_disconnected_to_disconnected_is_a_no_op(any_harness: Harness) -> None:
    gateway = await new_gateway(any_harness)
    async with any_harness.services.broker.subscribe() as sub:
        await any_harness.services.gateways.status.change(
            gateway.id, GatewayStatus.DISCONNECTED, cause="noop"
        )
        assert sub.pending == 0
    assert await status_audits(gateway.id) == []


async def test_error_with_a_new_message_is_a_change(any_harness: Harness) -> None:
    gateway = await new_gateway(any_harness)
    changer = any_harness.services.gateways.status
    async with any_harness.services.broker.subscribe() as sub:
        await changer.change(gateway.id, GatewayStatus.ERROR, error="first", cause="t")
        await changer.change(gateway.id, GatewayStatus.ERROR, error="second", cause="t")
        events = [await next_event(sub), await next_event(sub)]
        assert sub.pending == 0
    assert [(e.previous_status, e.status, e.error) for e in events] == [
        (GatewayStatus.DISCONNECTED, GatewayStatus.ERROR, "first"),
        (GatewayStatus.ERROR, GatewayStatus.ERROR, "second"),
    ]
    assert (await Gateway.get(id=gateway.id)).last_error == "second"
    assert len(await status_audits(gateway.id)) == 2


async def test_error_text_is_dropped_for_other_statuses_and_truncated(
    any_harness: Harness,
) -> None:
    gateway = await new_gateway(any_harness)
    changer = any_harness.services.gateways.status
    async with any_harness.services.broker.subscribe() as sub:
        await changer.change(gateway.id, GatewayStatus.CONNECTED, error="ignored", cause="t")
        assert (await next_event(sub)).error is None
        await changer.change(gateway.id, GatewayStatus.ERROR, error="x" * 5000, cause="t")
        assert (await next_event(sub)).error == "x" * 1000
    stored = await Gateway.get(id=gateway.id)
    assert stored.last_error == "x" * 1000


async def test_missing_gateway_returns_none_without_audit_or_event(any_harness: Harness) -> None:
    async with any_harness.services.broker.subscribe() as sub:
        result = await any_harness.services.gateways.status.change(
            UUID("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"), GatewayStatus.CONNECTED, cause="t"
        )
        assert result is None
        assert sub.pending == 0
    assert await AuditEvent.filter(action="gateway.status_change").count() == 0


async def test_a_failed_write_publishes_nothing(
    any_harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = await new_gateway(any_harness)

    async def broken_audit(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(status_module, "audit", broken_audit)
    async with any_harness.services.broker.subscribe() as sub:
        with pytest.raises(RuntimeError, match="audit table unavailable"):
            await any_harness.services.gateways.status.change(
                gateway.id, GatewayStatus.CONNECTED, cause="t"
            )
        assert sub.pending == 0
    # The status write was rolled back with the failed audit.
    stored = await Gateway.get(id=gateway.id)
    assert stored.status is GatewayStatus.DISCONNECTED
    assert stored.last_connected_at is None


class CommittedProbe:
    """A publisher that looks at the database through its own connection when it is called.

    Another connection sees only committed data, so what it reads proves whether the change
    was committed before the event went out.
    """

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.seen: list[tuple[GatewayStatusChanged, str, int]] = []

    async def _committed(self, gateway_id: UUID) -> tuple[str, int]:
        status_sql = "SELECT status FROM gateways WHERE id = {p}"
        audit_sql = "SELECT COUNT(*) FROM audit_events WHERE gateway_id = {p}"
        if self.database_url.startswith("sqlite://"):
            path = self.database_url.removeprefix("sqlite://")
            with sqlite3.connect(path) as conn:
                # Tortoise stores UUIDs as text on SQLite.
                (status,) = conn.execute(status_sql.format(p="?"), (str(gateway_id),)).fetchone()
                (count,) = conn.execute(audit_sql.format(p="?"), (str(gateway_id),)).fetchone()
            conn.close()
            return status, count
        conn = await asyncpg.connect("postgresql://" + self.database_url.split("://", 1)[1])
        try:
            status = await conn.fetchval(status_sql.format(p="$1"), gateway_id)
            count = await conn.fetchval(audit_sql.format(p="$1"), gateway_id)
        finally:
            await conn.close()
        return status, count

    async def publish(self, event: GatewayStatusChanged) -> None:
        status, audits = await self._committed(event.gateway_id)
        self.seen.append((event, status, audits))


async def test_event_is_published_after_commit(any_harness: Harness, clock: FakeClock) -> None:
    gateway = await new_gateway(any_harness)
    probe = CommittedProbe(any_harness.settings.database_url)
    changer = StatusChanger(publisher=probe, clock=clock)
    assert await probe._committed(gateway.id) == ("DISCONNECTED", 1)  # gateway.create

    await changer.change(gateway.id, GatewayStatus.CONNECTED, cause="t")
    await changer.change(gateway.id, GatewayStatus.ERROR, error="boom", cause="t")

    assert [(e.status, status, audits) for e, status, audits in probe.seen] == [
        (GatewayStatus.CONNECTED, "CONNECTED", 2),
        (GatewayStatus.ERROR, "ERROR", 3),
    ]


class SlowFirstPublisher:
    """Delivers to the real broker, but holds the first event until told to let it go: what a
    slow Redis round trip, or a task switch between commit and publish, does to one change."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.first_waiting = asyncio.Event()
        self.release = asyncio.Event()
        self.calls = 0

    async def publish(self, event: GatewayStatusChanged) -> None:
        self.calls += 1
        if self.calls == 1:
            self.first_waiting.set()
            await self.release.wait()
        await self.inner.publish(event)


async def test_a_late_event_is_dropped_by_the_subscription(any_harness: Harness) -> None:
    gateway = await new_gateway(any_harness)
    slow = SlowFirstPublisher(any_harness.services.broker)
    changer = StatusChanger(publisher=slow, clock=FakeClock(START))
    async with any_harness.services.broker.subscribe() as sub:
        first = asyncio.create_task(changer.change(gateway.id, GatewayStatus.CONNECTED, cause="a"))
        await asyncio.wait_for(slow.first_waiting.wait(), timeout=2)  # committed, not published
        await changer.change(gateway.id, GatewayStatus.ERROR, error="late", cause="b")
        slow.release.set()
        await asyncio.wait_for(first, timeout=2)
        received = [await next_event(sub), await next_event(sub)]
    stored = await Gateway.get(id=gateway.id)
    # The broker delivered them in publish order: the later change first.
    assert [e.status for e in received] == [GatewayStatus.ERROR, GatewayStatus.CONNECTED]
    # What a subscription delivers: the stale one is dropped, the last word is the stored one.
    latest = LatestOnly()
    delivered = [e for e in received if latest.is_current(e)]
    assert [e.status for e in delivered] == [stored.status] == [GatewayStatus.ERROR]
    assert [e.version for e in received] == [stored.status_version, stored.status_version - 1]
