"""The single-process broker: publishing is a direct fan-out to this process's subscribers.

The default when no Redis is configured. It reaches only subscribers of the same process, so
it is correct only while the API runs as one process (the SQLite set-up).
"""

from __future__ import annotations

from app.events.broker import DEFAULT_QUEUE_SIZE, EventFilter, LocalFanOut, Subscription
from app.events.types import GatewayStatusChanged


class InMemoryBroker:
    def __init__(self, *, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self._fanout = LocalFanOut(queue_size=queue_size)

    @property
    def subscriber_count(self) -> int:
        return len(self._fanout)

    async def start(self) -> None:
        """Nothing to connect; present to satisfy the Broker protocol."""

    async def close(self) -> None:
        self._fanout.close()

    async def publish(self, event: GatewayStatusChanged) -> None:
        # Synchronous fan-out: when this returns, every subscriber has the event queued.
        self._fanout.deliver(event)

    def subscribe(
        self, *, accept: EventFilter | None = None, maxsize: int | None = None
    ) -> Subscription:
        return self._fanout.subscribe(accept=accept, maxsize=maxsize)
