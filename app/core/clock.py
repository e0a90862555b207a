"""Time sources: the wall clock for timestamps, a monotonic clock for intervals.

Code that measures durations (circuit breakers, rate limiters, lease expiry) takes a `Clock` so
tests can drive time with `FakeClock` instead of sleeping.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (never naive: Tortoise compares in UTC)."""
    return datetime.now(UTC)


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards; only differences are meaningful."""
        ...

    def now(self) -> datetime:
        """Aware UTC wall-clock time, for timestamps shown to people."""
        ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return utcnow()


class FakeClock:
    """A clock that moves only when told to; `advance` moves both readings together."""

    def __init__(self, start: datetime | None = None) -> None:
        self._mono = 1000.0
        self._wall = start or datetime(2026, 1, 1, tzinfo=UTC)

    def monotonic(self) -> float:
        return self._mono

    def now(self) -> datetime:
        return self._wall

    def advance(self, seconds: float) -> None:
        self._mono += seconds
        self._wall += timedelta(seconds=seconds)
