"""Circuit breaker details a mutation run found unasserted: a finished probe frees exactly one
half-open slot, every transition starts a new epoch (not only the first), the transition log's
`cause` is None without an exception, and a breaker without listeners schedules no tasks."""

from __future__ import annotations

import asyncio
import logging

import pytest

from app.core.circuit_breaker import (
    BreakerConfig,
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
)
from app.core.clock import FakeClock

CONFIG = BreakerConfig(
    failure_threshold=2, monitor_window=60.0, reset_timeout=30.0, half_open_max_calls=3
)


class Down(Exception):
    pass


async def ignore(
    key: str, old: CircuitState, new: CircuitState, cause: BaseException | None
) -> None:
    return None


def make(clock: FakeClock, *, listener: bool = True) -> CircuitBreaker:
    return CircuitBreaker(
        "gw",
        CONFIG,
        clock=clock,
        is_failure=lambda exc: isinstance(exc, Down),
        on_state_change=ignore if listener else None,
    )


async def down() -> None:
    raise Down


async def trip(breaker: CircuitBreaker) -> None:
    for _ in range(CONFIG.failure_threshold):
        with pytest.raises(Down):
            await breaker.call(down)
    assert breaker.state is CircuitState.OPEN


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


class Held:
    """A call that holds its slot until released."""

    def __init__(self, breaker: CircuitBreaker, *, fail: bool = False) -> None:
        self.release = asyncio.Event()
        self.started = False
        self.fail = fail
        self.task = asyncio.create_task(breaker.call(self._run))

    async def _run(self) -> str:
        self.started = True
        await self.release.wait()
        if self.fail:
            raise Down
        return "done"


async def test_a_finished_probe_frees_exactly_one_slot() -> None:
    clock = FakeClock()
    breaker = make(clock)
    await trip(breaker)
    clock.advance(CONFIG.reset_timeout)
    first = [Held(breaker) for _ in range(CONFIG.half_open_max_calls)]
    await settle()
    first[0].release.set()
    await first[0].task  # two probes still in flight: one slot is free, not two

    second = [Held(breaker), Held(breaker)]
    await settle()

    assert second[0].started
    assert not second[1].started
    with pytest.raises(CircuitOpenError):
        await second[1].task
    for held in [*first[1:], second[0]]:
        held.release.set()
    await asyncio.gather(*(h.task for h in [*first[1:], second[0]]))


async def test_a_call_from_before_a_later_reset_is_not_counted() -> None:
    clock = FakeClock()
    breaker = make(clock)
    await breaker.force_open()
    await breaker.reset()  # two transitions already: the epoch must keep moving after them
    stale = Held(breaker, fail=True)
    await settle()
    await breaker.reset()

    stale.release.set()
    with pytest.raises(Down):
        await stale.task

    assert breaker.stats().failures == 0


async def test_a_transition_without_an_exception_logs_no_cause(
    caplog: pytest.LogCaptureFixture,
) -> None:
    breaker = make(FakeClock())
    with caplog.at_level(logging.INFO, logger="app.circuit"):
        await breaker.force_open()

    [record] = [r for r in caplog.records if r.getMessage() == "circuit.state.changed"]
    assert record.__dict__["cause"] is None
    assert record.__dict__["new"] == "FORCED_OPEN"


async def test_without_listeners_a_stats_read_schedules_no_task() -> None:
    clock = FakeClock()
    breaker = make(clock, listener=False)
    await trip(breaker)
    clock.advance(CONFIG.reset_timeout)

    assert breaker.stats().state is CircuitState.HALF_OPEN
    assert breaker._tasks == set()


async def test_a_listener_calling_back_is_never_re_entered() -> None:
    trace: list[str] = []
    breaker: CircuitBreaker

    async def listener(
        key: str, old: CircuitState, new: CircuitState, cause: BaseException | None
    ) -> None:
        trace.append(f"start {new}")
        if new is CircuitState.FORCED_OPEN:
            await breaker.reset()  # enqueues CLOSED; delivered after this listener returns
        trace.append(f"end {new}")

    breaker = CircuitBreaker(
        "gw", CONFIG, clock=FakeClock(), is_failure=lambda e: False, on_state_change=listener
    )
    await breaker.force_open()

    assert trace == ["start FORCED_OPEN", "end FORCED_OPEN", "start CLOSED", "end CLOSED"]


async def test_a_failing_listener_is_logged_with_the_breaker_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(
        key: str, old: CircuitState, new: CircuitState, cause: BaseException | None
    ) -> None:
        raise RuntimeError("listener bug")

    breaker = CircuitBreaker(
        "gw-7", CONFIG, clock=FakeClock(), is_failure=lambda e: False, on_state_change=broken
    )
    with caplog.at_level(logging.ERROR, logger="app.circuit"):
        await breaker.force_open()

    [record] = [r for r in caplog.records if r.getMessage() == "circuit.listener.failed"]
    assert (record.__dict__["key"], record.__dict__["old"], record.__dict__["new"]) == (
        "gw-7",
        "CLOSED",
        "FORCED_OPEN",
    )
