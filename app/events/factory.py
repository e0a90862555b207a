"""Choose the broker from the configuration: Redis when a URL is set, otherwise in-memory."""

from __future__ import annotations

from app.events.broker import Broker
from app.events.memory import InMemoryBroker
from app.events.redis import DEFAULT_CHANNEL, RedisBroker


def create_broker(redis_url: str | None, *, channel: str = DEFAULT_CHANNEL) -> Broker:
    """A broker that is not started yet; the lifespan starts and closes it.

    Several API processes need Redis: with the in-memory broker each process would only see the
    events it published itself.
    """
    if redis_url:
        return RedisBroker(redis_url, channel)
    return InMemoryBroker()
