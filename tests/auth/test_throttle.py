"""Login throttling (app/auth/throttle.py): per (email, client), per client, per email.

The bug these guard against: five failed logins used to lock an account for everyone, its owner
included, so anyone could lock anyone out.
"""

from __future__ import annotations

import pytest

from app.auth.models import LoginFailure
from app.auth.service import AuthService
from app.auth.throttle import DEFAULT_LIMITS
from app.core.clock import FakeClock, utcnow
from app.errors import InvalidCredentialsError, RateLimitedError
from tests.support.harness import Harness

PASSWORD = "correct horse battery"
OWNER = "203.0.113.20"
ATTACKER = "198.51.100.66"
WINDOW = DEFAULT_LIMITS.window.total_seconds()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=utcnow())


@pytest.fixture
def auth(harness: Harness) -> AuthService:
    return harness.services.auth


async def fail(auth: AuthService, email: str, client: str, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentialsError):
            await auth.login(email, "not the password", client_host=client)


async def test_an_attacker_cannot_lock_the_owner_out(auth: AuthService) -> None:
    await auth.register("owner@example.com", PASSWORD, "Owner")
    await fail(auth, "owner@example.com", ATTACKER, DEFAULT_LIMITS.per_client_email)

    with pytest.raises(RateLimitedError) as throttled:
        await auth.login("owner@example.com", PASSWORD, client_host=ATTACKER)
    issued = await auth.login("owner@example.com", PASSWORD, client_host=OWNER)

    assert throttled.value.retry_after == pytest.approx(WINDOW)
    assert issued.user.email == "owner@example.com"


async def test_the_owners_success_does_not_forgive_the_attackers_failures(
    auth: AuthService,
) -> None:
    await auth.register("owner@example.com", PASSWORD, "Owner")
    await fail(auth, "owner@example.com", ATTACKER, DEFAULT_LIMITS.per_client_email)
    await fail(auth, "owner@example.com", OWNER, 2)

    await auth.login("owner@example.com", PASSWORD, client_host=OWNER)

    assert await LoginFailure.filter(client_key=OWNER).count() == 0
    assert await LoginFailure.filter(client_key=ATTACKER).count() == DEFAULT_LIMITS.per_client_email
    with pytest.raises(RateLimitedError):
        await auth.login("owner@example.com", PASSWORD, client_host=ATTACKER)


async def test_one_client_guessing_at_many_accounts_hits_the_per_client_ceiling(
    auth: AuthService,
) -> None:
    await auth.register("victim@example.com", PASSWORD, "Victim")
    # Spraying: few guesses per account (under the per-account limit), many accounts.
    per_account = DEFAULT_LIMITS.per_client_email - 1
    accounts = -(-DEFAULT_LIMITS.per_client // per_account)  # ceiling division
    failures = 0
    for n in range(accounts):
        times = min(per_account, DEFAULT_LIMITS.per_client - failures)
        await fail(auth, f"user{n}@example.com", ATTACKER, times)
        failures += times
    assert failures == DEFAULT_LIMITS.per_client

    # Even an account it never tried, with the right password: that client is done for now.
    with pytest.raises(RateLimitedError):
        await auth.login("victim@example.com", PASSWORD, client_host=ATTACKER)
    # Nobody else is affected.
    issued = await auth.login("victim@example.com", PASSWORD, client_host=OWNER)
    assert issued.user.email == "victim@example.com"


async def test_many_clients_guessing_at_one_account_hit_the_per_email_ceiling(
    auth: AuthService, clock: FakeClock
) -> None:
    await auth.register("target@example.com", PASSWORD, "Target")
    per_client = DEFAULT_LIMITS.per_client_email - 1
    failures, n = 0, 0
    while failures < DEFAULT_LIMITS.per_email:
        times = min(per_client, DEFAULT_LIMITS.per_email - failures)
        await fail(auth, "target@example.com", f"192.0.2.{n}", times)
        failures, n = failures + times, n + 1
    clock.advance(60)

    # A botnet as large as the ceiling locks the account for everyone: the accepted trade-off.
    with pytest.raises(RateLimitedError) as owner:
        await auth.login("target@example.com", PASSWORD, client_host=OWNER)
    assert owner.value.retry_after == pytest.approx(WINDOW - 60)
    # Under the ceiling, other accounts and the same clients elsewhere are unaffected.
    await auth.register("other@example.com", PASSWORD, "Other")
    await auth.login("other@example.com", PASSWORD, client_host="192.0.2.0")

    clock.advance(WINDOW)
    issued = await auth.login("target@example.com", PASSWORD, client_host=OWNER)
    assert issued.user.email == "target@example.com"


async def test_an_ipv6_client_is_throttled_by_its_64_network(auth: AuthService) -> None:
    await auth.register("six@example.com", PASSWORD, "Six")
    for n in range(DEFAULT_LIMITS.per_client_email):
        # Every guess from another address of the same /64.
        await fail(auth, "six@example.com", f"2001:db8:1:2::{n + 1:x}")

    with pytest.raises(RateLimitedError):
        await auth.login("six@example.com", PASSWORD, client_host="2001:db8:1:2:ffff::1")
    issued = await auth.login("six@example.com", PASSWORD, client_host="2001:db8:1:3::1")
    assert issued.user.email == "six@example.com"


async def test_a_throttled_attempt_names_the_limit_and_client_not_the_email(
    auth: AuthService, caplog: pytest.LogCaptureFixture
) -> None:
    await fail(auth, "probe@example.com", ATTACKER, DEFAULT_LIMITS.per_client_email)

    with pytest.raises(RateLimitedError):
        await auth.login("probe@example.com", PASSWORD, client_host=ATTACKER)

    (record,) = [r for r in caplog.records if r.getMessage() == "auth.login.throttled"]
    assert (record.limit, record.client) == ("client_email", ATTACKER)  # type: ignore[attr-defined]
    assert "probe@example.com" not in str(record.__dict__)
