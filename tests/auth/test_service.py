"""AuthService (app/auth/service.py): registration, login throttling, tokens, expiry, logout."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from app.auth.models import AuthToken, LoginFailure, User
from app.auth.service import AuthService
from app.auth.throttle import DEFAULT_LIMITS
from app.auth.tokens import TOKEN_PREFIX, hash_token, parse_bearer
from app.core.clock import FakeClock, utcnow
from app.errors import (
    ConflictError,
    InvalidCredentialsError,
    RateLimitedError,
    ValidationFailedError,
)
from tests.support.harness import Harness, make_settings, running_app

PASSWORD = "correct horse battery"
WINDOW = DEFAULT_LIMITS.window.total_seconds()
MAX_FAILED_LOGINS = DEFAULT_LIMITS.per_client_email
HOME = (
    "198.51.100.10"  # the one client address of these tests; tests/auth/test_throttle.py has more
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=utcnow())


@pytest.fixture
def auth(harness: Harness) -> AuthService:
    return harness.services.auth


async def fail_login(auth: AuthService, email: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentialsError):
            await auth.login(email, "not the password", client_host=HOME)


# ---------------------------------------------------------------- register


async def test_register_issues_a_prefixed_token_and_lower_cases_the_email(
    auth: AuthService, clock: FakeClock
) -> None:
    issued = await auth.register("  Alice@Example.COM ", PASSWORD, "  Alice  ")

    assert issued.token.startswith(TOKEN_PREFIX)
    # 32 random bytes, url-safe base64 without padding: 43 characters after the prefix.
    body = issued.token.removeprefix(TOKEN_PREFIX)
    assert len(body) == 43
    assert set(body) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert parse_bearer(f"Bearer {issued.token}") == issued.token
    assert issued.user.email == "alice@example.com"
    assert issued.user.name == "Alice"
    assert issued.expires_at == clock.now() + timedelta(hours=168)
    row = await User.get(id=issued.user.id)
    assert row.email == "alice@example.com"


async def test_register_stores_an_argon2_hash_not_the_password(auth: AuthService) -> None:
    issued = await auth.register("bob@example.com", PASSWORD, "Bob")

    row = await User.get(id=issued.user.id)
    assert row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash


async def test_only_the_sha256_of_a_token_is_stored(auth: AuthService) -> None:
    issued = await auth.register("carol@example.com", PASSWORD, "Carol")
    second = await auth.login("carol@example.com", PASSWORD, client_host=HOME)

    rows = await AuthToken.all().values()
    assert len(rows) == 2
    stored = {row["token_hash"] for row in rows}
    assert stored == {
        hashlib.sha256(issued.token.encode()).hexdigest(),
        hashlib.sha256(second.token.encode()).hexdigest(),
    }
    dump = repr(rows)
    assert issued.token not in dump
    assert second.token not in dump
    assert issued.token.removeprefix(TOKEN_PREFIX) not in dump


async def test_each_token_is_fresh(auth: AuthService) -> None:
    first = await auth.register("dan@example.com", PASSWORD, "Dan")
    tokens = {first.token} | {
        (await auth.login("dan@example.com", PASSWORD, client_host=HOME)).token for _ in "ab"
    }

    assert len(tokens) == 3


@pytest.mark.parametrize(
    ("email", "password", "name", "fields"),
    [
        ("not-an-email", PASSWORD, "Eve", ["email"]),
        ("eve@localhost", PASSWORD, "Eve", ["email"]),
        ("eve@@example.com", PASSWORD, "Eve", ["email"]),
        ("e ve@example.com", PASSWORD, "Eve", ["email"]),
        ("e" * 65 + "@example.com", PASSWORD, "Eve", ["email"]),
        ("eve@" + "d" * 250 + ".com", PASSWORD, "Eve", ["email"]),
        ("", PASSWORD, "Eve", ["email"]),
        ("eve@example.com", "x" * 9, "Eve", ["password"]),
        ("eve@example.com", "x" * 257, "Eve", ["password"]),
        ("eve@example.com", "", "Eve", ["password"]),
        ("eve@example.com", PASSWORD, "", ["name"]),
        ("eve@example.com", PASSWORD, "   ", ["name"]),
        ("eve@example.com", PASSWORD, "n" * 101, ["name"]),
        ("nope", "short", "", ["email", "password", "name"]),
    ],
)
async def test_register_rejects_invalid_input(
    auth: AuthService, email: str, password: str, name: str, fields: list[str]
) -> None:
    with pytest.raises(ValidationFailedError) as info:
        await auth.register(email, password, name)

    assert [issue.field for issue in info.value.issues] == fields
    assert await User.all().count() == 0
    assert await AuthToken.all().count() == 0


@pytest.mark.parametrize("password", ["x" * 10, "p" * 256, " ten chars"])
async def test_register_accepts_password_length_bounds(auth: AuthService, password: str) -> None:
    await auth.register("frank@example.com", password, "Frank")

    issued = await auth.login("frank@example.com", password, client_host=HOME)
    assert issued.user.email == "frank@example.com"


async def test_register_accepts_a_name_of_100_characters(auth: AuthService) -> None:
    issued = await auth.register("gina@example.com", PASSWORD, "n" * 100)

    assert issued.user.name == "n" * 100


async def test_duplicate_email_is_a_conflict_whatever_the_case(any_harness: Harness) -> None:
    auth = any_harness.services.auth
    await auth.register("henry@example.com", PASSWORD, "Henry")

    with pytest.raises(ConflictError) as info:
        await auth.register("HENRY@example.com", "another password", "Other Henry")

    assert "already exists" in info.value.message
    assert await User.filter(email="henry@example.com").count() == 1
    # The failed registration left no token behind (one transaction).
    assert await AuthToken.all().count() == 1
    # The first account is untouched: its password still works, the second one does not.
    await auth.login("henry@example.com", PASSWORD, client_host=HOME)
    with pytest.raises(InvalidCredentialsError):
        await auth.login("henry@example.com", "another password", client_host=HOME)


# ---------------------------------------------------------------- login


async def test_login_is_case_insensitive_in_the_email(auth: AuthService) -> None:
    registered = await auth.register("ivy@example.com", PASSWORD, "Ivy")

    issued = await auth.login("  IVY@Example.com ", PASSWORD, client_host=HOME)

    assert issued.user.id == registered.user.id
    assert issued.token != registered.token


async def test_wrong_password_and_unknown_email_fail_the_same_way(auth: AuthService) -> None:
    await auth.register("jack@example.com", PASSWORD, "Jack")

    with pytest.raises(InvalidCredentialsError) as wrong_password:
        await auth.login("jack@example.com", "wrong password!", client_host=HOME)
    with pytest.raises(InvalidCredentialsError) as unknown_email:
        await auth.login("nobody@example.com", PASSWORD, client_host=HOME)

    assert wrong_password.value.message == unknown_email.value.message
    assert wrong_password.value.message == "Invalid email or password."
    assert await LoginFailure.filter(email="jack@example.com").count() == 1
    assert await LoginFailure.filter(email="nobody@example.com").count() == 1


async def test_unknown_email_with_the_timing_dummy_password_still_fails(
    auth: AuthService,
) -> None:
    # The unknown-email path verifies against a dummy hash; matching it must not log anyone in.
    with pytest.raises(InvalidCredentialsError):
        await auth.login("ghost@example.com", "timing-equaliser-not-a-password", client_host=HOME)


async def test_five_failures_in_the_window_throttle_even_the_right_password(
    auth: AuthService, clock: FakeClock
) -> None:
    await auth.register("kim@example.com", PASSWORD, "Kim")
    for _ in range(MAX_FAILED_LOGINS):
        await fail_login(auth, "kim@example.com", 1)
        clock.advance(60)

    with pytest.raises(RateLimitedError) as info:
        await auth.login("kim@example.com", PASSWORD, client_host=HOME)

    # The oldest failure (5 minutes ago) ages out of the 15-minute window in 10 minutes.
    assert info.value.retry_after == pytest.approx(WINDOW - 5 * 60)
    assert info.value.retry_after > 0
    assert "try again later" in info.value.message
    # A throttled attempt is not itself recorded as a failure.
    assert await LoginFailure.filter(email="kim@example.com").count() == MAX_FAILED_LOGINS


async def test_the_throttle_reopens_when_the_oldest_failure_leaves_the_window(
    auth: AuthService, clock: FakeClock
) -> None:
    await auth.register("lee@example.com", PASSWORD, "Lee")
    await fail_login(auth, "lee@example.com", MAX_FAILED_LOGINS)
    with pytest.raises(RateLimitedError) as info:
        await auth.login("lee@example.com", PASSWORD, client_host=HOME)
    assert info.value.retry_after == pytest.approx(WINDOW)

    clock.advance(info.value.retry_after - 1)
    with pytest.raises(RateLimitedError) as still:
        await auth.login("lee@example.com", PASSWORD, client_host=HOME)
    assert 0 < still.value.retry_after <= 1.0

    clock.advance(2)
    issued = await auth.login("lee@example.com", PASSWORD, client_host=HOME)
    assert issued.user.email == "lee@example.com"


async def test_a_successful_login_clears_the_failures(auth: AuthService, clock: FakeClock) -> None:
    await auth.register("mia@example.com", PASSWORD, "Mia")
    await fail_login(auth, "mia@example.com", MAX_FAILED_LOGINS - 1)

    await auth.login("mia@example.com", PASSWORD, client_host=HOME)

    assert await LoginFailure.filter(email="mia@example.com").count() == 0
    # A fresh budget: four more failures still do not throttle.
    await fail_login(auth, "mia@example.com", MAX_FAILED_LOGINS - 1)
    await auth.login("mia@example.com", PASSWORD, client_host=HOME)


async def test_failures_outside_the_window_do_not_count(
    auth: AuthService, clock: FakeClock
) -> None:
    await auth.register("ned@example.com", PASSWORD, "Ned")
    await fail_login(auth, "ned@example.com", MAX_FAILED_LOGINS - 1)
    clock.advance(WINDOW + 1)

    await fail_login(auth, "ned@example.com", MAX_FAILED_LOGINS - 1)

    await auth.login("ned@example.com", PASSWORD, client_host=HOME)


async def test_throttling_is_per_email_and_client(auth: AuthService) -> None:
    await auth.register("olga@example.com", PASSWORD, "Olga")
    await auth.register("paul@example.com", PASSWORD, "Paul")
    await fail_login(auth, "olga@example.com", MAX_FAILED_LOGINS)

    with pytest.raises(RateLimitedError):
        await auth.login("olga@example.com", PASSWORD, client_host=HOME)
    issued = await auth.login("paul@example.com", PASSWORD, client_host=HOME)

    assert issued.user.email == "paul@example.com"


async def test_unknown_emails_are_throttled_too(auth: AuthService) -> None:
    await fail_login(auth, "probe@example.com", MAX_FAILED_LOGINS)

    with pytest.raises(RateLimitedError):
        await auth.login("PROBE@example.com", PASSWORD, client_host=HOME)


async def test_a_burst_of_parallel_guesses_cannot_outrun_the_throttle(
    any_harness: Harness,
) -> None:
    auth = any_harness.services.auth
    await auth.register("burst@example.com", PASSWORD, "Burst")

    async def guess(n: int) -> str:
        try:
            await auth.login("burst@example.com", f"guess number {n}", client_host=HOME)
        except InvalidCredentialsError:
            return "checked"
        except RateLimitedError:
            return "throttled"
        return "logged in"

    outcomes = await asyncio.gather(*(guess(n) for n in range(20)))

    # At most MAX_FAILED_LOGINS guesses ever reach the password check, however they interleave.
    assert outcomes.count("checked") <= MAX_FAILED_LOGINS
    assert outcomes.count("checked") + outcomes.count("throttled") == 20
    # Refused attempts leave no record; every checked guess is one failure.
    assert await LoginFailure.filter(email="burst@example.com").count() == outcomes.count("checked")


async def test_no_secret_reaches_the_logs(
    auth: AuthService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    issued = await auth.register("quinn@example.com", PASSWORD, "Quinn")
    again = await auth.login("quinn@example.com", PASSWORD, client_host=HOME)
    await fail_login(auth, "quinn@example.com", 1)

    # Every record, the ORM's DEBUG lines with their SQL parameters included.
    everything = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "auth.register.succeeded" in everything
    assert "auth.login.failed" in everything
    for secret in (PASSWORD, issued.token, again.token):
        assert secret not in everything
    ours = "\n".join(
        f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name.startswith("app.")
    )
    assert hash_token(issued.token) not in ours
    assert "quinn@example.com" not in ours


# ---------------------------------------------------------------- authenticate, expiry, logout


async def test_authenticate_returns_the_user_and_the_token_hash(auth: AuthService) -> None:
    issued = await auth.register("rosa@example.com", PASSWORD, "Rosa")

    found = await auth.authenticate(issued.token)

    assert found is not None
    user, token_hash, expires_at = found
    assert user.id == issued.user.id
    assert token_hash == hash_token(issued.token)
    assert expires_at == issued.expires_at


async def test_authenticate_refuses_an_unknown_token(auth: AuthService) -> None:
    await auth.register("sam@example.com", PASSWORD, "Sam")

    assert await auth.authenticate(TOKEN_PREFIX + "A" * 43) is None


async def test_a_token_expires_after_the_ttl(auth: AuthService, clock: FakeClock) -> None:
    issued = await auth.register("tom@example.com", PASSWORD, "Tom")

    clock.advance(timedelta(hours=168).total_seconds() - 1)
    assert await auth.authenticate(issued.token) is not None
    clock.advance(1)
    assert await auth.authenticate(issued.token) is None


async def test_last_used_at_is_written_at_most_once_a_minute(
    auth: AuthService, clock: FakeClock
) -> None:
    issued = await auth.register("uma@example.com", PASSWORD, "Uma")
    token_hash = hash_token(issued.token)
    row = await AuthToken.get(token_hash=token_hash)
    assert row.last_used_at is None

    first_use = clock.now()
    await auth.authenticate(issued.token)
    clock.advance(30)
    await auth.authenticate(issued.token)
    row = await AuthToken.get(token_hash=token_hash)
    assert row.last_used_at == first_use

    clock.advance(31)
    await auth.authenticate(issued.token)
    row = await AuthToken.get(token_hash=token_hash)
    assert row.last_used_at == clock.now()


async def test_logout_revokes_only_that_token(auth: AuthService, clock: FakeClock) -> None:
    first = await auth.register("vic@example.com", PASSWORD, "Vic")
    second = await auth.login("vic@example.com", PASSWORD, client_host=HOME)

    assert await auth.logout(hash_token(first.token)) is True

    assert await auth.authenticate(first.token) is None
    assert await auth.authenticate(second.token) is not None
    row = await AuthToken.get(token_hash=hash_token(first.token))
    assert row.revoked_at == clock.now()
    # Revoking twice is a no-op that says so.
    assert await auth.logout(hash_token(first.token)) is False


# ---------------------------------------------------------------- TOKEN_TTL_HOURS


@pytest.fixture
async def short_ttl(database_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Harness]:
    settings = make_settings(database_url, str(tmp_path), token_ttl_hours=2)
    async with running_app(settings, clock=clock) as harness:
        yield harness


async def test_token_ttl_hours_sets_the_expiry(short_ttl: Harness, clock: FakeClock) -> None:
    auth = short_ttl.services.auth
    issued = await auth.register("wendy@example.com", PASSWORD, "Wendy")

    assert issued.expires_at == clock.now() + timedelta(hours=2)
    clock.advance(2 * 3600 - 1)
    assert await auth.authenticate(issued.token) is not None
    clock.advance(1)
    assert await auth.authenticate(issued.token) is None
