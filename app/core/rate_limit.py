"""Keyed rate limiting for outgoing calls: a token bucket per key, in the GCRA formulation.

Each key keeps one number, its "theoretical arrival time" (TAT): the moment the bucket would be
full again. A call at `now` may start at `max(TAT, now) - tolerance`, where tolerance lets `burst`
calls through back to back; taking a slot pushes TAT one interval (1 / rate) further.

Slots are *reserved* before the caller sleeps, with no `await` between reading and writing a key,
so concurrent tasks queue in order without a lock. A task cancelled while it waits forfeits its
slot: that errs on the side of sending less, which is what a limiter is for.

Memory is bounded: a key whose TAT has passed is indistinguishable from a key never seen, so it is
dropped by a periodic sweep (and by an immediate one when the table grows past `max_keys`).

This limiter is per process; with several instances each enforces its own share, which is fine for
limits that are advisory (Telegram's "about 30 messages per second").
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from app.core.clock import Clock

_EPSILON = 1e-9


class RateLimitExceeded(Exception):
    """The wait for a slot would exceed `max_wait`; `retry_after` says when one frees up."""

    def __init__(self, key: str, retry_after: float) -> None:
        # The key may be an internal identifier: callers decide what to show.
        super().__init__(f"rate limit exceeded; retry after {retry_after:.2f}s")
        self.key = key
        self.retry_after = retry_after


class RateLimiter:
    """`rate` calls per second per key, up to `burst` of them at once."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Clock,
        burst: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_keys: int = 10_000,
        sweep_interval: float = 60.0,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self._interval = 1.0 / rate
        self._tolerance = self._interval * (burst - 1)
        self._clock = clock
        self._sleep = sleep
        self._max_keys = max_keys
        self._sweep_interval = sweep_interval
        self._tat: dict[str, float] = {}
        self._last_sweep = clock.monotonic()

    def __len__(self) -> int:
        """Keys currently tracked (for tests and metrics)."""
        return len(self._tat)

    def peek(self, key: str) -> float:
        """Seconds a call on `key` would have to wait now; reserves nothing."""
        now = self._clock.monotonic()
        tat = max(self._tat.get(key, now), now)
        return self._wait(tat, now)

    def reserve(self, key: str) -> float:
        """Take the next slot on `key` unconditionally; returns how long to wait before using it."""
        now = self._clock.monotonic()
        self._maybe_sweep(now)
        tat = max(self._tat.get(key, now), now)
        self._tat[key] = tat + self._interval
        return self._wait(tat, now)

    async def acquire(self, key: str, *, max_wait: float) -> None:
        """Wait for a slot on `key`, or raise `RateLimitExceeded` if that takes over `max_wait`."""
        await acquire_all([(self, key)], max_wait=max_wait, sleep=self._sleep)

    def _wait(self, tat: float, now: float) -> float:
        wait = tat - self._tolerance - now
        # Sums of 1/rate drift by an ulp or two; that must not turn "now" into "refused".
        return wait if wait > _EPSILON else 0.0

    def _maybe_sweep(self, now: float) -> None:
        if now - self._last_sweep < self._sweep_interval and len(self._tat) < self._max_keys:
            return
        self._last_sweep = now
        # A full bucket carries no information: dropping it changes no future decision.
        self._tat = {key: tat for key, tat in self._tat.items() if tat > now}


async def acquire_all(
    limits: Sequence[tuple[RateLimiter, str]],
    *,
    max_wait: float,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Take a slot on every (limiter, key) pair, or on none of them.

    All waits are checked before anything is reserved, so a call refused by one limit does not
    use up a slot of another (a message refused for its chat must not count against its bot).
    The caller then waits for the slowest of them.
    """
    waits = [(limiter.peek(key), key) for limiter, key in limits]
    longest, key = max(waits, default=(0.0, ""))
    if longest > max_wait:
        raise RateLimitExceeded(key, longest)
    delay = max((limiter.reserve(key) for limiter, key in limits), default=0.0)
    if delay > 0:
        await sleep(delay)
