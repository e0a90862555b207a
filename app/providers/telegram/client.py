"""A thin typed client for the Bot API methods the provider uses.

Every call is `POST {api_base}/bot{token}/{method}` with a JSON body, sent through
`app.core.http.send` (transport errors mapped, no URL in messages) and read by `check_response`.
The client neither retries nor throttles: those are decisions of the provider, which knows which
calls are reads and which are writes.

The token is part of the URL path, so the client refuses a token that could change the path
("../", "?", "#", "/"): a malformed token must not be able to reach another endpoint.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import httpx

from app.core.http import send
from app.providers.base import AuthInvalidError, UnavailableError
from app.providers.telegram.errors import check_response

UPSTREAM = "Telegram"
DEFAULT_API_BASE_URL = "https://api.telegram.org"

# Lenient on lengths (Telegram documents none), strict on the alphabet.
_TOKEN = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{1,128}")


class TelegramClient:
    """Bot API calls for one bot token."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        token: str,
        api_base_url: str = DEFAULT_API_BASE_URL,
        timeout: httpx.Timeout | None = None,
    ) -> None:
        if not _TOKEN.fullmatch(token):
            # Raised before any request: no URL is built from a token that isn't one.
            raise AuthInvalidError("the bot token is malformed")
        self._http = http
        self._base = f"{api_base_url.rstrip('/')}/bot{token}"
        self._timeout = timeout
        self.bot_id = token.split(":", 1)[0]

    def __repr__(self) -> str:
        return f"TelegramClient(bot_id={self.bot_id!r})"

    async def call(self, method: str, payload: dict[str, Any] | None = None) -> Any:
        """Call a Bot API method and return its `result`."""
        response = await send(
            self._http,
            "POST",
            f"{self._base}/{method}",
            upstream=UPSTREAM,
            timeout=self._timeout,
            json=payload or {},
        )
        return check_response(response)

    async def _call_object(self, method: str, payload: dict[str, Any] | None = None) -> Any:
        result = await self.call(method, payload)
        if not isinstance(result, dict):
            raise UnavailableError(f"Telegram returned an unexpected {method} result")
        return result

    async def get_me(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call_object("getMe")
        if not isinstance(result.get("id"), int):
            raise UnavailableError("Telegram returned an unexpected getMe result")
        return result

    async def send_message(
        self, chat_id: int | str, text: str, *, parse_mode: str | None = None
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if parse_mode is not None:
            payload["parse_mode"] = parse_mode
        result: dict[str, Any] = await self._call_object("sendMessage", payload)
        return result

    async def set_webhook(
        self,
        url: str,
        *,
        secret_token: str,
        allowed_updates: Sequence[str],
        max_connections: int,
    ) -> None:
        await self.call(
            "setWebhook",
            {
                "url": url,
                "secret_token": secret_token,
                # Always explicit: an omitted list keeps whatever the bot had before.
                "allowed_updates": list(allowed_updates),
                "max_connections": max_connections,
            },
        )

    async def delete_webhook(self, *, drop_pending_updates: bool = False) -> None:
        await self.call("deleteWebhook", {"drop_pending_updates": drop_pending_updates})

    async def get_webhook_info(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call_object("getWebhookInfo")
        return result
