"""The circuit breaker state machine, driven by a FakeClock (nothing here sleeps)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from app.core.circuit_breaker import (
    BreakerConfig,
    BreakerRegistry,
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    StateListener,
)
from app.core.clock import FakeClock

CLOSED, OPEN = CircuitState.CLOSED, CircuitState.OPEN
HALF_OPEN, FORCED_OPEN = CircuitState.HALF_OPEN, CircuitState.FORCED_OPEN
CONFIG = BreakerConfig(failure_threshold=3, monitor_window=60.0, reset_timeout=30.0)


class UpstreamDown(Exception):
    """Counts against the breaker (like UnavailableError); may carry a Retry-After."""

    def __init__(self, retry_after: float | None = None) -> None:
        super().__init__("upstream down")
        self.retry_after = retry_after


class UserError(Exception):
    """Does not count (like BadRequestError)."""


def is_failure(exc: BaseException) -> bool:
    return isinstance(exc, UpstreamDown)


def retry_after_of(exc: BaseException) -> float | None:
    return exc.retry_after if isinstance(exc, UpstreamDown) else None


Transition = tuple[str, CircuitState, CircuitState, BaseException | None]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def transitions() -> list[Transition]:
    return []


@pytest.fixture
def listener(transitions: list[Transition]) -> StateListener:
    async def record(
        key: str, old: CircuitState, new: CircuitState, cause: BaseException | None
    ) -> None:
        transitions.append((key, old, new, cause))

    return record


@pytest.fixture
def breaker(clock: FakeClock, listener: StateListener) -> CircuitBreaker:
    return CircuitBreaker(
        "gw-1",
        CONFIG,
        clock=clock,
        is_failure=is_failure,
        retry_after_of=retry_after_of,
        on_state_change=listener,
    )


def raising(exc: BaseException) -> Callable[[], Awaitable[str]]:
    async def fn() -> str:
        raise exc

    return fn


async def ok() -> str:
    return "ok"


async def fail(breaker: CircuitBreaker, exc: Exception | None = None) -> None:
    error = exc or UpstreamDown()
    with pytest.raises(type(error)) as info:
        await breaker.call(raising(error))
    assert info.value is error  # re-raised unchanged, never wrapped


async def trip(breaker: CircuitBreaker, exc: Exception | None = None) -> None:
    for _ in range(CONFIG.failure_threshold):
        await fail(breaker, exc)
    assert breaker.state is OPEN


async def to_half_open(breaker: CircuitBreaker, clock: FakeClock) -> None:
    await trip(breaker)
    clock.advance(CONFIG.reset_timeout)
    assert breaker.state is HALF_OPEN


class Gate:
    """A call that holds its slot until released, to observe concurrency in HALF_OPEN."""

    def __init__(self, breaker: CircuitBreaker, outcome: BaseException | None = None) -> None:
        self.event = asyncio.Event()
        self.started = False
        self.outcome = outcome
        self.task = asyncio.create_task(breaker.call(self._run))

    async def _run(self) -> str:
        self.started = True
        await self.event.wait()
        if self.outcome is not None:
            raise self.outcome
        return "probed"

    async def finish(self) -> None:
        self.event.set()
        await asyncio.wait({self.task})


async def settle() -> None:
    """Let created tasks run up to their first real wait (no time passes on the clock)."""
    for _ in range(5):
        await asyncio.sleep(0)


# -- configuration and errors --------------------------------------------------------------------


def test_config_defaults() -> None:
    assert BreakerConfig() == BreakerConfig(5, 60.0, 30.0, 3)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"failure_threshold": 0},
        {"monitor_window": -1.0},
        {"reset_timeout": 0.0},
        {"half_open_max_calls": 0},
        {"monitor_window": float("nan")},
        {"reset_timeout": float("inf")},
    ],
)
def test_config_rejects_non_positive_values(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        BreakerConfig(**kwargs)  # type: ignore[arg-type]


def test_open_error_message_has_only_the_delay() -> None:
    error = CircuitOpenError(12.2)
    assert error.retry_after == 12.2
    assert str(error) == "Circuit open; retry in 13 s"


# -- CLOSED: the failure window ------------------------------------------------------------------


async def test_opens_at_the_threshold(breaker: CircuitBreaker) -> None:
    await fail(breaker)
    await fail(breaker)
    assert breaker.state is CLOSED
    assert breaker.stats().failures == 2
    await fail(breaker)
    assert breaker.state is OPEN


async def test_success_is_returned_and_does_not_clear_failures(breaker: CircuitBreaker) -> None:
    await fail(breaker)
    await fail(breaker)
    assert await breaker.call(ok) == "ok"
    await fail(breaker)
    assert breaker.state is OPEN  # a time window, not "consecutive failures"


async def test_old_failures_fall_out_of_the_window(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    await fail(breaker)
    clock.advance(30)
    await fail(breaker)
    clock.advance(30)  # the first failure is now exactly monitor_window old: out
    assert breaker.stats().failures == 1
    await fail(breaker)
    assert breaker.state is CLOSED
    clock.advance(61)
    assert breaker.stats().failures == 0


async def test_uncounted_errors_never_trip(breaker: CircuitBreaker) -> None:
    for _ in range(10):
        await fail(breaker, UserError("bad chat_id"))
    assert breaker.state is CLOSED
    assert breaker.stats().failures == 0
    assert breaker.stats().last_failure_at is None


async def test_window_memory_stays_bounded(breaker: CircuitBreaker, clock: FakeClock) -> None:
    for _ in range(100):
        await fail(breaker)
        assert breaker.stats().failures <= 2  # older failures were pruned, never piled up
        clock.advance(31)
    assert breaker.state is CLOSED
    for _ in range(120):  # a busy gateway: 50 successes a second for two minutes
        for _ in range(50):
            await breaker.call(ok)
        clock.advance(1)
    # the last 59 seconds' calls: those made exactly monitor_window ago have just left
    assert breaker.stats().successes == 50 * 59
    # one-second buckets: memory follows the window length, not the traffic
    assert len(breaker._successes) <= CONFIG.monitor_window + 1


async def test_successes_counted_in_the_window(breaker: CircuitBreaker, clock: FakeClock) -> None:
    for _ in range(4):
        await breaker.call(ok)
    clock.advance(30)
    await breaker.call(ok)
    assert breaker.stats().successes == 5
    clock.advance(31)
    assert breaker.stats().successes == 1


# -- OPEN ----------------------------------------------------------------------------------------


async def test_open_refuses_without_running_the_function(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    await trip(breaker)
    clock.advance(10)
    ran = False

    async def fn() -> str:
        nonlocal ran
        ran = True
        return "ran"

    with pytest.raises(CircuitOpenError) as info:
        await breaker.call(fn)
    assert not ran
    assert info.value.retry_after == pytest.approx(20.0)


async def test_open_lasts_reset_timeout(breaker: CircuitBreaker, clock: FakeClock) -> None:
    await trip(breaker)
    clock.advance(29.9)
    assert breaker.stats().state is OPEN
    assert breaker.stats().retry_after_seconds == pytest.approx(0.1)
    clock.advance(0.1)
    assert await breaker.call(ok) == "ok"  # the call itself notices the timeout and probes
    assert breaker.stats().successes == 1
    assert breaker.state is HALF_OPEN


async def test_longer_retry_after_extends_the_open_period(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    await fail(breaker)
    await fail(breaker)
    await fail(breaker, UpstreamDown(retry_after=120.0))
    assert breaker.stats().retry_after_seconds == pytest.approx(120.0)
    clock.advance(100)
    with pytest.raises(CircuitOpenError) as info:
        await breaker.call(ok)
    assert info.value.retry_after == pytest.approx(20.0)
    clock.advance(20)
    assert breaker.state is HALF_OPEN


async def test_shorter_retry_after_keeps_reset_timeout(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    await trip(breaker, UpstreamDown(retry_after=5.0))
    clock.advance(29)
    assert breaker.state is OPEN


async def test_stats_read_makes_the_lazy_transition_and_notifies(
    breaker: CircuitBreaker, clock: FakeClock, transitions: list[Transition]
) -> None:
    await trip(breaker)
    clock.advance(30)
    stats = breaker.stats()
    assert stats.state is HALF_OPEN
    assert stats.retry_after_seconds is None
    assert stats.last_state_change_at == clock.now()
    await settle()  # the notification of a synchronous read is delivered by a task
    assert transitions[-1] == ("gw-1", OPEN, HALF_OPEN, None)


# -- HALF_OPEN -----------------------------------------------------------------------------------


async def test_half_open_limits_concurrent_probes(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    await to_half_open(breaker, clock)
    probes = [Gate(breaker) for _ in range(CONFIG.half_open_max_calls)]
    await settle()
    assert all(p.started for p in probes)
    extra = Gate(breaker)
    await settle()
    assert not extra.started
    with pytest.raises(CircuitOpenError):
        await extra.task
    await probes[0].finish()  # one slot frees up
    late = Gate(breaker)
    await settle()
    assert late.started
    for gate in [*probes[1:], late]:
        await gate.finish()


async def test_enough_probe_successes_close(
    breaker: CircuitBreaker, clock: FakeClock, transitions: list[Transition]
) -> None:
    await to_half_open(breaker, clock)
    await breaker.call(ok)
    await breaker.call(ok)
    assert breaker.stats().state is HALF_OPEN
    assert breaker.stats().successes == 2
    await breaker.call(ok)
    stats = breaker.stats()
    assert (stats.state, stats.failures, stats.successes) == (CLOSED, 0, 0)
    assert transitions[-1] == ("gw-1", HALF_OPEN, CLOSED, None)


async def test_one_probe_failure_reopens(
    breaker: CircuitBreaker, clock: FakeClock, transitions: list[Transition]
) -> None:
    await to_half_open(breaker, clock)
    await breaker.call(ok)
    error = UpstreamDown(retry_after=45.0)
    await fail(breaker, error)
    stats = breaker.stats()
    assert (stats.state, stats.failures) == (OPEN, 4)  # the 3 that tripped it, 30 s ago, + 1
    assert stats.retry_after_seconds == pytest.approx(45.0)
    assert transitions[-1] == ("gw-1", HALF_OPEN, OPEN, error)


async def test_results_of_stale_probes_are_ignored(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    await to_half_open(breaker, clock)
    slow = Gate(breaker)
    await settle()
    await fail(breaker)  # reopens while `slow` is still running
    await slow.finish()
    assert slow.task.result() == "probed"
    assert breaker.stats().state is OPEN  # a success from the old round does not count
    clock.advance(30)
    assert breaker.stats().successes == 0
    probes = [Gate(breaker) for _ in range(CONFIG.half_open_max_calls)]
    await settle()
    assert all(p.started for p in probes)  # the old probe left no slot taken
    for gate in probes:
        await gate.finish()
    assert breaker.state is CLOSED


async def test_uncounted_error_in_half_open_is_neutral(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    await to_half_open(breaker, clock)
    probes = [Gate(breaker, UserError("bad request")) for _ in range(3)]
    await settle()
    for gate in probes:
        await gate.finish()
        assert isinstance(gate.task.exception(), UserError)
    stats = breaker.stats()
    assert (stats.state, stats.successes) == (HALF_OPEN, 0)  # neither closes nor reopens
    for _ in range(3):  # and every slot was given back
        assert await breaker.call(ok) == "ok"
    assert breaker.state is CLOSED


# -- cancellation --------------------------------------------------------------------------------


async def test_cancellation_frees_the_half_open_slot_and_counts_nothing(
    clock: FakeClock,
) -> None:
    seen: list[BaseException] = []

    def everything_fails(exc: BaseException) -> bool:
        seen.append(exc)
        return True

    breaker = CircuitBreaker("gw-1", CONFIG, clock=clock, is_failure=everything_fails)
    await to_half_open(breaker, clock)
    probes = [Gate(breaker) for _ in range(CONFIG.half_open_max_calls)]
    await settle()
    probes[0].task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probes[0].task
    assert breaker.stats().state is HALF_OPEN
    assert breaker.stats().successes == 0
    assert not any(isinstance(e, asyncio.CancelledError) for e in seen)
    replacement = Gate(breaker)
    await settle()
    assert replacement.started
    for gate in [*probes[1:], replacement]:
        await gate.finish()
    assert breaker.state is CLOSED


async def test_cancellation_in_closed_is_not_a_failure(breaker: CircuitBreaker) -> None:
    for _ in range(CONFIG.failure_threshold):
        gate = Gate(breaker)
        await settle()
        gate.task.cancel()
        await asyncio.wait({gate.task})
        assert gate.task.cancelled()
    stats = breaker.stats()
    assert (stats.state, stats.failures, stats.successes) == (CLOSED, 0, 0)


# -- manual control ------------------------------------------------------------------------------


async def test_reset_closes_and_clears_the_window(
    breaker: CircuitBreaker, transitions: list[Transition]
) -> None:
    await trip(breaker)
    await breaker.reset()
    assert transitions[-1] == ("gw-1", OPEN, CLOSED, None)
    assert breaker.stats().failures == 0
    await fail(breaker)
    await fail(breaker)
    count = len(transitions)
    await breaker.reset()  # already CLOSED: window cleared, nobody notified
    assert len(transitions) == count
    await fail(breaker)
    await fail(breaker)
    assert breaker.state is CLOSED


async def test_force_open_refuses_until_reset(
    breaker: CircuitBreaker, clock: FakeClock, transitions: list[Transition]
) -> None:
    await breaker.force_open()
    assert transitions == [("gw-1", CLOSED, FORCED_OPEN, None)]
    clock.advance(10_000)  # time never lifts a forced open
    with pytest.raises(CircuitOpenError):
        await breaker.call(ok)
    stats = breaker.stats()
    assert (stats.state, stats.retry_after_seconds) == (FORCED_OPEN, None)
    await breaker.reset()
    assert await breaker.call(ok) == "ok"
    assert transitions[-1] == ("gw-1", FORCED_OPEN, CLOSED, None)


async def test_calls_started_before_reset_do_not_count_after_it(breaker: CircuitBreaker) -> None:
    await fail(breaker)
    gates = [Gate(breaker, UpstreamDown()) for _ in range(CONFIG.failure_threshold)]
    await settle()
    await breaker.reset()
    for gate in gates:
        await gate.finish()
        assert isinstance(gate.task.exception(), UpstreamDown)
    assert breaker.state is CLOSED
    assert breaker.stats().failures == 0


# -- stats, listener and logs --------------------------------------------------------------------


async def test_stats_timestamps_use_the_wall_clock(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    start = clock.now()
    assert breaker.stats().last_state_change_at is None
    await fail(breaker)
    clock.advance(5)
    await fail(breaker)
    await fail(breaker)
    stats = breaker.stats()
    assert stats.last_failure_at == start + timedelta(seconds=5)
    assert stats.last_state_change_at == start + timedelta(seconds=5)
    assert (stats.state, stats.failures, stats.retry_after_seconds) == (OPEN, 3, 30.0)


async def test_listener_sees_every_transition_in_order(
    breaker: CircuitBreaker, clock: FakeClock, transitions: list[Transition]
) -> None:
    error = UpstreamDown()
    await fail(breaker)
    await fail(breaker)
    await fail(breaker, error)
    clock.advance(30)
    for _ in range(CONFIG.half_open_max_calls):
        await breaker.call(ok)
    assert transitions == [
        ("gw-1", CLOSED, OPEN, error),
        ("gw-1", OPEN, HALF_OPEN, None),
        ("gw-1", HALF_OPEN, CLOSED, None),
    ]


async def test_raising_listener_is_logged_and_calls_go_on(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(key: str, old: CircuitState, new: CircuitState, cause: object) -> None:
        raise RuntimeError("listener bug")

    breaker = CircuitBreaker(
        "gw-1", CONFIG, clock=clock, is_failure=is_failure, on_state_change=broken
    )
    with caplog.at_level(logging.INFO, logger="app.circuit"):
        await trip(breaker)  # the third failure still raises UpstreamDown, not RuntimeError
        clock.advance(30)
        assert await breaker.call(ok) == "ok"
    failed = [r for r in caplog.records if r.getMessage() == "circuit.listener.failed"]
    assert [(r.old, r.new) for r in failed] == [("CLOSED", "OPEN"), ("OPEN", "HALF_OPEN")]  # type: ignore[attr-defined]
    assert all(r.exc_info is not None for r in failed)


async def test_listener_may_call_back_into_the_breaker(
    clock: FakeClock, transitions: list[Transition]
) -> None:
    async def auto_reset(
        key: str, old: CircuitState, new: CircuitState, cause: BaseException | None
    ) -> None:
        transitions.append((key, old, new, cause))
        if new is OPEN:
            await subject.reset()  # would deadlock if delivery held a lock

    subject = CircuitBreaker(
        "gw-1", CONFIG, clock=clock, is_failure=is_failure, on_state_change=auto_reset
    )
    for _ in range(CONFIG.failure_threshold):
        await fail(subject)
    assert subject.state is CLOSED
    assert [(old, new) for _, old, new, _ in transitions] == [(CLOSED, OPEN), (OPEN, CLOSED)]


async def test_transitions_are_logged(
    breaker: CircuitBreaker, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="app.circuit"):
        await trip(breaker)
    [record] = [r for r in caplog.records if r.getMessage() == "circuit.state.changed"]
    assert (record.key, record.old, record.new) == ("gw-1", "CLOSED", "OPEN")  # type: ignore[attr-defined]
    assert record.cause == "UpstreamDown"  # type: ignore[attr-defined]
    assert "upstream down" not in caplog.text  # the exception's message is not logged


# -- registry ------------------------------------------------------------------------------------


async def test_registry_get_peek_drop(clock: FakeClock, transitions: list[Transition]) -> None:
    async def record(
        key: str, old: CircuitState, new: CircuitState, cause: BaseException | None
    ) -> None:
        transitions.append((key, old, new, cause))

    registry = BreakerRegistry(
        clock=clock, is_failure=is_failure, retry_after_of=retry_after_of, on_state_change=record
    )
    assert registry.peek("gw-a") is None
    assert len(registry) == 0
    a = registry.get("gw-a", CONFIG)
    assert registry.get("gw-a", BreakerConfig(failure_threshold=1)) is a  # first config wins
    assert registry.peek("gw-a") is a
    b = registry.get("gw-b", CONFIG)
    assert b is not a
    assert (a.key, b.key, len(registry)) == ("gw-a", "gw-b", 2)

    await trip(a, UpstreamDown(retry_after=90.0))
    assert b.state is CLOSED  # one gateway's outage never blocks another
    assert a.stats().retry_after_seconds == pytest.approx(90.0)  # registry wired retry_after_of
    assert transitions[-1][:3] == ("gw-a", CLOSED, OPEN)

    registry.drop("gw-a")
    registry.drop("gw-missing")  # forgetting an unknown key is a no-op
    assert registry.peek("gw-a") is None
    assert len(registry) == 1
    assert registry.get("gw-a", CONFIG).state is CLOSED  # a fresh breaker after drop
