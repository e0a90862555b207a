"""The keyed token-bucket limiter, on a FakeClock with a sleep that advances it (no real waits)."""

from __future__ import annotations

import asyncio

import pytest

from app.core.clock import FakeClock
from app.core.rate_limit import RateLimiter, RateLimitExceeded, acquire_all


class ClockSleep:
    """Records each wait and moves the fake clock by it, as a real sleep would."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        self.clock.advance(delay)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleep(clock: FakeClock) -> ClockSleep:
    return ClockSleep(clock)


def limiter(clock: FakeClock, sleep: ClockSleep, rate: float, **kwargs: float) -> RateLimiter:
    return RateLimiter(rate, clock=clock, sleep=sleep, **kwargs)  # type: ignore[arg-type]


async def test_a_burst_passes_then_calls_are_spaced(clock: FakeClock, sleep: ClockSleep) -> None:
    bucket = limiter(clock, sleep, rate=10.0, burst=3)
    for _ in range(3):
        await bucket.acquire("bot", max_wait=1.0)
    assert sleep.delays == []
    await bucket.acquire("bot", max_wait=1.0)
    await bucket.acquire("bot", max_wait=1.0)
    assert sleep.delays == pytest.approx([0.1, 0.1])


async def test_a_full_burst_is_not_refused_by_float_drift(
    clock: FakeClock, sleep: ClockSleep
) -> None:
    bucket = limiter(clock, sleep, rate=3.0, burst=3)  # 1/3 does not add up exactly
    for _ in range(3):
        await bucket.acquire("bot", max_wait=0)
    with pytest.raises(RateLimitExceeded):
        await bucket.acquire("bot", max_wait=0)


async def test_the_bucket_refills_with_time(clock: FakeClock, sleep: ClockSleep) -> None:
    bucket = limiter(clock, sleep, rate=1.0)
    await bucket.acquire("chat", max_wait=0)
    clock.advance(1.0)
    await bucket.acquire("chat", max_wait=0)
    assert sleep.delays == []


async def test_a_wait_beyond_max_wait_is_refused_with_retry_after(
    clock: FakeClock, sleep: ClockSleep
) -> None:
    bucket = limiter(clock, sleep, rate=1.0)
    await bucket.acquire("chat", max_wait=2.0)
    await bucket.acquire("chat", max_wait=2.0)  # waits 1 s
    await bucket.acquire("chat", max_wait=2.0)  # waits 1 s more
    clock.advance(0.5)
    assert bucket.peek("chat") == pytest.approx(0.5)
    with pytest.raises(RateLimitExceeded) as info:
        await bucket.acquire("chat", max_wait=0.25)
    assert info.value.retry_after == pytest.approx(0.5)
    assert info.value.key == "chat"
    # A refused call reserves nothing: after retry_after the slot is free.
    clock.advance(0.5)
    await bucket.acquire("chat", max_wait=0)
    assert sleep.delays == pytest.approx([1.0, 1.0])


async def test_keys_are_independent(clock: FakeClock, sleep: ClockSleep) -> None:
    bucket = limiter(clock, sleep, rate=1.0)
    await bucket.acquire("a", max_wait=0)
    await bucket.acquire("b", max_wait=0)
    with pytest.raises(RateLimitExceeded):
        await bucket.acquire("a", max_wait=0)


async def test_concurrent_callers_queue_in_order(clock: FakeClock) -> None:
    waits: list[float] = []

    async def record(delay: float) -> None:
        waits.append(delay)  # the clock does not move: all reserve "at once"

    bucket = RateLimiter(2.0, clock=clock, sleep=record)
    await asyncio.gather(*(bucket.acquire("chat", max_wait=5.0) for _ in range(4)))
    assert sorted(waits) == pytest.approx([0.5, 1.0, 1.5])  # the first went straight through


async def test_idle_keys_are_evicted(clock: FakeClock, sleep: ClockSleep) -> None:
    bucket = limiter(clock, sleep, rate=1.0, sweep_interval=60.0)
    for i in range(100):
        await bucket.acquire(f"chat-{i}", max_wait=0)
    assert len(bucket) == 100
    clock.advance(61.0)
    await bucket.acquire("fresh", max_wait=0)
    assert len(bucket) == 1  # only the key still inside its interval is kept


async def test_the_table_is_swept_when_it_outgrows_max_keys(
    clock: FakeClock, sleep: ClockSleep
) -> None:
    bucket = limiter(clock, sleep, rate=10.0, max_keys=10, sweep_interval=3600.0)
    for i in range(10):
        await bucket.acquire(f"k{i}", max_wait=0)
    clock.advance(1.0)  # every bucket is full again, long before the periodic sweep
    await bucket.acquire("new", max_wait=0)
    assert len(bucket) == 1


async def test_busy_keys_survive_a_sweep(clock: FakeClock, sleep: ClockSleep) -> None:
    bucket = limiter(clock, sleep, rate=0.01, sweep_interval=1.0)  # one call per 100 s
    await bucket.acquire("busy", max_wait=0)
    clock.advance(2.0)
    await bucket.acquire("other", max_wait=0)
    assert len(bucket) == 2
    with pytest.raises(RateLimitExceeded):
        await bucket.acquire("busy", max_wait=10.0)


async def test_acquire_all_takes_every_slot_or_none(clock: FakeClock, sleep: ClockSleep) -> None:
    per_bot = limiter(clock, sleep, rate=30.0, burst=30)
    per_chat = limiter(clock, sleep, rate=1.0)
    await acquire_all([(per_bot, "bot"), (per_chat, "bot:1")], max_wait=0, sleep=sleep)
    before = per_bot.peek("bot")
    with pytest.raises(RateLimitExceeded) as info:
        await acquire_all([(per_bot, "bot"), (per_chat, "bot:1")], max_wait=0.5, sleep=sleep)
    assert info.value.key == "bot:1"
    assert per_bot.peek("bot") == before  # the refused chat did not cost the bot a slot
    # Another chat of the same bot is not held up.
    await acquire_all([(per_bot, "bot"), (per_chat, "bot:2")], max_wait=0, sleep=sleep)
    # Within max_wait the caller sleeps for the slowest limit.
    await acquire_all([(per_bot, "bot"), (per_chat, "bot:1")], max_wait=2.0, sleep=sleep)
    assert sleep.delays == pytest.approx([1.0])


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1.0), (-1.0, 1.0), (1.0, 0.5)])
def test_invalid_settings_are_refused(clock: FakeClock, rate: float, burst: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        RateLimiter(rate, burst=burst, clock=clock)
