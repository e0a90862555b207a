"""`check_response`: every Bot API answer class maps to one result or one ProviderError."""

from __future__ import annotations

import httpx
import pytest

from app.providers.base import (
    AuthInvalidError,
    BadRequestError,
    PermissionDeniedError,
    ProviderError,
    RateLimitedError,
    UnavailableError,
)
from app.providers.telegram.errors import check_response, scrub
from tests.providers.telegram.conftest import SECRET_HALF, TOKEN, fail, ok


def test_ok_returns_the_result() -> None:
    assert check_response(ok({"id": 1})) == {"id": 1}
    assert check_response(ok(True)) is True


def test_ok_without_a_result_is_unavailable() -> None:
    with pytest.raises(UnavailableError, match="without a result"):
        check_response(httpx.Response(200, json={"ok": True}))


@pytest.mark.parametrize(
    ("response", "expected", "message"),
    [
        (
            fail(401, "Unauthorized"),
            AuthInvalidError,
            "Telegram rejected the bot token (Unauthorized)",
        ),
        (fail(404, "Not Found"), AuthInvalidError, "Telegram rejected the bot token (Not Found)"),
        (
            fail(403, "Forbidden: bot was blocked by the user"),
            PermissionDeniedError,
            "Forbidden: bot was blocked by the user",
        ),
        (
            fail(409, "Conflict: terminated by other getUpdates request"),
            BadRequestError,
            "Conflict: terminated by other getUpdates request",
        ),
        (fail(400, "Bad Request: chat not found"), BadRequestError, "Bad Request: chat not found"),
        (fail(413, "Request Entity Too Large"), BadRequestError, "Request Entity Too Large"),
        (
            fail(500, "Internal Server Error"),
            UnavailableError,
            "Telegram is unavailable (HTTP 500)",
        ),
        (fail(502, "Bad Gateway"), UnavailableError, "Telegram is unavailable (HTTP 502)"),
    ],
)
def test_error_statuses(
    response: httpx.Response, expected: type[ProviderError], message: str
) -> None:
    with pytest.raises(expected) as info:
        check_response(response)
    assert type(info.value) is expected
    assert info.value.message == message
    assert info.value.upstream_status == response.status_code


def test_403_is_not_a_breaker_failure() -> None:
    with pytest.raises(PermissionDeniedError) as info:
        check_response(fail(403, "Forbidden: bot was kicked from the group chat"))
    assert not info.value.counts_as_breaker_failure


def test_429_carries_retry_after_from_parameters() -> None:
    response = fail(429, "Too Many Requests: retry after 17", retry_after=17)
    with pytest.raises(RateLimitedError) as info:
        check_response(response)
    assert info.value.retry_after == 17.0
    assert info.value.message == "Telegram rate limit reached; retry after 17s"


def test_429_falls_back_to_the_retry_after_header() -> None:
    response = httpx.Response(
        429,
        headers={"Retry-After": "5"},
        json={"ok": False, "error_code": 429, "description": "Too Many Requests"},
    )
    with pytest.raises(RateLimitedError) as info:
        check_response(response)
    assert info.value.retry_after == 5.0


def test_429_without_any_delay() -> None:
    with pytest.raises(RateLimitedError) as info:
        check_response(fail(429, "Too Many Requests"))
    assert info.value.retry_after is None
    assert info.value.message == "Telegram rate limit reached"


def test_400_names_the_migrated_chat() -> None:
    response = fail(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        migrate_to_chat_id=-1001234567890,
    )
    with pytest.raises(BadRequestError, match=r"new id is -1001234567890"):
        check_response(response)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(502, text="<html>Bad Gateway</html>"),
        httpx.Response(200, text="not json"),
        httpx.Response(200, json=["a", "list"]),
        httpx.Response(200, json={"result": 1}),  # no "ok"
        httpx.Response(200, content=b"\xff\xfe\x00"),
        # Not JSON: it would reach action results and the SPA as `NaN`.
        httpx.Response(200, content=b'{"ok": true, "result": {"id": 1, "x": NaN}}'),
        httpx.Response(200, content=b'{"ok": true, "result": {"date": Infinity}}'),
    ],
)
def test_unreadable_answers_are_unavailable(response: httpx.Response) -> None:
    with pytest.raises(UnavailableError, match="unreadable answer"):
        check_response(response)


def test_a_bare_4xx_from_a_proxy_is_classified_by_status() -> None:
    with pytest.raises(AuthInvalidError):
        check_response(httpx.Response(401, text="Unauthorized"))


def test_body_error_code_wins_over_a_wrapping_200() -> None:
    response = httpx.Response(
        200, json={"ok": False, "error_code": 403, "description": "Forbidden: user is deactivated"}
    )
    with pytest.raises(PermissionDeniedError, match="user is deactivated"):
        check_response(response)


def test_an_empty_description_gets_a_generic_message() -> None:
    with pytest.raises(BadRequestError, match=r"refused the request \(HTTP 400\)"):
        check_response(fail(400, "  "))


def test_a_token_echoed_in_a_description_is_scrubbed() -> None:
    with pytest.raises(BadRequestError) as info:
        check_response(fail(400, f"Bad Request: invalid url /bot{TOKEN}/x"))
    assert SECRET_HALF not in str(info.value)
    assert "<redacted>" in str(info.value)


def test_scrub_truncates_long_descriptions() -> None:
    cleaned = scrub("x" * 1000)
    assert len(cleaned) == 300
    assert cleaned.endswith("\u2026")
