"""An asyncio circuit breaker with a time window, Retry-After and a bounded half-open probe.

               failure_threshold counted failures within monitor_window
   ┌────────┐ ──────────────────────────────────────────────────────────▶ ┌──────┐
   │ CLOSED │                                                              │ OPEN │ refuses calls
   └────────┘ ◀──────────┐                                                 └──────┘
       ▲                 │ half_open_max_calls     max(reset_timeout,         │  ▲  any counted
       │ reset()         │ probe successes         Retry-After) elapsed,      │  │  probe failure
       │ (from any       │                         noticed lazily by the      │  │
       │  state)         │                         next call or stats read    ▼  │
 ┌─────────────┐         │                                               ┌───────────┐
 │ FORCED_OPEN │         └────────────────────────────────────────────── │ HALF_OPEN │
 └─────────────┘                                                         └───────────┘
 force_open() from any state;                              at most half_open_max_calls probes
 refuses every call until reset()                          at once; further calls are refused

Modelled on resilience4j (time-based window, lazy OPEN→HALF_OPEN, FORCED_OPEN) and Polly v8
(injected `ShouldHandle` predicate, dynamic break duration). Which exceptions count is decided by
the injected `is_failure`, so this module knows nothing about providers. Every call ends as a
success, a counted failure, or neutral (an exception `is_failure` rejects, or cancellation):
neutral calls free their half-open slot and move no counter. Exceptions are always re-raised.

All state changes happen in synchronous code between awaits, so on one event loop no lock is
needed. Every call carries the `epoch` it was admitted in; a transition bumps the epoch, so the
result of a call that started under an earlier state (or before reset()) cannot move counters of
the current one — in particular a stale probe cannot release a slot of a newer half-open round.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import TypeVar

from app.core.clock import Clock

T = TypeVar("T")
logger = logging.getLogger("app.circuit")

# A HALF_OPEN circuit at its probe limit frees a slot as soon as any probe returns, i.e. after
# about one upstream round trip: a short hint rather than a full reset_timeout.
_HALF_OPEN_RETRY_HINT = 1.0


class CircuitState(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"
    FORCED_OPEN = "FORCED_OPEN"


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    failure_threshold: int = 5
    monitor_window: float = 60.0
    reset_timeout: float = 30.0
    half_open_max_calls: int = 3

    def __post_init__(self) -> None:
        for name in ("failure_threshold", "monitor_window", "reset_timeout", "half_open_max_calls"):
            value = getattr(self, name)
            # `not value > 0` also rejects NaN; an infinite duration would never reopen the gate.
            if not value > 0 or not math.isfinite(value):
                raise ValueError(f"{name} must be a positive finite number, got {value!r}")


@dataclass(frozen=True, slots=True)
class CircuitStats:
    state: CircuitState
    failures: int
    successes: int
    last_failure_at: datetime | None
    last_state_change_at: datetime | None
    retry_after_seconds: float | None


class CircuitOpenError(Exception):
    """The call was refused without running; the message carries no key or upstream detail."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"Circuit open; retry in {math.ceil(retry_after)} s")
        self.retry_after = retry_after


StateListener = Callable[[str, CircuitState, CircuitState, BaseException | None], Awaitable[None]]


def _no_retry_after(exc: BaseException) -> float | None:
    return None


class CircuitBreaker:
    def __init__(
        self,
        key: str,
        config: BreakerConfig,
        *,
        clock: Clock,
        is_failure: Callable[[BaseException], bool],
        retry_after_of: Callable[[BaseException], float | None] = _no_retry_after,
        on_state_change: StateListener | None = None,
    ) -> None:
        self._key = key
        self._config = config
        self._clock = clock
        self._is_failure = is_failure
        self._retry_after_of = retry_after_of
        self._listener = on_state_change
        self._state = CircuitState.CLOSED
        self._epoch = 0
        self._failures: deque[float] = deque()  # monotonic times of counted failures
        # Successes only feed stats, so one-second buckets [second, count] are precise enough and
        # keep memory at ~monitor_window entries however busy the gateway is.
        self._successes: deque[list[int]] = deque()
        self._open_until = 0.0
        self._probes = 0  # probes in flight in the current half-open round
        self._probe_successes = 0
        self._last_failure_at: datetime | None = None
        self._last_state_change_at: datetime | None = None
        self._events: deque[tuple[CircuitState, CircuitState, BaseException | None]] = deque()
        self._flushing = False
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def key(self) -> str:
        return self._key

    @property
    def config(self) -> BreakerConfig:
        return self._config

    @property
    def state(self) -> CircuitState:
        self._tick()
        return self._state

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Run `fn` if the circuit admits it; every exception of `fn` is re-raised unchanged."""
        epoch, probe = self._admit()
        outcome: bool | None = None  # True success, False counted failure, None neutral
        cause: BaseException | None = None
        try:
            await self._flush()  # tell listeners about OPEN→HALF_OPEN before the probe runs
            result = await fn()
            outcome = True
            return result
        except Exception as exc:
            # An exception the predicate does not count is neutral, also in HALF_OPEN: it releases
            # the probe slot but is no evidence of health. The core cannot tell an upstream's 4xx
            # from a failure raised before any request was sent (bad params, a bug), so counting
            # it as a success could close a circuit on an upstream that is still down; the cost of
            # neutrality is only that closing waits for a real success.
            if self._is_failure(exc):
                outcome, cause = False, exc
            raise
        # CancelledError (a BaseException) leaves outcome None: neither failure nor success, and
        # the `finally` still frees its half-open slot.
        finally:
            self._settle(epoch, probe, outcome, cause)
            await self._flush()

    def stats(self) -> CircuitStats:
        now = self._tick()
        closed = self._state is CircuitState.CLOSED
        return CircuitStats(
            state=self._state,
            failures=len(self._failures),
            successes=sum(c for _, c in self._successes) if closed else self._probe_successes,
            last_failure_at=self._last_failure_at,
            last_state_change_at=self._last_state_change_at,
            retry_after_seconds=(
                max(0.0, self._open_until - now) if self._state is CircuitState.OPEN else None
            ),
        )

    async def reset(self) -> None:
        self._enter(CircuitState.CLOSED, None)
        await self._flush()

    async def force_open(self) -> None:
        self._enter(CircuitState.FORCED_OPEN, None)
        await self._flush()

    # -- state machine (synchronous: atomic on the event loop) ----------------------------------

    def _tick(self) -> float:
        now = self._clock.monotonic()
        if self._state is CircuitState.OPEN and now >= self._open_until:
            self._enter(CircuitState.HALF_OPEN, None)
            self._schedule_flush()
        horizon = now - self._config.monitor_window
        while self._failures and self._failures[0] <= horizon:
            self._failures.popleft()
        while self._successes and self._successes[0][0] <= horizon:
            self._successes.popleft()
        return now

    def _admit(self) -> tuple[int, bool]:
        now = self._tick()
        if self._state is CircuitState.CLOSED:
            return self._epoch, False
        if self._state is CircuitState.HALF_OPEN:
            if self._probes < self._config.half_open_max_calls:
                self._probes += 1
                return self._epoch, True
            raise CircuitOpenError(_HALF_OPEN_RETRY_HINT)
        if self._state is CircuitState.OPEN:
            raise CircuitOpenError(self._open_until - now)
        # FORCED_OPEN lasts until an operator resets it; reset_timeout is only a polite hint.
        raise CircuitOpenError(self._config.reset_timeout)

    def _settle(
        self, epoch: int, probe: bool, outcome: bool | None, cause: BaseException | None
    ) -> None:
        if outcome is False:
            self._last_failure_at = self._clock.now()
        if epoch != self._epoch:
            return  # admitted under an earlier state: its slot and verdict belong to that state
        if probe:
            self._probes -= 1
        if outcome is None:
            return
        now = self._tick()
        half_open = self._state is CircuitState.HALF_OPEN
        if outcome is False:
            self._failures.append(now)
            if half_open or len(self._failures) >= self._config.failure_threshold:
                self._open(now, cause)
        elif half_open:
            self._probe_successes += 1
            if self._probe_successes >= self._config.half_open_max_calls:
                self._enter(CircuitState.CLOSED, None)
        elif self._successes and self._successes[-1][0] == int(now):
            self._successes[-1][1] += 1
        else:
            self._successes.append([int(now), 1])

    def _open(self, now: float, cause: BaseException | None) -> None:
        duration = self._config.reset_timeout
        hint = self._retry_after_of(cause) if cause is not None else None
        if hint is not None and math.isfinite(hint) and hint > duration:
            duration = hint  # never reopen the gate before the upstream said it would answer
        self._enter(CircuitState.OPEN, cause)
        self._open_until = now + duration

    def _enter(self, new: CircuitState, cause: BaseException | None) -> None:
        old, self._state = self._state, new
        self._epoch += 1
        self._probes = self._probe_successes = 0
        self._successes.clear()
        if new is CircuitState.CLOSED:
            # The failure window survives OPEN/HALF_OPEN so stats show why the circuit opened;
            # closing (after recovery or reset()) starts a fresh window.
            self._failures.clear()
        if old is new:
            return
        self._last_state_change_at = self._clock.now()
        logger.info(
            "circuit.state.changed",
            extra={
                "key": self._key,
                "old": old.value,
                "new": new.value,
                "cause": type(cause).__name__ if cause is not None else None,
            },
        )
        if self._listener is not None:
            self._events.append((old, new, cause))

    # -- listener delivery -----------------------------------------------------------------------

    async def _flush(self) -> None:
        # One drainer at a time keeps events in order. A listener that calls back into this
        # breaker (e.g. reset()) only enqueues and returns, instead of waiting on itself.
        if self._flushing or self._listener is None:
            return
        self._flushing = True
        try:
            while self._events:
                old, new, cause = self._events.popleft()
                try:
                    await self._listener(self._key, old, new, cause)
                except Exception:
                    logger.exception(
                        "circuit.listener.failed",
                        extra={"key": self._key, "old": old.value, "new": new.value},
                    )
        finally:
            self._flushing = False

    def _schedule_flush(self) -> None:
        # stats()/state are synchronous; a transition they cause is delivered by a task, or by the
        # next async method when no loop is running.
        if not self._events or self._flushing:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._flush())
        self._tasks.add(task)  # keep a reference until done, or it may be garbage-collected
        task.add_done_callback(self._tasks.discard)


class BreakerRegistry:
    """One breaker per key, created on first use; the config given first wins until drop()."""

    def __init__(
        self,
        *,
        clock: Clock,
        is_failure: Callable[[BaseException], bool],
        retry_after_of: Callable[[BaseException], float | None] = _no_retry_after,
        on_state_change: StateListener | None = None,
    ) -> None:
        self._new = partial(
            CircuitBreaker,
            clock=clock,
            is_failure=is_failure,
            retry_after_of=retry_after_of,
            on_state_change=on_state_change,
        )
        self._breakers: dict[str, CircuitBreaker] = {}

    def get(self, key: str, config: BreakerConfig) -> CircuitBreaker:
        breaker = self._breakers.get(key)
        if breaker is None:
            breaker = self._breakers[key] = self._new(key, config)
        return breaker

    def peek(self, key: str) -> CircuitBreaker | None:
        return self._breakers.get(key)

    def drop(self, key: str) -> None:
        self._breakers.pop(key, None)

    def __len__(self) -> int:
        return len(self._breakers)

    def __iter__(self) -> Iterator[CircuitBreaker]:
        return iter(list(self._breakers.values()))
