"""The shared HTTP helpers: client settings, transport error mapping, Retry-After, read retries."""

from __future__ import annotations

import gzip
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import httpx
import pytest

from app.core.http import (
    Timeouts,
    create_http_client,
    parse_retry_after,
    retry_idempotent,
    send,
    send_discarding_body,
)
from app.providers.base import (
    AuthInvalidError,
    BadRequestError,
    ProviderError,
    RateLimitedError,
    UnavailableError,
    UpstreamTimeoutError,
)

SECRET_URL = "https://api.example.test/bot123456:SECRET-token-value/getMe"


def client_for(handler: httpx.MockTransport) -> httpx.AsyncClient:
    return create_http_client(Timeouts(), transport=handler)


class FakeSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def failing(
    *errors: ProviderError, result: str = "ok"
) -> tuple[list[int], Callable[[], Awaitable[str]]]:
    calls: list[int] = []
    remaining = list(errors)

    async def call() -> str:
        calls.append(1)
        if remaining:
            raise remaining.pop(0)
        return result

    return calls, call


# --- Timeouts and the client -------------------------------------------------------------------


def test_timeouts_default_and_chat() -> None:
    timeouts = Timeouts(connect=2.0, read=7.0, chat_read=60.0)
    assert timeouts.default() == httpx.Timeout(7.0, connect=2.0)
    assert timeouts.chat() == httpx.Timeout(60.0, connect=2.0)


async def test_client_never_follows_redirects_and_sends_a_user_agent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/"})

    async with client_for(httpx.MockTransport(handler)) as client:
        assert client.follow_redirects is False
        response = await send(client, "GET", "https://example.test/", upstream="Example")
    assert response.status_code == 302
    assert len(seen) == 1  # the redirect target was never requested
    assert seen[0].headers["User-Agent"].startswith("gateway-api/")


async def test_send_passes_a_per_request_timeout() -> None:
    seen: list[dict[str, float | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200)

    async with client_for(httpx.MockTransport(handler)) as client:
        await send(client, "GET", "https://example.test/", upstream="X", timeout=Timeouts().chat())
        await send(client, "GET", "https://example.test/", upstream="X")
    assert seen[0]["read"] == 30.0
    assert seen[1]["read"] == 10.0
    assert seen[0]["connect"] == seen[1]["connect"] == 5.0


@pytest.mark.parametrize(
    ("raised", "expected", "message"),
    [
        (httpx.ReadTimeout, UpstreamTimeoutError, "Telegram did not answer in time"),
        (httpx.ConnectTimeout, UpstreamTimeoutError, "Telegram did not answer in time"),
        (httpx.ConnectError, UnavailableError, "could not reach Telegram: connection failed"),
        (httpx.RemoteProtocolError, UnavailableError, "could not reach Telegram: transport error"),
    ],
)
async def test_send_maps_transport_errors_without_the_url(
    raised: type[httpx.TransportError], expected: type[ProviderError], message: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise raised(f"failed talking to {request.url}", request=request)

    async with client_for(httpx.MockTransport(handler)) as client:
        with pytest.raises(expected) as info:
            await send(client, "POST", SECRET_URL, upstream="Telegram")
    assert info.value.message == message
    assert "SECRET" not in str(info.value)
    assert isinstance(info.value.__cause__, raised)  # chained for debugging, not shown


async def test_send_discarding_body_never_reads_the_body() -> None:
    def body() -> AsyncIterator[bytes]:
        async def chunks() -> AsyncIterator[bytes]:
            raise AssertionError("the body must not be read")
            yield b""  # pragma: no cover

        return chunks()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"X-Seen": request.method}, content=body())

    async with client_for(httpx.MockTransport(handler)) as client:
        response = await send_discarding_body(client, "POST", "https://t.test/", upstream="t")
    assert response.status_code == 200
    assert response.headers["X-Seen"] == "POST"
    assert response.is_closed


async def test_send_discarding_body_maps_transport_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    async with client_for(httpx.MockTransport(handler)) as client:
        with pytest.raises(UpstreamTimeoutError, match="the target did not answer in time"):
            await send_discarding_body(client, "GET", "https://t.test/", upstream="the target")


# --- parse_retry_after -------------------------------------------------------------------------

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("1.5", 1.5),
        ("0", 0.0),
        ("-5", 0.0),
        ("Sun, 01 Mar 2026 12:00:30 GMT", 30.0),
        ("Sun, 01 Mar 2026 11:59:00 GMT", 0.0),  # a date in the past: retry now
        (None, None),
        ("", None),
        ("soon", None),
        ("nan", None),
        ("inf", None),
        ("Sun, 99 Foo 2026", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


# --- retry_idempotent --------------------------------------------------------------------------


async def test_retries_transient_errors_twice_with_jittered_backoff() -> None:
    sleep = FakeSleep()
    calls, call = failing(UnavailableError("down"), UpstreamTimeoutError("slow"))
    result = await retry_idempotent(call, sleep=sleep, rng=random.Random(1))
    assert result == "ok"
    assert len(calls) == 3
    assert len(sleep.delays) == 2
    assert 0 <= sleep.delays[0] <= 0.25  # full jitter: uniform(0, base * 2**0)
    assert 0 <= sleep.delays[1] <= 0.5  # uniform(0, base * 2**1)


async def test_gives_up_after_the_last_attempt() -> None:
    sleep = FakeSleep()
    calls, call = failing(*(UnavailableError(f"down {i}") for i in range(5)))
    with pytest.raises(UnavailableError, match="down 2"):
        await retry_idempotent(call, sleep=sleep)
    assert len(calls) == 3
    assert len(sleep.delays) == 2


async def test_backoff_is_capped_by_max_delay() -> None:
    sleep = FakeSleep()
    _, call = failing(*(UnavailableError("down") for _ in range(6)))
    with pytest.raises(UnavailableError):
        await retry_idempotent(
            call,
            attempts=6,
            base_delay=10.0,
            max_delay=1.0,
            sleep=sleep,
            rng=random.Random(7),
        )
    assert len(sleep.delays) == 5
    assert all(0 <= delay <= 1.0 for delay in sleep.delays)


async def test_honours_retry_after_within_the_cap() -> None:
    sleep = FakeSleep()
    calls, call = failing(RateLimitedError("slow down", retry_after=3.0))
    assert await retry_idempotent(call, sleep=sleep, max_delay=5.0) == "ok"
    assert sleep.delays == [3.0]
    assert len(calls) == 2


async def test_does_not_retry_when_retry_after_exceeds_the_cap() -> None:
    sleep = FakeSleep()
    calls, call = failing(RateLimitedError("slow down", retry_after=60.0))
    with pytest.raises(RateLimitedError) as info:
        await retry_idempotent(call, sleep=sleep, max_delay=5.0)
    assert info.value.retry_after == 60.0
    assert sleep.delays == []
    assert len(calls) == 1


@pytest.mark.parametrize(
    "error", [AuthInvalidError("bad token"), BadRequestError("bad chat id")], ids=repr
)
async def test_does_not_retry_non_retryable_errors(error: ProviderError) -> None:
    sleep = FakeSleep()
    calls, call = failing(error)
    with pytest.raises(type(error)):
        await retry_idempotent(call, sleep=sleep)
    assert len(calls) == 1
    assert sleep.delays == []


async def test_does_not_retry_foreign_exceptions() -> None:
    calls: list[int] = []

    async def call() -> str:
        calls.append(1)
        raise KeyError("bug")

    with pytest.raises(KeyError):
        await retry_idempotent(call, sleep=FakeSleep())
    assert calls == [1]


async def test_rejects_zero_attempts() -> None:
    async def call() -> str:
        return "never"

    with pytest.raises(ValueError, match="attempts"):
        await retry_idempotent(call, attempts=0)


async def test_an_oversized_answer_is_refused_without_holding_it() -> None:
    def huge(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * (9 * 1024 * 1024))

    async with httpx.AsyncClient(transport=httpx.MockTransport(huge)) as client:
        with pytest.raises(BadRequestError, match="more than 8 MiB") as info:
            await send(client, "GET", "https://big.test/models", upstream="Big")
    assert info.value.upstream_status == 200


async def test_a_compressed_answer_is_decoded_and_keeps_its_headers() -> None:

    def compressed(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            content=gzip.compress(b'{"ok": true}'),
            headers={"Content-Encoding": "gzip", "X-Request-Id": "abc"},
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(compressed)) as client:
        response = await send(client, "GET", "https://small.test/", upstream="Small")
    assert response.json() == {"ok": True}
    assert response.headers["x-request-id"] == "abc"
