"""EventRowReader: one read per event, shared; a subscriber leaving cancels nobody's read."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import pytest

from app.core.clock import FakeClock
from app.gateways import event_rows
from app.gateways.event_rows import EventRowReader
from tests.events.support import make_event


@dataclass
class Reads:
    """Stands in for the database read: records each one and holds it until released."""

    calls: list[UUID] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def get_or_none(self, **kwargs: Any) -> str:
        self.calls.append(kwargs["id"])
        await self.release.wait()
        return f"row-{kwargs['id']}"


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Reads:
    fake = Reads()
    monkeypatch.setattr(event_rows.Gateway, "get_or_none", fake.get_or_none)
    return fake


async def test_concurrent_subscribers_share_one_read(reads: Reads) -> None:
    reader = EventRowReader(FakeClock())
    event = make_event(gateway_id=uuid4())

    waiting = [asyncio.create_task(reader.gateway_for(event)) for _ in range(50)]
    await asyncio.sleep(0)
    reads.release.set()
    rows = await asyncio.gather(*waiting)

    assert reads.calls == [event.gateway_id]
    assert set(rows) == {f"row-{event.gateway_id}"}


async def test_each_event_gets_its_own_read_and_old_reads_are_forgotten(
    reads: Reads,
) -> None:
    reads.release.set()
    clock = FakeClock()
    reader = EventRowReader(clock, keep=5.0)
    gateway_id = uuid4()
    first, second = make_event(gateway_id=gateway_id), make_event(gateway_id=gateway_id)

    await reader.gateway_for(first)
    await reader.gateway_for(first)
    await reader.gateway_for(second)
    clock.advance(6)
    await reader.gateway_for(first)

    assert reads.calls == [gateway_id] * 3


async def test_a_cancelled_subscriber_does_not_cancel_the_shared_read(reads: Reads) -> None:
    reader = EventRowReader(FakeClock())
    event = make_event()

    leaving = asyncio.create_task(reader.gateway_for(event))
    staying = asyncio.create_task(reader.gateway_for(event))
    await asyncio.sleep(0)
    leaving.cancel()
    reads.release.set()

    assert await staying == f"row-{event.gateway_id}"
    with pytest.raises(asyncio.CancelledError):
        await leaving
