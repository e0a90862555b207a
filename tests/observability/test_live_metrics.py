"""WebSocket connections, subscriptions and status events as a live server records them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.observability.scrape import value
from tests.support import ws
from tests.support.live import (
    SUBSCRIPTION,
    Live,
    create_gateway,
    event_of,
    live_server,
    set_status,
)
from tests.support.upstreams import FakeUpstreams


async def scrape(live: Live) -> str:
    return (await live.http.client.get("/metrics")).text


async def wait_for(live: Live, name: str, expected: float) -> str:
    async with asyncio.timeout(5):
        while value(text := await scrape(live), name) != expected:  # noqa: ASYNC110 - polls a scrape
            await asyncio.sleep(0.02)
    return text


async def test_sockets_subscriptions_and_status_events(
    database_url: str, tmp_path: Path, upstreams: FakeUpstreams
) -> None:
    async with live_server(database_url, tmp_path, upstreams, metrics_enabled=True) as live:
        token = await live.http.register("live@example.com")
        gateway_id = await create_gateway(live.http, token, "Bot")
        async with ws.connect(live.ws_url) as first, ws.connect(live.ws_url) as second:
            await first.init(ws.auth_payload(token))
            await second.init(ws.auth_payload(token))
            ops = [await first.subscribe(SUBSCRIPTION), await second.subscribe(SUBSCRIPTION)]
            await live.wait_subscriptions(2)
            text = await scrape(live)
            assert value(text, "graphql_websocket_connections") == 2
            assert value(text, "graphql_subscriptions_active") == 2

            await set_status(live.http, token, gateway_id, "CONNECTING")
            for client, op in zip((first, second), ops, strict=True):
                assert event_of(await client.next_data(op))["status"] == "CONNECTING"
            text = await wait_for(live, "gateway_status_events_delivered_total", 2)
            assert value(text, "gateway_status_events_published_total") == 1
        await wait_for(live, "graphql_websocket_connections", 0)
        await live.wait_subscriptions(0)
