"""Login throttling: failed logins counted per (email, client), per client and per email.

One lock per email would let anyone lock anyone out with five wrong passwords. Instead:

- per (email, client): a handful of guesses from one place at one account; this is the limit
  a forgetful owner meets, and it only ever blocks the place the guesses came from;
- per client: one place guessing at many accounts (password spraying);
- per email: a much higher ceiling on guesses at one account from many places (a botnet). Reaching
  it does block the owner too, but it takes as many addresses as the ceiling is high.

"Client" is `throttle_key` of the proxy-aware client address (an IPv4 address or an IPv6 /64).

The counters are rows in the database (`LoginFailure`), not process memory: several server
processes behind a load balancer share one database, so they share the counts, and no sticky
sessions are needed. An attempt is recorded *before* it is judged and counts itself, so parallel
attempts see each other even across processes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from tortoise.expressions import Q

from app.auth.models import LoginFailure

Limit = Literal["client_email", "client", "email"]


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """Failed logins allowed within `window`, per key."""

    per_client_email: int = 5
    per_client: int = 50
    per_email: int = 100
    window: timedelta = timedelta(minutes=15)


DEFAULT_LIMITS = LoginLimits()


@dataclass(frozen=True, slots=True)
class Refusal:
    limit: Limit
    retry_after: float


async def record_attempt(email: str, client_key: str, now: datetime) -> LoginFailure:
    """Record an attempt as a failure up front; a success deletes it, a refusal too."""
    return await LoginFailure.create(email=email, client_key=client_key, created_at=now)


async def judge(attempt: LoginFailure, limits: LoginLimits, now: datetime) -> Refusal | None:
    """Whether the recorded `attempt` must be refused, and until when.

    The rows read are bounded: refused attempts are deleted, so no key holds many more rows than
    its limit (plus whatever is in flight at the same moment).
    """
    email, client = attempt.email, attempt.client_key
    rows = (
        await LoginFailure.filter(
            Q(email=email) | Q(client_key=client), created_at__gte=now - limits.window
        )
        .exclude(id=attempt.id)
        .values_list("email", "client_key", "created_at")
    )
    checks: list[tuple[Limit, int, Callable[[str, str], bool]]] = [
        ("client_email", limits.per_client_email, lambda e, c: e == email and c == client),
        ("client", limits.per_client, lambda e, c: c == client),
        ("email", limits.per_email, lambda e, c: e == email),
    ]
    refusal: Refusal | None = None
    for name, limit, matches in checks:
        times = sorted(at for e, c, at in rows if matches(e, c))
        if len(times) < limit:
            continue
        # The key reopens when its oldest counted failure ages out of the window.
        oldest: datetime = times[-limit]
        retry_after = max(1.0, (oldest + limits.window - now).total_seconds())
        if refusal is None or retry_after > refusal.retry_after:
            refusal = Refusal(name, retry_after)
    return refusal


async def forget_attempt(attempt: LoginFailure) -> None:
    """A refused attempt is not a failure: it must not extend the lock-out."""
    await LoginFailure.filter(id=attempt.id).delete()


async def clear_after_success(email: str, client_key: str) -> None:
    """The owner proved themselves from this client: their slips there are forgiven.

    Failures at this email from other clients stay: they may be someone else's guesses, and the
    per-email ceiling must keep counting them.
    """
    await LoginFailure.filter(email=email, client_key=client_key).delete()


async def prune(limits: LoginLimits, now: datetime) -> int:
    """Delete failures that can no longer count against any key."""
    deleted: int = await LoginFailure.filter(created_at__lt=now - limits.window).delete()
    return deleted
