"""The in-memory broker, and the Subscription and LocalFanOut every broker shares."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from uuid import UUID, uuid4

import pytest

from app.events.broker import Broker, Subscription
from app.events.memory import InMemoryBroker
from app.events.types import GatewayStatusChanged
from tests.events.support import make_event, next_event


@pytest.fixture
async def broker() -> AsyncIterator[InMemoryBroker]:
    broker = InMemoryBroker(queue_size=4)
    await broker.start()
    yield broker
    await broker.close()


def _records(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == name]


async def test_one_event_reaches_every_subscriber(broker: InMemoryBroker) -> None:
    event = make_event()
    async with broker.subscribe() as a, broker.subscribe() as b, broker.subscribe() as c:
        await broker.publish(event)
        assert [await next_event(s) for s in (a, b, c)] == [event, event, event]


async def test_events_arrive_in_publish_order(broker: InMemoryBroker) -> None:
    events = [make_event() for _ in range(3)]
    async with broker.subscribe() as subscription:
        for event in events:
            await broker.publish(event)
        assert [await next_event(subscription) for _ in events] == events


async def test_leaving_the_context_unsubscribes_and_frees_the_queue(
    broker: InMemoryBroker,
) -> None:
    subscription = broker.subscribe()
    assert broker.subscriber_count == 0  # not registered until entered
    async with subscription:
        assert broker.subscriber_count == 1
        await broker.publish(make_event())
        await broker.publish(make_event())
        assert subscription.pending == 2
    assert broker.subscriber_count == 0
    assert subscription.pending == 0
    await broker.publish(make_event())
    assert subscription.pending == 0
    with pytest.raises(StopAsyncIteration):
        await next_event(subscription)


async def test_breaking_out_of_the_loop_unsubscribes(broker: InMemoryBroker) -> None:
    async with broker.subscribe() as subscription:
        await broker.publish(make_event())
        async for _ in subscription:
            break
    assert broker.subscriber_count == 0


async def test_slow_subscriber_loses_oldest_events_without_blocking_anyone(
    broker: InMemoryBroker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="app.events")
    events = [make_event() for _ in range(10)]
    received: list[GatewayStatusChanged] = []

    async def read_all(subscription: Subscription) -> None:
        async for event in subscription:
            received.append(event)
            if len(received) == len(events):
                return

    async with broker.subscribe() as slow, broker.subscribe() as fast:
        reader = asyncio.create_task(read_all(fast))
        for event in events:
            # publish() returns at once although `slow` (queue of 4) is never read.
            await asyncio.wait_for(broker.publish(event), 0.1)
            await asyncio.sleep(0)  # let the fast reader run
        await asyncio.wait_for(reader, 5)

        assert received == events
        assert fast.dropped == 0
        assert slow.dropped == 6
        assert [await next_event(slow) for _ in range(4)] == events[-4:]

    overflows = _records(caplog, "events.subscriber.overflow")
    # Logged at the 1st, 2nd and 4th drop, not at every drop.
    assert [(r.subscriber, r.dropped, r.maxsize) for r in overflows] == [  # type: ignore[attr-defined]
        (slow.id, 1, 4),
        (slow.id, 2, 4),
        (slow.id, 4, 4),
    ]


async def test_publish_without_subscribers_is_fine(broker: InMemoryBroker) -> None:
    await broker.publish(make_event())
    assert broker.subscriber_count == 0


async def test_accept_filter_keeps_other_tenants_events_out_of_the_queue(
    broker: InMemoryBroker,
) -> None:
    mine, theirs = uuid4(), uuid4()
    own_event = make_event(owner_id=mine)

    def accept(event: GatewayStatusChanged) -> bool:
        return event.owner_id == mine

    async with broker.subscribe(accept=accept) as subscription:
        for _ in range(10):  # more than the queue holds: they must not push ours out
            await broker.publish(make_event(owner_id=theirs))
        await broker.publish(own_event)
        assert subscription.pending == 1
        assert subscription.dropped == 0
        assert await next_event(subscription) == own_event


async def test_a_failing_filter_skips_its_subscriber_only(
    broker: InMemoryBroker, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: GatewayStatusChanged) -> bool:
        raise KeyError("bug")

    event = make_event()
    async with broker.subscribe(accept=broken) as bad, broker.subscribe() as good:
        await broker.publish(event)
        assert await next_event(good) == event
        assert bad.pending == 0
    assert _records(caplog, "events.subscriber.filter_failed")


async def test_close_ends_iteration_after_the_queued_events(broker: InMemoryBroker) -> None:
    events = [make_event(), make_event()]
    async with broker.subscribe() as subscription:
        for event in events:
            await broker.publish(event)

        async def read_all() -> list[GatewayStatusChanged]:
            return [event async for event in subscription]

        reader = asyncio.create_task(read_all())
        await broker.close()
        assert await asyncio.wait_for(reader, 5) == events
        assert broker.subscriber_count == 0


async def test_leaving_after_close_frees_the_queue(broker: InMemoryBroker) -> None:
    async with broker.subscribe() as subscription:
        await broker.publish(make_event())
        await broker.close()
        assert subscription.pending == 1
    assert subscription.pending == 0
    with pytest.raises(StopAsyncIteration):
        await next_event(subscription)


async def test_close_wakes_a_waiting_reader(broker: InMemoryBroker) -> None:
    async with broker.subscribe() as subscription:
        reader = asyncio.create_task(anext(subscription, None))
        await asyncio.sleep(0)  # the reader is now blocked on the empty queue
        await broker.close()
        assert await asyncio.wait_for(reader, 5) is None


async def test_subscribing_after_close_ends_at_once(broker: InMemoryBroker) -> None:
    await broker.close()
    async with broker.subscribe() as subscription:
        assert [event async for event in subscription] == []
    await broker.publish(make_event())  # a late publish is a no-op, not an error


async def test_a_subscription_is_entered_once_and_only_iterated_inside(
    broker: InMemoryBroker,
) -> None:
    subscription = broker.subscribe()
    with pytest.raises(RuntimeError, match="async with"):
        await anext(subscription)
    async with subscription:
        pass
    with pytest.raises(RuntimeError, match="entered only once"):
        async with subscription:
            pass


def test_in_memory_broker_satisfies_the_protocol() -> None:
    broker: Broker = InMemoryBroker()  # checked by mypy
    assert broker is not None


async def test_fan_out_to_1000_subscribers_meets_the_latency_target() -> None:
    """1,000 subscribers, p99 publish-to-receive latency under 250 ms (the product target)."""
    subscribers, rounds = 1000, 10
    broker = InMemoryBroker()
    sent_at: dict[UUID, float] = {}
    latencies: list[float] = []
    all_received = asyncio.Event()

    async def read(subscription: Subscription) -> None:
        async for event in subscription:
            latencies.append(time.perf_counter() - sent_at[event.event_id])
            if len(latencies) % subscribers == 0:
                all_received.set()

    async with AsyncExitStack() as stack:
        subscriptions = [
            await stack.enter_async_context(broker.subscribe()) for _ in range(subscribers)
        ]
        readers = [asyncio.create_task(read(s)) for s in subscriptions]
        for _ in range(rounds):
            all_received.clear()
            event = make_event()
            sent_at[event.event_id] = time.perf_counter()
            await broker.publish(event)
            await asyncio.wait_for(all_received.wait(), 5)
        await broker.close()
        await asyncio.wait_for(asyncio.gather(*readers), 5)

    assert len(latencies) == subscribers * rounds
    p99 = sorted(latencies)[int(len(latencies) * 0.99)]
    assert p99 < 0.25, f"p99 fan-out latency {p99 * 1000:.1f} ms"
