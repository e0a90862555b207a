"""Circuit breaker behaviours a mutation run showed no test noticing: when listeners hear the
lazy OPEN→HALF_OPEN transition, the retry hint of a full half-open round, and that the tasks
delivering notifications of synchronous reads are not kept once done."""

from __future__ import annotations

import asyncio

import pytest

from app.core.circuit_breaker import (
    BreakerConfig,
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
)
from app.core.clock import FakeClock

CONFIG = BreakerConfig(failure_threshold=2, monitor_window=60.0, reset_timeout=30.0)
Heard = list[tuple[CircuitState, CircuitState]]


class Down(Exception):
    pass


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def heard() -> Heard:
    return []


@pytest.fixture
def breaker(clock: FakeClock, heard: Heard) -> CircuitBreaker:
    async def listener(
        key: str, old: CircuitState, new: CircuitState, cause: BaseException | None
    ) -> None:
        heard.append((old, new))

    return CircuitBreaker(
        "gw",
        CONFIG,
        clock=clock,
        is_failure=lambda exc: isinstance(exc, Down),
        on_state_change=listener,
    )


async def trip(breaker: CircuitBreaker) -> None:
    async def down() -> None:
        raise Down

    for _ in range(CONFIG.failure_threshold):
        with pytest.raises(Down):
            await breaker.call(down)


async def test_listeners_hear_half_open_before_the_probe_runs(
    breaker: CircuitBreaker, clock: FakeClock, heard: Heard
) -> None:
    await trip(breaker)
    clock.advance(CONFIG.reset_timeout)
    seen_by_probe: Heard = []

    async def probe() -> str:
        # Recorded before the probe's first await: only an explicit flush in call() can have
        # delivered the transition by now (a scheduled task would run later).
        seen_by_probe.extend(heard)
        return "ok"

    # No stats()/state read in between: the probe's own admission makes the transition.
    assert await breaker.call(probe) == "ok"

    assert seen_by_probe[-1] == (CircuitState.OPEN, CircuitState.HALF_OPEN)


async def test_a_full_half_open_round_hints_a_one_second_retry(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    await trip(breaker)
    clock.advance(CONFIG.reset_timeout)
    release = asyncio.Event()

    async def slow_probe() -> None:
        await release.wait()

    probes = [
        asyncio.create_task(breaker.call(slow_probe)) for _ in range(CONFIG.half_open_max_calls)
    ]
    for _ in range(5):
        await asyncio.sleep(0)
    assert breaker.state is CircuitState.HALF_OPEN

    with pytest.raises(CircuitOpenError) as refused:
        await breaker.call(slow_probe)

    # About one upstream round trip, not reset_timeout: a slot frees when any probe returns.
    assert refused.value.retry_after == 1.0
    assert str(refused.value) == "Circuit open; retry in 1 s"
    release.set()
    await asyncio.gather(*probes)


async def test_notification_tasks_are_released_once_done(
    breaker: CircuitBreaker, clock: FakeClock, heard: Heard
) -> None:
    await trip(breaker)
    clock.advance(CONFIG.reset_timeout)

    assert breaker.stats().state is CircuitState.HALF_OPEN  # synchronous: schedules a task
    pending = set(breaker._tasks)
    assert len(pending) == 1  # referenced while it runs, or it could be garbage-collected
    await asyncio.wait(pending)
    await asyncio.sleep(0)  # done callbacks run on the next loop iteration

    assert heard[-1] == (CircuitState.OPEN, CircuitState.HALF_OPEN)
    assert breaker._tasks == set()
