"""Housekeeping of the auth tables (run by each health-check pass)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.auth.models import AuthToken, LoginFailure
from app.auth.service import AuthService
from app.core.clock import FakeClock, utcnow
from app.errors import InvalidCredentialsError
from tests.support.harness import Harness

HOME = "198.51.100.10"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=utcnow())


async def test_prune_removes_stale_failures_and_dead_tokens(
    any_harness: Harness, clock: FakeClock
) -> None:
    auth: AuthService = any_harness.services.auth
    kept_alive = await auth.register("alive@example.com", "correct horse battery", "A")
    revoked = await auth.register("revoked@example.com", "correct horse battery", "R")
    with pytest.raises(InvalidCredentialsError):
        await auth.login("nobody@example.com", "wrong password!", client_host=HOME)
    found = await auth.authenticate(revoked.token)
    assert found is not None
    assert await auth.logout(found.token_hash)

    clock.advance(timedelta(days=2).total_seconds())
    pruned = await auth.prune()

    assert pruned == 2  # the old failed login and the revoked token
    assert await LoginFailure.all().count() == 0
    assert await auth.authenticate(kept_alive.token) is not None
    assert await AuthToken.filter(revoked_at__isnull=False).count() == 0


async def test_prune_keeps_what_still_counts(any_harness: Harness, clock: FakeClock) -> None:
    auth: AuthService = any_harness.services.auth
    issued = await auth.register("alice@example.com", "correct horse battery", "A")
    with pytest.raises(InvalidCredentialsError):
        await auth.login("alice@example.com", "wrong password!", client_host=HOME)

    clock.advance(60)
    assert await auth.prune() == 0
    assert await LoginFailure.all().count() == 1
    assert await auth.authenticate(issued.token) is not None
