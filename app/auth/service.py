"""Registration, login with throttling, token authentication and revocation."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from app.auth import throttle
from app.auth.errors import check_registration
from app.auth.models import AuthToken, User
from app.auth.passwords import Passwords
from app.auth.throttle import DEFAULT_LIMITS, LoginLimits
from app.auth.tokens import hash_token, new_token
from app.core.client_address import throttle_key
from app.core.clock import Clock
from app.errors import (
    ConflictError,
    InvalidCredentialsError,
    RateLimitedError,
    ValidationFailedError,
)

log = logging.getLogger("app.auth")

# Writing last_used_at on every request would turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Dead tokens are kept a little while so "token expired/revoked" stays explainable in support.
DEAD_TOKEN_GRACE = timedelta(days=1)


class Authenticated(NamedTuple):
    user: User
    token_hash: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: datetime
    user: User


class AuthService:
    def __init__(
        self,
        *,
        passwords: Passwords,
        clock: Clock,
        token_ttl: timedelta,
        login_limits: LoginLimits = DEFAULT_LIMITS,
    ) -> None:
        self._passwords = passwords
        self._clock = clock
        self._token_ttl = token_ttl
        self._limits = login_limits

    async def register(self, email: str, password: str, name: str) -> IssuedToken:
        """Create an account and log it in (one transaction: no account without its token)."""
        async with in_transaction():
            user = await self.create_user(email, password, name)
            issued = await self._issue(user)
        log.info("auth.register.succeeded", extra={"user_id": str(user.id)})
        return issued

    async def create_user(self, email: str, password: str, name: str) -> User:
        """Create an account without a token (operator commands); same rules as `register`."""
        email = email.strip().lower()
        name = name.strip()
        issues = check_registration(email, password, name)
        if issues:
            raise ValidationFailedError(issues)
        password_hash = await self._passwords.hash(password)
        try:
            # A savepoint inside register's transaction: the conflict rolls back only this.
            async with in_transaction():
                return await User.create(email=email, name=name, password_hash=password_hash)
        except IntegrityError:
            raise ConflictError("An account with this email already exists.") from None

    async def login(self, email: str, password: str, *, client_host: str | None) -> IssuedToken:
        """Check the password, throttled per (email, client), per client and per email (see
        app/auth/throttle.py); `client_host` is the proxy-aware client address."""
        email = email.strip().lower()
        client = throttle_key(client_host)
        now = self._clock.now()
        # Recorded before it is judged, so that of a burst of parallel guesses only the first
        # few reach the (slow) password check; see throttle.judge.
        attempt = await throttle.record_attempt(email, client, now)
        refusal = await throttle.judge(attempt, self._limits, now)
        if refusal is not None:
            await throttle.forget_attempt(attempt)
            log.warning("auth.login.throttled", extra={"limit": refusal.limit, "client": client})
            raise RateLimitedError("Too many failed logins; try again later.", refusal.retry_after)
        user = await User.get_or_none(email=email)
        if not await self._passwords.verify(user.password_hash if user else None, password):
            # The attempt recorded above stays as the failure record.
            log.info("auth.login.failed", extra={"client": client})
            raise InvalidCredentialsError()
        assert user is not None
        await throttle.clear_after_success(email, client)
        log.info("auth.login.succeeded", extra={"user_id": str(user.id)})
        return await self._issue(user)

    async def _issue(self, user: User) -> IssuedToken:
        token = new_token()
        expires_at = self._clock.now() + self._token_ttl
        await AuthToken.create(user=user, token_hash=hash_token(token), expires_at=expires_at)
        return IssuedToken(token=token, expires_at=expires_at, user=user)

    async def authenticate(self, token: str) -> Authenticated | None:
        """The user behind a live token, the token's hash and its expiry, or None."""
        token_hash = hash_token(token)
        now = self._clock.now()
        row = (
            await AuthToken.filter(token_hash=token_hash, revoked_at=None, expires_at__gt=now)
            .select_related("user")
            .first()
        )
        if row is None:
            return None
        if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
            await AuthToken.filter(id=row.id).update(last_used_at=now)
        return Authenticated(row.user, token_hash, row.expires_at)

    async def live_until(self, token_hashes: Collection[str]) -> dict[str, datetime]:
        """The expiry of each of these tokens still live; revoked and expired ones are absent.

        For long-lived sockets, re-checked in one query for every socket that is due.
        """
        rows = await AuthToken.filter(
            token_hash__in=list(token_hashes), revoked_at=None, expires_at__gt=self._clock.now()
        ).values_list("token_hash", "expires_at")
        return {str(token_hash): expires_at for token_hash, expires_at in rows}

    async def prune(self) -> int:
        """Delete what can never matter again: failed logins outside the throttle window, and
        tokens a day past their expiry or revocation. Both tables otherwise grow without bound
        (failed logins for unknown emails are anyone's to create)."""
        now = self._clock.now()
        failures = await throttle.prune(self._limits, now)
        dead_before = now - DEAD_TOKEN_GRACE
        tokens: int = await AuthToken.filter(
            Q(expires_at__lt=dead_before) | Q(revoked_at__lt=dead_before)
        ).delete()
        return failures + tokens

    async def logout(self, token_hash: str) -> bool:
        updated = await AuthToken.filter(token_hash=token_hash, revoked_at=None).update(
            revoked_at=self._clock.now()
        )
        return updated > 0
