"""Context: whether a long-lived socket's token is still live, and per-event copies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request

from app.core.clock import FakeClock
from app.graphql import context as context_module
from app.graphql.context import Context, TokenState

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class FakeServices:
    clock: FakeClock


def socket_context(clock: FakeClock) -> Context:
    request = Request({"type": "http", "headers": [], "client": ("127.0.0.1", 5000)})
    services: Any = FakeServices(clock)
    ctx = Context(request=request, response=None, services=services, token_hash="h")
    ctx.note_token_checked(START + timedelta(hours=1))  # as on connection_init
    return ctx


def test_a_checked_token_is_live_without_the_database_until_the_interval_has_passed() -> None:
    clock = FakeClock(START)
    ctx = socket_context(clock)
    assert ctx.token_state() is TokenState.LIVE
    clock.advance(context_module.REAUTH_INTERVAL - 1)
    assert ctx.token_state() is TokenState.LIVE
    clock.advance(1)
    assert ctx.token_state() is TokenState.RECHECK

    ctx.note_token_checked(START + timedelta(hours=1))  # found live again
    assert ctx.token_state() is TokenState.LIVE  # quiet for another interval


def test_a_token_found_revoked_ends_and_stays_ended() -> None:
    clock = FakeClock(START)
    ctx = socket_context(clock)
    clock.advance(context_module.REAUTH_INTERVAL)
    ctx.note_token_checked(None)
    assert ctx.token_state() is TokenState.ENDED
    clock.advance(context_module.REAUTH_INTERVAL)
    assert ctx.token_state() is TokenState.ENDED  # not re-checked into life


def test_an_expired_token_ends_without_asking_the_database() -> None:
    clock = FakeClock(START)
    ctx = socket_context(clock)
    ctx.note_token_checked(START + timedelta(seconds=5))
    clock.advance(4)
    assert ctx.token_state() is TokenState.LIVE
    clock.advance(1)
    assert ctx.token_state() is TokenState.ENDED


def test_a_context_without_a_checked_token_has_ended() -> None:
    request = Request({"type": "http", "headers": [], "client": None})
    services: Any = FakeServices(FakeClock(START))
    assert Context(request=request, response=None, services=services).token_state() is (
        TokenState.ENDED
    )


def test_a_per_event_copy_has_its_own_loaders_and_the_same_caller() -> None:
    ctx = socket_context(FakeClock(START))
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
