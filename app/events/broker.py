"""The broker contract, and the in-process fan-out that every broker delivers through.

    service ── publish(event) ──▶ Broker ──▶ LocalFanOut.deliver(event)
                (memory: directly; Redis: via      ├──▶ Subscription (bounded queue) ──▶ client
                 the channel and a listener task)  ├──▶ Subscription ──▶ client
                                                   └──▶ ...

Delivery is one synchronous `put_nowait` per local subscriber, with nothing awaited in between:
a fan-out to N subscribers costs O(N) and cannot be stalled by any one of them. A subscriber
that does not keep up loses its *oldest* events once its queue is full (the newest status is
the one a client needs), and the loss is counted and logged as `events.subscriber.overflow`.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import logging
from collections.abc import Callable
from types import TracebackType
from typing import Protocol

from app.events.types import GatewayStatusChanged

logger = logging.getLogger("app.events")

DEFAULT_QUEUE_SIZE = 256

EventFilter = Callable[[GatewayStatusChanged], bool]
"""Runs inside the fan-out for every event: must be cheap, synchronous and must not raise."""


class Broker(Protocol):
    async def start(self) -> None:
        """Acquire connections and start background work; called once from the lifespan."""
        ...

    async def close(self) -> None:
        """Stop background work, end every open subscription, release connections."""
        ...

    async def publish(self, event: GatewayStatusChanged) -> None:
        """Send `event` to the subscribers of every process.

        Publishing happens after the change is committed, so it never raises because the
        transport is down: the failure is logged and the event is lost for live subscribers.
        """
        ...

    def subscribe(
        self, *, accept: EventFilter | None = None, maxsize: int | None = None
    ) -> Subscription:
        """A subscription to enter with `async with`; `accept` drops unwanted events early;
        `maxsize` bounds its queue (default DEFAULT_QUEUE_SIZE)."""
        ...


class _State(enum.Enum):
    NEW = "new"
    OPEN = "open"
    CLOSED = "closed"


_ids = itertools.count(1)


class Subscription:
    """One subscriber's bounded queue; an async context manager that is its own async iterator.

    Entering registers it with the fan-out; leaving unregisters it and drops whatever is still
    queued. When the broker closes, iteration ends after the events already queued.

        async with broker.subscribe(accept=in_my_tenant) as events:
            async for event in events:
                ...
    """

    __slots__ = ("_accept", "_end_queued", "_fanout", "_queue", "_state", "dropped", "id")

    def __init__(
        self,
        fanout: LocalFanOut,
        *,
        maxsize: int = DEFAULT_QUEUE_SIZE,
        accept: EventFilter | None = None,
    ) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.id = next(_ids)
        self.dropped = 0
        self._fanout = fanout
        self._accept = accept
        # None is the end-of-stream marker put by _end().
        self._queue: asyncio.Queue[GatewayStatusChanged | None] = asyncio.Queue(maxsize)
        self._end_queued = False
        self._state = _State.NEW

    async def __aenter__(self) -> Subscription:
        if self._state is not _State.NEW:
            raise RuntimeError("a Subscription can be entered only once")
        self._state = _State.OPEN
        self._fanout._add(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._fanout._remove(self)
        while not self._queue.empty():
            self._queue.get_nowait()
        self._end_queued = False
        self._end()  # a fresh end marker, in case another task is reading

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> GatewayStatusChanged:
        if self._state is _State.NEW:
            raise RuntimeError("enter the Subscription with `async with` before iterating it")
        if self._state is _State.CLOSED and self._queue.empty():
            raise StopAsyncIteration
        event = await self._queue.get()
        if event is None:
            self._end_queued = False
            raise StopAsyncIteration
        return event

    @property
    def pending(self) -> int:
        """Events queued and not yet read."""
        return self._queue.qsize() - self._end_queued

    def offer(self, event: GatewayStatusChanged) -> None:
        """Queue `event` without waiting, dropping the oldest queued event if full."""
        if self._accept is not None:
            try:
                if not self._accept(event):
                    return
            except Exception:
                # One subscriber's broken filter must not break the fan-out for the others.
                logger.exception(
                    "events.subscriber.filter_failed",
                    extra={"subscriber": self.id, "event_id": str(event.event_id)},
                )
                return
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
            # Log the 1st, 2nd, 4th, 8th... drop: a stuck client must not flood the log.
            if self.dropped & (self.dropped - 1) == 0:
                logger.warning(
                    "events.subscriber.overflow",
                    extra={
                        "subscriber": self.id,
                        "dropped": self.dropped,
                        "maxsize": self._queue.maxsize,
                    },
                )
        self._queue.put_nowait(event)

    def _end(self) -> None:
        self._state = _State.CLOSED
        if self._end_queued:
            return
        # Wake a reader blocked in __anext__; the marker must fit even in a full queue.
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(None)
        self._end_queued = True


class LocalFanOut:
    """The subscribers of this process; both brokers deliver through one of these."""

    def __init__(self, *, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self._queue_size = queue_size
        self._subscriptions: set[Subscription] = set()
        self._closed = False

    def __len__(self) -> int:
        return len(self._subscriptions)

    def subscribe(
        self, *, accept: EventFilter | None = None, maxsize: int | None = None
    ) -> Subscription:
        return Subscription(self, maxsize=maxsize or self._queue_size, accept=accept)

    def deliver(self, event: GatewayStatusChanged) -> None:
        # The hot path: no await, no copy. offer() never re-enters the fan-out, so the set
        # cannot change size while it is iterated.
        for subscription in self._subscriptions:
            subscription.offer(event)

    def close(self) -> None:
        """End every subscription (their readers stop after what is queued) and refuse new ones."""
        self._closed = True
        subscriptions, self._subscriptions = self._subscriptions, set()
        for subscription in subscriptions:
            subscription._end()

    def _add(self, subscription: Subscription) -> None:
        if self._closed:
            subscription._end()  # a subscription opened during shutdown ends at once
        else:
            self._subscriptions.add(subscription)

    def _remove(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)
