"""Context: when a long-lived socket's token needs a database re-check, and per-event copies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request

from app.core.clock import FakeClock
from app.graphql import context as context_module
from app.graphql.context import Context

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class FakeAuth:
    expires_at: datetime | None
    checks: list[str] = field(default_factory=list)

    async def live_until(self, token_hash: str) -> datetime | None:
        self.checks.append(token_hash)
        return self.expires_at


@dataclass
class FakeServices:
    clock: FakeClock
    auth: FakeAuth


def socket_context(clock: FakeClock, auth: FakeAuth) -> Context:
    request = Request({"type": "http", "headers": [], "client": ("127.0.0.1", 5000)})
    services: Any = FakeServices(clock, auth)
    ctx = Context(request=request, response=None, services=services, token_hash="h")
    ctx.note_token_checked(START + timedelta(hours=1))  # as on connection_init
    return ctx


async def test_a_fresh_check_needs_no_database_until_the_interval_has_passed() -> None:
    clock, auth = FakeClock(START), FakeAuth(START + timedelta(hours=1))
    ctx = socket_context(clock, auth)
    assert not ctx.auth_check_due()
    assert await ctx.still_authenticated()
    assert auth.checks == []

    clock.advance(context_module.REAUTH_INTERVAL)
    assert ctx.auth_check_due()
    assert await ctx.still_authenticated()
    assert auth.checks == ["h"]
    assert not ctx.auth_check_due()  # checked: quiet for another interval


async def test_a_revoked_token_is_found_at_the_next_check() -> None:
    clock, auth = FakeClock(START), FakeAuth(None)  # revoked since the socket opened
    ctx = socket_context(clock, auth)
    clock.advance(context_module.REAUTH_INTERVAL)
    assert not await ctx.still_authenticated()
    assert ctx.auth_check_due()  # stays due: the stream must end, not be re-checked later


async def test_an_expired_token_is_due_without_waiting_for_the_interval() -> None:
    clock, auth = FakeClock(START), FakeAuth(START + timedelta(hours=1))
    ctx = socket_context(clock, auth)
    ctx.note_token_checked(START + timedelta(seconds=5))
    clock.advance(5)
    assert ctx.auth_check_due()
    assert not await ctx.still_authenticated()
    assert auth.checks == []  # expiry is known without asking the database


def test_a_context_without_a_token_is_always_due() -> None:
    request = Request({"type": "http", "headers": [], "client": None})
    services: Any = FakeServices(FakeClock(START), FakeAuth(None))
    assert Context(request=request, response=None, services=services).auth_check_due()


def test_a_per_event_copy_has_its_own_loaders_and_the_same_caller() -> None:
    clock, auth = FakeClock(START), FakeAuth(START + timedelta(hours=1))
    ctx = socket_context(clock, auth)
    sentinel: Any = object()
    ctx._loaders = sentinel
    copy = ctx.for_event()
    assert copy is not ctx
    assert copy._loaders is None
    assert ctx._loaders is sentinel  # the connection's own loaders are left alone
    assert (copy.token_hash, copy.request, copy.services) == (
        ctx.token_hash,
        ctx.request,
        ctx.services,
    )
