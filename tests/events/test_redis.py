"""The Redis broker: delivery between processes, and behaviour while Redis is away.

Two RedisBroker instances stand for two server processes. Tests that need a live Redis call
require_redis() first (skipped locally without one, failed under CI) and use their own channel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import pytest
from redis.asyncio import Redis

from app.events.broker import Broker
from app.events.redis import RedisBroker, backoff_delays, redis_target
from app.events.types import GatewayStatusChanged
from tests.events.proxy import RedisProxy
from tests.events.support import make_event, next_event
from tests.services import require_redis

MakeBroker = Callable[..., Awaitable[RedisBroker]]
CLOSED_PORT_URL = "redis://:s3cret-pw@127.0.0.1:1/0"


@pytest.fixture
async def make_broker() -> AsyncIterator[MakeBroker]:
    """Start RedisBrokers with test-sized delays; every one is closed at the end."""
    brokers: list[RedisBroker] = []

    async def make(url: str, channel: str, **options: Any) -> RedisBroker:
        options = {"reconnect_delay": 0.02, "max_reconnect_delay": 0.2, **options}
        broker = RedisBroker(url, channel, **options)
        brokers.append(broker)
        await broker.start()
        return broker

    yield make
    for broker in brokers:
        await broker.close()


@pytest.fixture
def channel() -> str:
    return f"test-gateway-events-{uuid4().hex}"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="app.events")
    return caplog


def _named(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == name]


async def _wait_subscribed(broker: RedisBroker) -> None:
    await asyncio.wait_for(broker.wait_subscribed(), 5)


async def _publish_until_received(
    publisher: RedisBroker, events: AsyncIterator[GatewayStatusChanged]
) -> GatewayStatusChanged:
    """Publish fresh events until one arrives: those sent while the listener was away are lost."""

    async def attempt() -> GatewayStatusChanged:
        while True:
            sent = make_event()
            await publisher.publish(sent)
            try:
                received = await next_event(events, within=0.1)
            except TimeoutError:
                continue
            assert received == sent
            return received

    return await asyncio.wait_for(attempt(), 10)


# -- without a Redis server ------------------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap() -> None:
    delays = backoff_delays(0.5, 10.0)
    assert [next(delays) for _ in range(8)] == [0.5, 1, 2, 4, 8, 10, 10, 10]


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("redis://:pw@cache.internal:6380/2", "cache.internal:6380"),
        ("rediss://user:pw@cache.internal/0", "cache.internal:6379"),
        ("redis://[::1]:6379", "[::1]:6379"),
        ("unix://:pw@/run/redis.sock?db=1", "unix-socket"),
    ],
)
def test_log_target_never_includes_credentials(url: str, target: str) -> None:
    assert redis_target(url) == target


def test_redis_broker_satisfies_the_protocol() -> None:
    broker: Broker = RedisBroker(CLOSED_PORT_URL)  # checked by mypy; nothing is connected
    assert broker is not None


async def test_publish_before_start_is_a_programming_error() -> None:
    with pytest.raises(RuntimeError, match="before start"):
        await RedisBroker(CLOSED_PORT_URL).publish(make_event())


async def test_publish_while_redis_is_unreachable_logs_and_returns(
    make_broker: MakeBroker, channel: str, logs: pytest.LogCaptureFixture
) -> None:
    broker = await make_broker(CLOSED_PORT_URL, channel, publish_timeout=1.0)
    event = make_event()

    await asyncio.wait_for(broker.publish(event), 3)  # returns, does not raise

    (failure,) = _named(logs, "events.redis.publish_failed")
    assert failure.levelno == logging.WARNING
    assert failure.target == "127.0.0.1:1"  # type: ignore[attr-defined]
    assert failure.event_id == str(event.event_id)  # type: ignore[attr-defined]
    assert "ConnectionError" in failure.error  # type: ignore[attr-defined]
    # The listener keeps retrying in the background; the server carries on meanwhile.
    await asyncio.wait_for(_until(lambda: _named(logs, "events.redis.listener_disconnected")), 5)
    assert not broker.subscribed
    for record in logs.records:
        assert "s3cret-pw" not in repr(vars(record))


async def _until(condition: Callable[[], object], interval: float = 0.01) -> None:
    """Poll `condition` (log records cannot signal an Event); callers bound it with wait_for."""
    while not condition():  # noqa: ASYNC110
        await asyncio.sleep(interval)


# -- with a Redis server ---------------------------------------------------------------------------


@pytest.mark.redis
async def test_event_published_by_one_process_reaches_subscribers_of_every_process(
    make_broker: MakeBroker, channel: str
) -> None:
    url = require_redis()
    process_a = await make_broker(url, channel)
    process_b = await make_broker(url, channel)
    await _wait_subscribed(process_a)
    await _wait_subscribed(process_b)
    event = make_event(error="quota exhausted")

    async with process_a.subscribe() as on_a, process_b.subscribe() as on_b:
        await process_a.publish(event)
        assert await next_event(on_b) == event
        assert await next_event(on_a) == event  # the publisher's process hears it back too


@pytest.mark.redis
async def test_channels_are_separate(make_broker: MakeBroker, channel: str) -> None:
    url = require_redis()
    listener = await make_broker(url, channel)
    other = await make_broker(url, f"{channel}-other")
    await _wait_subscribed(listener)
    async with listener.subscribe() as events:
        await other.publish(make_event())
        with pytest.raises(TimeoutError):
            await next_event(events, within=0.2)


@pytest.mark.redis
async def test_listener_reconnects_after_its_connection_is_killed(
    make_broker: MakeBroker, channel: str, logs: pytest.LogCaptureFixture
) -> None:
    url = require_redis()
    client_name = f"test-{uuid4().hex}"  # kill only this test's connection
    publisher = await make_broker(url, channel)
    listener = await make_broker(url, channel, client_name=client_name)
    await _wait_subscribed(listener)

    async with listener.subscribe() as events, Redis.from_url(url) as admin:
        await _publish_until_received(publisher, events)
        clients = await admin.client_list(_type="pubsub")
        ids = [c["id"] for c in clients if c["name"] == client_name]
        assert len(ids) == 1
        assert await admin.client_kill_filter(_id=ids[0]) == 1

        await _publish_until_received(publisher, events)

    assert _named(logs, "events.redis.listener_disconnected")
    (reconnected,) = _named(logs, "events.redis.reconnected")
    assert reconnected.attempts == 1  # type: ignore[attr-defined]


@pytest.mark.redis
async def test_outage_then_recovery(
    make_broker: MakeBroker, channel: str, logs: pytest.LogCaptureFixture
) -> None:
    """Redis goes away (connections cut, then refused) and comes back on the same address."""
    parts = urlsplit(require_redis())
    proxy = RedisProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    await proxy.start()
    try:
        publisher = await make_broker(proxy.url, channel, publish_timeout=0.5)
        listener = await make_broker(proxy.url, channel)
        await _wait_subscribed(listener)
        async with listener.subscribe() as events:
            await _publish_until_received(publisher, events)

            await proxy.stop()
            await publisher.publish(make_event())  # logged, not raised
            assert _named(logs, "events.redis.publish_failed")
            # Let both listeners fail a few times, so recovery goes through the backoff loop.
            await asyncio.wait_for(
                _until(lambda: len(_named(logs, "events.redis.listener_disconnected")) >= 6), 5
            )
            assert not listener.subscribed

            await proxy.start()
            await _wait_subscribed(listener)
            await _publish_until_received(publisher, events)
            await _wait_subscribed(publisher)
    finally:
        await proxy.stop()

    # Both brokers listen (the publisher hears its own events back): one reconnection each,
    # accounting for every failed attempt, and one warning each for the whole outage.
    reconnected = _named(logs, "events.redis.reconnected")
    disconnects = _named(logs, "events.redis.listener_disconnected")
    assert len(reconnected) == 2
    assert sum(r.attempts for r in reconnected) == len(disconnects)  # type: ignore[attr-defined]
    assert [r.levelno for r in disconnects].count(logging.WARNING) == 2


@pytest.mark.redis
async def test_a_silently_dead_connection_is_detected_by_ping(
    make_broker: MakeBroker, channel: str, logs: pytest.LogCaptureFixture
) -> None:
    """A half-open connection (nothing gets through, nothing is closed) counts as a drop."""
    parts = urlsplit(require_redis())
    proxy = RedisProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    await proxy.start()
    try:
        url = require_redis()
        publisher = await make_broker(url, channel)  # direct: only the listener is cut off
        listener = await make_broker(proxy.url, channel, ping_interval=0.1, publish_timeout=0.3)
        await _wait_subscribed(listener)
        async with listener.subscribe() as events:
            proxy.paused = True
            await asyncio.wait_for(_until(lambda: not listener.subscribed), 5)
            proxy.paused = False
            await _publish_until_received(publisher, events)
    finally:
        await proxy.stop()

    (disconnected, *_) = _named(logs, "events.redis.listener_disconnected")
    assert "PING" in disconnected.error  # type: ignore[attr-defined]
    assert _named(logs, "events.redis.reconnected")


@pytest.mark.redis
async def test_invalid_messages_on_the_channel_are_skipped(
    make_broker: MakeBroker, channel: str, logs: pytest.LogCaptureFixture
) -> None:
    url = require_redis()
    broker = await make_broker(url, channel)
    await _wait_subscribed(broker)
    event = make_event()
    async with broker.subscribe() as events, Redis.from_url(url) as raw:
        await raw.publish(channel, b"{not json")
        await raw.publish(channel, b'{"type": "gateway.deleted"}')
        await broker.publish(event)
        assert await next_event(events) == event
    assert len(_named(logs, "events.redis.message_invalid")) == 2


@pytest.mark.redis
async def test_close_ends_subscriptions_and_later_publishes_are_skipped(
    channel: str, logs: pytest.LogCaptureFixture
) -> None:
    url = require_redis()
    broker = RedisBroker(url, channel)
    await broker.start()
    await _wait_subscribed(broker)
    async with broker.subscribe() as events:
        reader = asyncio.create_task(anext(events, None))
        await broker.close()
        assert await asyncio.wait_for(reader, 5) is None
    assert not broker.subscribed
    await broker.publish(make_event())  # a worker finishing during shutdown: no error
    assert _named(logs, "events.redis.publish_skipped")
    await broker.close()  # idempotent
