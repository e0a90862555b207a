"""The one place a Bot API answer becomes a result or a `ProviderError` (after aiogram's
`check_response`).

    HTTP / error_code            error                   why
    ok: true                     -> result
    401, 404                     AuthInvalidError        401: token revoked; 404: token malformed
    403                          PermissionDeniedError   a chat refuses the bot (blocked, kicked)
    409                          BadRequestError         webhook/getUpdates conflict
    429                          RateLimitedError        parameters.retry_after seconds
    400 and other 4xx            BadRequestError         Telegram's description shown as is
    5xx                          UnavailableError
    not JSON / no "ok"           UnavailableError        a proxy or load balancer answered

403 is chat-level ("bot was blocked by the user"), so it never says the gateway is broken.
Telegram's descriptions are shown to the user because they are precise ("Bad Request: chat not
found"); the token is scrubbed from them anyway, in case an upstream ever echoes a URL.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from app.core import strict_json
from app.core.http import parse_retry_after
from app.providers.base import (
    AuthInvalidError,
    BadRequestError,
    PermissionDeniedError,
    ProviderError,
    RateLimitedError,
    UnavailableError,
)

_MAX_DESCRIPTION = 300
# Anything shaped like a bot token, wherever it appears: "<digits>:<secret>".
_TOKEN_LIKE = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")


def scrub(text: str) -> str:
    """`text` with anything that looks like a bot token replaced, cut to a readable length."""
    cleaned = _TOKEN_LIKE.sub("<redacted>", text)
    if len(cleaned) > _MAX_DESCRIPTION:
        cleaned = cleaned[: _MAX_DESCRIPTION - 1] + "\u2026"
    return cleaned


def _description(body: dict[str, Any], status: int) -> str:
    description = body.get("description")
    if isinstance(description, str) and description.strip():
        return scrub(description.strip())
    return f"Telegram refused the request (HTTP {status})"


def _error_for(status: int, body: dict[str, Any], response: httpx.Response) -> ProviderError:
    description = _description(body, status)
    parameters = body.get("parameters")
    parameters = parameters if isinstance(parameters, dict) else {}
    if status in (401, 404):
        return AuthInvalidError(
            f"Telegram rejected the bot token ({description})", upstream_status=status
        )
    if status == 403:
        return PermissionDeniedError(description, upstream_status=status)
    if status == 429:
        retry_after = parameters.get("retry_after")
        seconds = (
            float(retry_after)
            if isinstance(retry_after, int | float) and not isinstance(retry_after, bool)
            else parse_retry_after(response.headers.get("Retry-After"))
        )
        hint = f"; retry after {seconds:g}s" if seconds is not None else ""
        return RateLimitedError(
            f"Telegram rate limit reached{hint}", upstream_status=status, retry_after=seconds
        )
    if status >= 500:
        return UnavailableError(f"Telegram is unavailable (HTTP {status})", upstream_status=status)
    migrate_to = parameters.get("migrate_to_chat_id")
    if isinstance(migrate_to, int) and not isinstance(migrate_to, bool):
        # The group became a supergroup with a new id; tell the user which one to use.
        description = f"{description} (the chat's new id is {migrate_to})"
    return BadRequestError(description, upstream_status=status)


def check_response(response: httpx.Response) -> Any:
    """The `result` of a successful Bot API call; raises the matching `ProviderError` otherwise."""
    status = response.status_code
    try:
        body = strict_json.loads(response.content)
    except ValueError:  # json.JSONDecodeError and UnicodeDecodeError are both ValueErrors
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):
        if 400 <= status < 500:
            # A 4xx without a Bot API body (e.g. from a proxy): classify it by status alone.
            raise _error_for(status, {}, response)
        raise UnavailableError(
            f"Telegram returned an unreadable answer (HTTP {status})", upstream_status=status
        )
    if body["ok"]:
        if "result" not in body:
            raise UnavailableError(
                "Telegram returned an answer without a result", upstream_status=status
            )
        return body["result"]
    # The HTTP status mirrors error_code; trust the body when the two disagree (a proxy or test
    # double that wraps the error in a 200).
    code = body.get("error_code")
    if isinstance(code, int) and not isinstance(code, bool) and code >= 400:
        effective = code
    else:
        effective = max(status, 400)
    raise _error_for(effective, body, response)
