"""Webhook outcomes, upstream calls and breaker transitions as the app records them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.core.clock import FakeClock, utcnow
from tests.observability.scrape import value
from tests.support.harness import Harness, make_settings, running_app
from tests.support.upstreams import FakeUpstreams
from tests.webhooks.test_routes import (
    BOT_TOKEN,
    TELEGRAM_HOST,
    FakeTelegram,
    connect,
    create_telegram,
    post_update,
    update,
)

TEST_GATEWAY = """mutation($id: ID!) { testGateway(id: $id) { __typename } }"""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=utcnow())


@pytest.fixture
async def metered(
    database_url: str, tmp_path: Path, upstreams: FakeUpstreams, clock: FakeClock
) -> AsyncIterator[Harness]:
    settings = make_settings(database_url, str(tmp_path), metrics_enabled=True)
    async with running_app(settings, clock=clock, upstream_transport=upstreams.transport()) as h:
        yield h


async def scrape(h: Harness) -> str:
    return (await h.client.get("/metrics")).text


async def test_webhook_updates_by_outcome(metered: Harness, upstreams: FakeUpstreams) -> None:
    h = metered
    telegram = FakeTelegram()
    upstreams.route(TELEGRAM_HOST, telegram)
    token = await h.register("hooks@example.com")
    gateway_id = await create_telegram(h, token)
    secret = await connect(h, token, gateway_id, telegram)

    assert (await post_update(h, gateway_id, secret, update(1))).status_code == 200
    assert (await post_update(h, gateway_id, secret, update(1))).status_code == 200  # redelivery
    assert (await post_update(h, gateway_id, secret, update(2))).status_code == 200
    assert (await post_update(h, gateway_id, "wrong-secret")).status_code == 401
    assert (await post_update(h, gateway_id, secret, content=b"{nope")).status_code == 400
    unknown = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
    assert (await post_update(h, unknown, secret)).status_code == 404
    await h.client.get(f"/api/webhooks/telegram/{gateway_id}")  # a lookup, not an update

    text = await scrape(h)
    name = "telegram_webhook_updates_total"
    assert value(text, name, outcome="stored", reason="") == 2
    assert value(text, name, outcome="duplicate", reason="") == 1
    assert value(text, name, outcome="refused", reason="bad_secret") == 1
    assert value(text, name, outcome="refused", reason="malformed") == 1
    assert value(text, name, outcome="refused", reason="unknown_gateway") == 1


async def test_a_redelivery_counts_as_duplicate_on_both_engines(
    any_database_url: str, tmp_path: Path, upstreams: FakeUpstreams, clock: FakeClock
) -> None:
    """The inbox reports whether its INSERT added a row; SQLite and asyncpg count differently."""
    settings = make_settings(any_database_url, str(tmp_path), metrics_enabled=True)
    telegram = FakeTelegram()
    upstreams.route(TELEGRAM_HOST, telegram)
    async with running_app(settings, clock=clock, upstream_transport=upstreams.transport()) as h:
        token = await h.register("engines@example.com")
        gateway_id = await create_telegram(h, token)
        secret = await connect(h, token, gateway_id, telegram)
        for _ in range(3):
            assert (await post_update(h, gateway_id, secret, update(42))).status_code == 200
        text = await scrape(h)
    assert value(text, "telegram_webhook_updates_total", outcome="stored", reason="") == 1
    assert value(text, "telegram_webhook_updates_total", outcome="duplicate", reason="") == 2


async def test_upstream_calls_by_provider_and_outcome(
    metered: Harness, upstreams: FakeUpstreams
) -> None:
    h = metered
    telegram = FakeTelegram()
    upstreams.route(TELEGRAM_HOST, telegram)
    token = await h.register("upstream@example.com")
    gateway_id = await create_telegram(h, token)
    await connect(h, token, gateway_id, telegram)  # getMe + setWebhook
    text = await scrape(h)
    name = "upstream_request_duration_seconds_count"
    assert value(text, name, provider="telegram", outcome="success") == 2

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    upstreams.route(TELEGRAM_HOST, lambda r: httpx.Response(502, json={"ok": False}))
    await h.gql(TEST_GATEWAY, {"id": gateway_id}, token=token)
    upstreams.route(TELEGRAM_HOST, down)
    await h.gql(TEST_GATEWAY, {"id": gateway_id}, token=token)
    text = await scrape(h)
    assert value(text, name, provider="telegram", outcome="server_error") >= 1
    assert value(text, name, provider="telegram", outcome="network_error") >= 1
    # The bot token is in every Bot API path; it never reaches the metrics.
    assert BOT_TOKEN.split(":")[1] not in text


async def test_breakers_are_counted_by_type_and_state(
    metered: Harness, upstreams: FakeUpstreams
) -> None:
    h = metered
    telegram = FakeTelegram()
    upstreams.route(TELEGRAM_HOST, telegram)
    token = await h.register("breaker@example.com")
    gateway_id = await create_telegram(h, token)
    await connect(h, token, gateway_id, telegram)
    text = await scrape(h)
    assert value(text, "gateway_circuit_breakers", gateway_type="TELEGRAM_BOT", state="CLOSED") == 1

    upstreams.route(TELEGRAM_HOST, lambda r: httpx.Response(503, json={"ok": False}))
    for _ in range(3):  # a Telegram gateway's circuit opens after 3 failures
        await h.gql(TEST_GATEWAY, {"id": gateway_id}, token=token)
    text = await scrape(h)
    assert value(text, "gateway_circuit_breakers", gateway_type="TELEGRAM_BOT", state="OPEN") == 1
    assert value(text, "gateway_circuit_breakers", gateway_type="TELEGRAM_BOT", state="CLOSED") == 0
    transitions = "gateway_circuit_breaker_transitions_total"
    assert value(text, transitions, gateway_type="TELEGRAM_BOT", state="OPEN") == 1
    assert gateway_id not in text
    # The breaker opening put the gateway in ERROR: a status event was published.
    assert value(text, "gateway_status_events_published_total") >= 1
