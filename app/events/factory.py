"""Choose the broker from the configuration: Redis when a URL is set, otherwise in-memory."""

from __future__ import annotations

from app.events.broker import Broker
from app.events.memory import InMemoryBroker


def create_broker(redis_url: str | None, *, channel: str | None = None) -> Broker:
    """A broker that is not started yet; the lifespan starts and closes it.

    Several API processes need Redis: with the in-memory broker each process would only see the
    events it published itself.
    """
    if redis_url:
        # Imported only when used: redis-py imports the OpenTelemetry SDK at import time whenever
        # it is installed, and without Redis nothing OpenTelemetry should load (README: tracing).
        from app.events.redis import DEFAULT_CHANNEL, RedisBroker

        return RedisBroker(redis_url, channel or DEFAULT_CHANNEL)
    return InMemoryBroker()
