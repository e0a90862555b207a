"""create_broker picks the broker from the configuration (app/events/factory.py)."""

from __future__ import annotations

import pytest

from app.events.factory import create_broker
from app.events.memory import InMemoryBroker
from app.events.redis import RedisBroker


@pytest.mark.parametrize("url", [None, ""])
def test_no_redis_url_gives_the_in_memory_broker(url: str | None) -> None:
    assert isinstance(create_broker(url), InMemoryBroker)


def test_a_redis_url_gives_the_redis_broker_without_connecting() -> None:
    # Port 1 is closed: building the broker must not touch the network (start() does).
    assert isinstance(create_broker("redis://127.0.0.1:1/0"), RedisBroker)


def test_an_unsupported_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="scheme") as raised:
        create_broker("http://user:hunter2@example.com")
    assert "hunter2" not in str(raised.value)
