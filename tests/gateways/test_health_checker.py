"""The background health checker with fake upstreams and a fake clock.

Each bot has its own token, so the fake Bot API knows from the URL which gateway a check is for
and the tests can count upstream requests per gateway.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from app.audit.models import AuditEvent
from app.core.circuit_breaker import CircuitState
from app.core.clock import FakeClock, utcnow
from app.gateways import health_checker as health_checker_module
from app.gateways.enums import GatewayStatus
from app.gateways.health_checker import HealthChecker
from app.gateways.lifecycle import hash_webhook_secret
from app.gateways.models import Gateway
from app.providers.base import UnavailableError
from app.webhooks.models import TelegramUpdate
from tests.support import databases
from tests.support.harness import Harness, make_settings, running_app
from tests.support.upstreams import FakeUpstreams

TELEGRAM_HOST = "api.telegram.test"
LLM_HOST = "127.0.0.1"  # an IP literal: no DNS lookup for the outbound-target check
INTERVAL = 300.0  # the default HEALTH_CHECK_INTERVAL, which the harness leaves as is
TELEGRAM_RESET_TIMEOUT = 30.0

CREATE = """mutation($input: CreateGatewayInput!) { createGateway(input: $input) {
  __typename ... on Gateway { id } ... on Error { message } } }"""

Answer = Callable[[str], httpx.Response]


def ok(result: Any) -> httpx.Response:
    return httpx.Response(200, json={"ok": True, "result": result})


def fail(status: int, description: str, **parameters: Any) -> httpx.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return httpx.Response(status, json=body)


BOT_ID_BASE = 100_000  # Telegram bot ids in tokens have at least 5 digits


def token_for(bot_id: int) -> str:
    return f"{BOT_ID_BASE + bot_id}:AAHk-SECRET_token_value_abcdefghijklm"


@dataclass
class FakeBotApi:
    """getMe and getWebhookInfo for any bot; a bot can be told to answer otherwise."""

    calls: list[tuple[int, str]] = field(default_factory=list)
    answers: dict[int, Answer] = field(default_factory=dict)
    hung: set[int] = field(default_factory=set)
    # Runs while a bot's check is in flight, before the upstream answers.
    meanwhile: dict[int, Callable[[], Awaitable[None]]] = field(default_factory=dict)
    in_flight: int = 0
    max_in_flight: int = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        _, bot, method = request.url.path.split("/")
        bot_id = int(bot.removeprefix("bot").split(":", 1)[0]) - BOT_ID_BASE
        self.calls.append((bot_id, method))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            # Yield to the loop, so concurrent checks (and concurrent checkers) interleave.
            for _ in range(3):
                await asyncio.sleep(0)
            if bot_id in self.hung:
                await asyncio.Event().wait()  # never answers
            if (hook := self.meanwhile.pop(bot_id, None)) is not None:
                await hook()
            answer = self.answers.get(bot_id)
            if answer is not None:
                return answer(method)
            if method == "getMe":
                return ok({"id": bot_id, "is_bot": True, "first_name": "B", "username": "b"})
            if method == "getWebhookInfo":
                return ok({"url": "https://gateway.example.test/hook", "pending_update_count": 0})
            return fail(404, "Not Found")
        finally:
            self.in_flight -= 1

    def checked(self) -> Counter[int]:
        """How many health checks (getMe calls) each bot got."""
        return Counter(bot_id for bot_id, method in self.calls if method == "getMe")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=utcnow())


@pytest.fixture
def bot_api(upstreams: FakeUpstreams) -> FakeBotApi:
    fake = FakeBotApi()
    upstreams.route(TELEGRAM_HOST, fake)  # type: ignore[arg-type]
    return fake


@dataclass
class Fleet:
    """Telegram gateways created through GraphQL, by bot id."""

    h: Harness
    token: str
    ids: dict[int, UUID] = field(default_factory=dict)

    async def add(self, bot_id: int, status: GatewayStatus, *, webhook: bool = True) -> UUID:
        data = {
            "name": f"bot {bot_id}",
            "type": "TELEGRAM_BOT",
            "credentials": {"telegramBot": {"botToken": token_for(bot_id)}},
        }
        result = (await self.h.gql(CREATE, {"input": data}, token=self.token))["createGateway"]
        assert result["__typename"] == "Gateway", result
        gateway_id = UUID(result["id"])
        secret_hash = hash_webhook_secret(f"secret-{bot_id}") if webhook else None
        await Gateway.filter(id=gateway_id).update(status=status, webhook_secret_hash=secret_hash)
        self.ids[bot_id] = gateway_id
        return gateway_id


async def make_fleet(h: Harness) -> Fleet:
    return Fleet(h, await h.register("owner@example.test", "Owner"))


@pytest.fixture
async def fleet(harness: Harness) -> Fleet:
    return await make_fleet(harness)


@pytest.fixture
async def any_fleet(any_harness: Harness) -> Fleet:
    return await make_fleet(any_harness)


def checker_of(h: Harness, clock: FakeClock, **overrides: Any) -> HealthChecker:
    values: dict[str, Any] = {
        "lifecycle": h.services.lifecycle,
        "breakers": h.services.breakers,
        "clock": clock,
        "interval": INTERVAL,
        "retention_days": 7,
        **overrides,
    }
    return HealthChecker(**values)


async def status_of(gateway_id: UUID) -> GatewayStatus:
    return (await Gateway.get(id=gateway_id)).status


async def status_changes(gateway_id: UUID) -> list[dict[str, Any]]:
    events = await AuditEvent.filter(
        gateway_id=gateway_id, action="gateway.status_change"
    ).order_by("created_at", "id")
    return [e.metadata for e in events]


# ---------------------------------------------------------------- status changes


async def test_a_connected_gateway_whose_upstream_fails_goes_to_error(
    any_fleet: Fleet, bot_api: FakeBotApi, clock: FakeClock
) -> None:
    h = any_fleet.h
    failing = await any_fleet.add(1, GatewayStatus.CONNECTED)
    healthy = await any_fleet.add(2, GatewayStatus.CONNECTED)
    bot_api.answers[1] = lambda _: fail(401, "Unauthorized")

    async with h.services.broker.subscribe() as events:
        report = await h.services.health_checker.run_once()
        assert events.pending == 1
        event = await asyncio.wait_for(anext(events), 1)

    assert (report.checked, report.healthy, report.failed) == (2, 1, 1)
    assert report.failures == {failing: report.failures[failing]}
    assert report.failures[failing].startswith("AUTH_INVALID: ")
    assert event.gateway_id == failing
    assert (event.previous_status, event.status) == (GatewayStatus.CONNECTED, GatewayStatus.ERROR)
    assert event.error == report.failures[failing]
    row = await Gateway.get(id=failing)
    assert row.status is GatewayStatus.ERROR
    assert row.last_error == report.failures[failing]
    assert row.last_error_at == clock.now()
    assert (await status_changes(failing))[-1] == {
        "previousStatus": "CONNECTED",
        "status": "ERROR",
        "error": report.failures[failing],
        "cause": "health_check",
    }
    assert await status_of(healthy) is GatewayStatus.CONNECTED
    assert await status_changes(healthy) == []
    # A check is cheap: getMe and getWebhookInfo, never a message.
    assert {method for _, method in bot_api.calls} == {"getMe", "getWebhookInfo"}


async def test_an_error_gateway_whose_upstream_works_goes_back_to_connected(
    any_fleet: Fleet, bot_api: FakeBotApi, clock: FakeClock
) -> None:
    h = any_fleet.h
    gateway_id = await any_fleet.add(1, GatewayStatus.ERROR)

    async with h.services.broker.subscribe() as events:
        report = await h.services.health_checker.run_once()
        assert events.pending == 1
        event = await asyncio.wait_for(anext(events), 1)

    assert (report.checked, report.healthy, report.failed) == (1, 1, 0)
    assert (event.previous_status, event.status) == (GatewayStatus.ERROR, GatewayStatus.CONNECTED)
    row = await Gateway.get(id=gateway_id)
    assert row.status is GatewayStatus.CONNECTED
    assert row.last_connected_at == clock.now()
    assert (await status_changes(gateway_id))[-1]["cause"] == "health_check"


async def test_a_telegram_gateway_without_webhook_stays_in_error(
    fleet: Fleet, bot_api: FakeBotApi
) -> None:
    gateway_id = await fleet.add(1, GatewayStatus.ERROR, webhook=False)

    report = await fleet.h.services.health_checker.run_once()

    # The bot answers, but nothing receives its updates: not CONNECTED.
    assert (report.checked, report.healthy) == (1, 1)
    assert await status_of(gateway_id) is GatewayStatus.ERROR
    assert bot_api.checked() == {1: 1}


async def test_a_failing_check_of_a_failing_gateway_changes_nothing_when_the_error_is_the_same(
    fleet: Fleet, bot_api: FakeBotApi, clock: FakeClock
) -> None:
    gateway_id = await fleet.add(1, GatewayStatus.CONNECTED)
    bot_api.answers[1] = lambda _: fail(401, "Unauthorized")
    await fleet.h.services.health_checker.run_once()
    clock.advance(INTERVAL)

    async with fleet.h.services.broker.subscribe() as events:
        report = await fleet.h.services.health_checker.run_once()
        assert events.pending == 0

    assert report.failed == 1
    assert len(await status_changes(gateway_id)) == 1


async def test_an_ai_gateway_is_checked_by_listing_models(
    harness: Harness, upstreams: FakeUpstreams, clock: FakeClock
) -> None:
    upstreams.route(LLM_HOST, lambda _: httpx.Response(200, json={"data": [{"id": "m"}]}))
    token = await harness.register("owner@example.test")
    creds = {
        "provider": "OPENAI",
        "apiKey": "sk-test-0123456789",
        "baseUrl": f"https://{LLM_HOST}/v1",
    }
    data = {"name": "AI", "type": "AI", "credentials": {"ai": creds}}
    gateway_id = (await harness.gql(CREATE, {"input": data}, token=token))["createGateway"]["id"]
    await Gateway.filter(id=gateway_id).update(status=GatewayStatus.ERROR)

    report = await harness.services.health_checker.run_once()

    assert (report.checked, report.healthy) == (1, 1)
    assert await status_of(UUID(gateway_id)) is GatewayStatus.CONNECTED
    assert [(r.method, r.url.path) for r in upstreams.to(LLM_HOST)] == [("GET", "/v1/models")]


@pytest.mark.parametrize("before", [GatewayStatus.CONNECTED, GatewayStatus.ERROR])
async def test_rate_limited_leaves_the_status_unchanged(
    fleet: Fleet, bot_api: FakeBotApi, before: GatewayStatus
) -> None:
    gateway_id = await fleet.add(1, before)
    # A retry_after beyond the client's own retry budget: one request, no waiting.
    bot_api.answers[1] = lambda _: fail(429, "Too Many Requests", retry_after=60)

    async with fleet.h.services.broker.subscribe() as events:
        report = await fleet.h.services.health_checker.run_once()
        assert events.pending == 0

    assert (report.checked, report.healthy, report.failed) == (1, 1, 0)
    assert await status_of(gateway_id) is before
    assert await status_changes(gateway_id) == []
    assert bot_api.checked() == {1: 1}


@pytest.mark.parametrize(
    ("before", "upstream_fails"),
    [(GatewayStatus.CONNECTED, True), (GatewayStatus.ERROR, False)],
)
async def test_a_gateway_disconnected_while_its_check_runs_stays_disconnected(
    any_fleet: Fleet, bot_api: FakeBotApi, before: GatewayStatus, upstream_fails: bool
) -> None:
    services = any_fleet.h.services
    gateway_id = await any_fleet.add(1, before)
    if upstream_fails:
        bot_api.answers[1] = lambda _: fail(401, "Unauthorized")

    async def user_disconnects() -> None:
        await Gateway.filter(id=gateway_id).update(webhook_secret_hash=None)
        await services.gateways.status.change(
            gateway_id, GatewayStatus.DISCONNECTED, cause="disconnect"
        )

    bot_api.meanwhile[1] = user_disconnects

    await services.health_checker.run_once()

    # The check's verdict is about a gateway that no longer exists in that state.
    row = await Gateway.get(id=gateway_id)
    assert row.status is GatewayStatus.DISCONNECTED
    assert [c["cause"] for c in await status_changes(gateway_id)] == ["disconnect"]


# ---------------------------------------------------------------- what is checked


@pytest.mark.parametrize("status", [GatewayStatus.DISCONNECTED, GatewayStatus.CONNECTING])
async def test_gateways_not_live_are_not_checked(
    fleet: Fleet, bot_api: FakeBotApi, upstreams: FakeUpstreams, status: GatewayStatus
) -> None:
    gateway_id = await fleet.add(1, status)

    report = await fleet.h.services.health_checker.run_once()

    assert report.checked == 0
    assert upstreams.requests == []
    assert await status_of(gateway_id) is status
    assert (await Gateway.get(id=gateway_id)).health_checked_at is None


async def test_a_gateway_whose_circuit_is_open_is_skipped_until_it_half_opens(
    fleet: Fleet, bot_api: FakeBotApi, upstreams: FakeUpstreams, clock: FakeClock
) -> None:
    services = fleet.h.services
    gateway_id = await fleet.add(1, GatewayStatus.CONNECTED)
    breaker = services.lifecycle.breaker(await Gateway.get(id=gateway_id))

    async def down() -> None:
        raise UnavailableError("Telegram is unavailable (HTTP 502)", upstream_status=502)

    for _ in range(3):  # Telegram's failure threshold
        with pytest.raises(UnavailableError):
            await breaker.call(down)
    assert breaker.state is CircuitState.OPEN
    assert await status_of(gateway_id) is GatewayStatus.ERROR  # the breaker said so

    report = await services.health_checker.run_once()

    assert (report.checked, report.skipped_open_circuit) == (0, 1)
    assert upstreams.requests == []

    # Past the breaker's reset timeout and the interval: the check is the half-open probe.
    clock.advance(INTERVAL)
    report = await services.health_checker.run_once()

    assert (report.checked, report.healthy, report.skipped_open_circuit) == (1, 1, 0)
    assert bot_api.checked() == {1: 1}
    assert breaker.state is CircuitState.HALF_OPEN  # one successful probe of three
    assert await status_of(gateway_id) is GatewayStatus.CONNECTED
    assert [c["cause"] for c in await status_changes(gateway_id)] == ["breaker", "health_check"]


async def test_a_gateway_whose_circuit_is_forced_open_is_skipped(
    fleet: Fleet, bot_api: FakeBotApi, upstreams: FakeUpstreams, clock: FakeClock
) -> None:
    services = fleet.h.services
    forced = await fleet.add(1, GatewayStatus.CONNECTED)
    other = await fleet.add(2, GatewayStatus.CONNECTED)
    await services.lifecycle.breaker(await Gateway.get(id=forced)).force_open()

    report = await services.health_checker.run_once()

    assert (report.checked, report.skipped_open_circuit) == (1, 1)
    assert bot_api.checked() == {2: 1}
    assert await status_of(forced) is GatewayStatus.CONNECTED
    assert await status_of(other) is GatewayStatus.CONNECTED


async def test_a_second_pass_within_the_interval_checks_nothing(
    any_fleet: Fleet, bot_api: FakeBotApi, clock: FakeClock
) -> None:
    for bot_id in range(1, 6):
        await any_fleet.add(bot_id, GatewayStatus.CONNECTED)
    checker = any_fleet.h.services.health_checker

    first = await checker.run_once()
    clock.advance(INTERVAL / 2)
    second = await checker.run_once()

    assert first.checked == 5
    assert second.checked == 0
    assert bot_api.checked() == dict.fromkeys(range(1, 6), 1)

    clock.advance(INTERVAL / 2 + 1)
    third = await checker.run_once()

    assert third.checked == 5
    assert bot_api.checked() == dict.fromkeys(range(1, 6), 2)
    rows = await Gateway.filter(id__in=list(any_fleet.ids.values()))
    assert {r.health_checked_at for r in rows} == {clock.now()}


async def test_a_gateway_added_after_a_pass_is_checked_by_the_next_pass(
    fleet: Fleet, bot_api: FakeBotApi, clock: FakeClock
) -> None:
    await fleet.add(1, GatewayStatus.CONNECTED)
    checker = fleet.h.services.health_checker
    await checker.run_once()

    await fleet.add(2, GatewayStatus.CONNECTED)
    clock.advance(1)
    report = await checker.run_once()

    assert report.checked == 1
    assert bot_api.checked() == {1: 1, 2: 1}


async def test_passes_of_one_checker_never_overlap(
    fleet: Fleet, bot_api: FakeBotApi, clock: FakeClock
) -> None:
    for bot_id in range(1, 4):
        await fleet.add(bot_id, GatewayStatus.CONNECTED)
    checker = fleet.h.services.health_checker

    reports = await asyncio.gather(checker.run_once(), checker.run_once())

    assert sorted(r.checked for r in reports) == [0, 3]
    assert bot_api.checked() == dict.fromkeys(range(1, 4), 1)


async def test_more_gateways_than_one_claim_batch_are_all_checked_once(
    fleet: Fleet, bot_api: FakeBotApi, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health_checker_module, "CLAIM_BATCH", 4)
    for bot_id in range(1, 11):
        await fleet.add(bot_id, GatewayStatus.CONNECTED)

    class SmallBatches(HealthChecker):
        async def claim(self, limit: int = 4) -> list[Gateway]:
            return await super().claim(limit)

    report = await SmallBatches(
        lifecycle=fleet.h.services.lifecycle,
        breakers=fleet.h.services.breakers,
        clock=clock,
        interval=INTERVAL,
        retention_days=7,
    ).run_once()

    assert report.checked == 10
    assert bot_api.checked() == dict.fromkeys(range(1, 11), 1)


# ---------------------------------------------------------------- bounds and failures


async def test_checks_run_with_bounded_concurrency(
    fleet: Fleet, bot_api: FakeBotApi, clock: FakeClock
) -> None:
    for bot_id in range(1, 9):
        await fleet.add(bot_id, GatewayStatus.CONNECTED)

    report = await checker_of(fleet.h, clock, concurrency=2).run_once()

    assert report.checked == 8
    assert bot_api.max_in_flight == 2


async def test_a_check_that_hangs_is_cut_by_the_per_check_timeout(
    fleet: Fleet, bot_api: FakeBotApi, clock: FakeClock
) -> None:
    hung = await fleet.add(1, GatewayStatus.CONNECTED)
    healthy = await fleet.add(2, GatewayStatus.CONNECTED)
    bot_api.hung.add(1)

    report = await checker_of(fleet.h, clock, check_timeout=0.05).run_once()

    assert (report.checked, report.healthy, report.failed) == (2, 1, 1)
    assert report.failures[hung] == "TIMEOUT: no answer within 0.05 s"
    row = await Gateway.get(id=hung)
    assert row.status is GatewayStatus.ERROR
    assert row.last_error == report.failures[hung]
    assert await status_of(healthy) is GatewayStatus.CONNECTED


async def test_an_unexpected_crash_of_one_check_does_not_end_the_pass(
    fleet: Fleet, bot_api: FakeBotApi, clock: FakeClock
) -> None:
    crashing = await fleet.add(1, GatewayStatus.CONNECTED)
    healthy = await fleet.add(2, GatewayStatus.ERROR)

    def crash(method: str) -> httpx.Response:
        raise RuntimeError("a bug, not an upstream failure")

    bot_api.answers[1] = crash

    report = await fleet.h.services.health_checker.run_once()

    assert (report.checked, report.healthy, report.failed) == (2, 1, 1)
    assert report.failures == {crashing: "unexpected error during the check"}
    assert await status_of(crashing) is GatewayStatus.CONNECTED  # no evidence about the upstream
    assert await status_of(healthy) is GatewayStatus.CONNECTED


# ---------------------------------------------------------------- pruning


async def add_update(gateway_id: UUID, update_id: int, received_at: Any) -> None:
    await TelegramUpdate.create(
        gateway_id=gateway_id,
        update_id=update_id,
        update_type="message",
        payload={"update_id": update_id},
        received_at=received_at,
    )


async def test_updates_older_than_the_retention_are_pruned(
    any_fleet: Fleet, bot_api: FakeBotApi, clock: FakeClock
) -> None:
    # Pruning covers every gateway, checked or not.
    gateway_id = await any_fleet.add(1, GatewayStatus.DISCONNECTED)
    now = clock.now()
    retention = any_fleet.h.settings.telegram_update_retention_days
    assert retention == 7
    await add_update(gateway_id, 1, now - timedelta(days=30))
    await add_update(gateway_id, 2, now - timedelta(days=7, seconds=1))
    await add_update(gateway_id, 3, now - timedelta(days=6, hours=23))
    await add_update(gateway_id, 4, now)

    report = await any_fleet.h.services.health_checker.run_once()

    assert report.pruned_updates == 2
    remaining = await TelegramUpdate.filter(gateway_id=gateway_id).order_by("update_id")
    assert [u.update_id for u in remaining] == [3, 4]

    clock.advance(timedelta(days=1).total_seconds())
    report = await any_fleet.h.services.health_checker.run_once()

    assert report.pruned_updates == 1
    assert [u.update_id for u in await TelegramUpdate.all()] == [4]


async def test_the_retention_is_configurable(
    fleet: Fleet, bot_api: FakeBotApi, clock: FakeClock
) -> None:
    gateway_id = await fleet.add(1, GatewayStatus.DISCONNECTED)
    await add_update(gateway_id, 1, clock.now() - timedelta(days=2, seconds=1))
    await add_update(gateway_id, 2, clock.now() - timedelta(days=1))

    report = await checker_of(fleet.h, clock, retention_days=2).run_once()

    assert report.pruned_updates == 1
    assert [u.update_id for u in await TelegramUpdate.all()] == [2]


# ---------------------------------------------------------------- several checkers (PostgreSQL)


@pytest.fixture
async def pg_fleet(
    postgres_database: str, tmp_path: Path, upstreams: FakeUpstreams, clock: FakeClock
) -> AsyncIterator[Fleet]:
    await databases.truncate_postgres(postgres_database)
    settings = make_settings(postgres_database, str(tmp_path))
    async with running_app(settings, clock=clock, upstream_transport=upstreams.transport()) as h:
        yield await make_fleet(h)


@pytest.mark.postgres
@pytest.mark.parametrize("batch", [100, 3])
async def test_two_checkers_never_check_the_same_gateway_twice_in_one_interval(
    pg_fleet: Fleet,
    bot_api: FakeBotApi,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    batch: int,
) -> None:
    monkeypatch.setattr(health_checker_module, "CLAIM_BATCH", batch)
    bots = range(1, 31)
    for bot_id in bots:
        status = GatewayStatus.CONNECTED if bot_id % 3 else GatewayStatus.ERROR
        await pg_fleet.add(bot_id, status)

    class Checker(HealthChecker):
        async def claim(self, limit: int = batch) -> list[Gateway]:
            return await super().claim(limit)

    def checker() -> HealthChecker:
        return Checker(
            lifecycle=pg_fleet.h.services.lifecycle,
            breakers=pg_fleet.h.services.breakers,
            clock=clock,
            interval=INTERVAL,
            retention_days=7,
            concurrency=4,
        )

    first, second = checker(), checker()

    reports = await asyncio.gather(first.run_once(), second.run_once())

    assert sum(r.checked for r in reports) == 30
    assert bot_api.checked() == dict.fromkeys(bots, 1)
    if batch < 30:
        assert all(r.checked > 0 for r in reports)  # the work was really shared

    # Both again within the interval: nothing is due.
    clock.advance(INTERVAL / 3)
    again = await asyncio.gather(first.run_once(), second.run_once())
    assert [r.checked for r in again] == [0, 0]
    assert bot_api.checked() == dict.fromkeys(bots, 1)

    # The next interval: each gateway once more, still exactly once.
    clock.advance(INTERVAL)
    later = await asyncio.gather(first.run_once(), second.run_once())
    assert sum(r.checked for r in later) == 30
    assert bot_api.checked() == dict.fromkeys(bots, 2)
