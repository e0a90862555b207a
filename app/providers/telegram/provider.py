"""`TelegramProvider`: a user's Telegram bot as a gateway.

Calls and their policies:

    call            used by                          retried   throttled
    getMe           validate, connect, health, act   yes       no
    getWebhookInfo  health, action                   yes       no
    setWebhook      connect                          no        no
    deleteWebhook   disconnect                       yes       no   (idempotent)
    sendMessage     action                           no        per bot and per chat

Reads are retried on transient errors; a write that may already have happened upstream is not
(a duplicated message is worse than a reported failure). Outgoing messages stay under Telegram's
advisory limits (about 30/s per bot, 1/s per chat): a message waits up to `max_send_wait` for a
slot and is otherwise refused with RATE_LIMITED and a `retry_after`, never queued indefinitely.

Logs name the bot by its numeric id only; the token never leaves `TelegramClient`'s URL.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx

from app.core.clock import Clock
from app.core.http import Timeouts, retry_idempotent
from app.core.rate_limit import RateLimiter, RateLimitExceeded, acquire_all
from app.gateways.credentials import TelegramBotCredentials
from app.gateways.enums import AIProvider, GatewayType
from app.providers.base import (
    ActionParamsError,
    ActionSpec,
    BadRequestError,
    CheckResult,
    ConnectResult,
    GatewayHandle,
    ProviderError,
    RateLimitedError,
    UnsupportedActionError,
)
from app.providers.telegram.client import DEFAULT_API_BASE_URL, TelegramClient
from app.providers.telegram.redact import install_httpx_redaction
from app.providers.telegram.results import describe_bot, describe_webhook, iso_from_unix
from app.providers.telegram.validation import (
    parse_send_message,
    parse_webhook_config,
    unknown_params,
)

logger = logging.getLogger("app.providers.telegram")

Sleep = Callable[[float], Awaitable[None]]

ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("sendMessage", "Send a text message to a chat (chatId, text, parseMode)."),
    ActionSpec("getMe", "Describe the bot: id, username and capabilities."),
    ActionSpec("getWebhookInfo", "Show the bot's webhook status and its last delivery error."),
)


class TelegramProvider:
    type: GatewayType = GatewayType.TELEGRAM_BOT
    name: str = "Telegram Bot"
    description: str = (
        "A Telegram bot: receives updates through a webhook and sends messages on your behalf."
    )
    actions: Sequence[ActionSpec] = ACTIONS
    ai_providers: Sequence[AIProvider] = ()

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_base_url: str = DEFAULT_API_BASE_URL,
        public_base_url: str,
        timeouts: Timeouts,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
        per_bot_rate: float = 30.0,
        per_chat_rate: float = 1.0,
        max_send_wait: float = 2.0,
    ) -> None:
        self._http = client
        self._api_base_url = api_base_url
        self._public_base_url = public_base_url.rstrip("/")
        self._timeout = timeouts.default()
        self._sleep = sleep
        self._max_send_wait = max_send_wait
        # The bot bucket allows a one-second burst; a chat gets one message per interval.
        self._per_bot = RateLimiter(per_bot_rate, burst=max(1.0, per_bot_rate), clock=clock)
        self._per_chat = RateLimiter(per_chat_rate, burst=1.0, clock=clock)
        install_httpx_redaction()

    def webhook_url(self, gateway: GatewayHandle) -> str:
        return f"{self._public_base_url}/api/webhooks/telegram/{gateway.id}"

    def _client(self, gateway: GatewayHandle) -> TelegramClient:
        credentials = gateway.credentials
        if not isinstance(credentials, TelegramBotCredentials):
            raise TypeError(f"gateway {gateway.id} does not hold Telegram bot credentials")
        return TelegramClient(
            self._http,
            token=credentials.bot_token,
            api_base_url=self._api_base_url,
            timeout=self._timeout,
        )

    async def _read(self, call: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        return await retry_idempotent(call, sleep=self._sleep)

    async def validate_credentials(self, gateway: GatewayHandle) -> CheckResult:
        telegram = self._client(gateway)
        me = await self._read(telegram.get_me)
        return CheckResult(
            details={
                "botId": str(me["id"]),
                "botUsername": me.get("username"),
                "canJoinGroups": me.get("can_join_groups"),
            }
        )

    async def connect(self, gateway: GatewayHandle) -> ConnectResult:
        config = parse_webhook_config(gateway.config)
        if isinstance(config, list):
            raise BadRequestError("; ".join(f"config.{e.field}: {e.message}" for e in config))
        telegram = self._client(gateway)
        me = await self._read(telegram.get_me)
        # token_urlsafe(32) is 43 characters of [A-Za-z0-9_-], the charset Telegram accepts.
        secret = secrets.token_urlsafe(32)
        try:
            await telegram.set_webhook(
                self.webhook_url(gateway),
                secret_token=secret,
                allowed_updates=config.allowed_updates,
                max_connections=config.max_connections,
            )
        except ProviderError as exc:
            logger.warning(
                "telegram.set_webhook.failed",
                extra={"bot_id": telegram.bot_id, "gateway_id": str(gateway.id), "code": exc.code},
            )
            raise
        logger.info(
            "telegram.set_webhook.succeeded",
            extra={"bot_id": telegram.bot_id, "gateway_id": str(gateway.id)},
        )
        return ConnectResult(
            config_updates={"botId": str(me["id"]), "botUsername": me.get("username")},
            webhook_secret=secret,
        )

    async def disconnect(self, gateway: GatewayHandle) -> None:
        telegram = self._client(gateway)

        async def delete() -> dict[str, Any]:
            # Pending updates are kept: reconnecting later should deliver them.
            await telegram.delete_webhook(drop_pending_updates=False)
            return {}

        await self._read(delete)  # deleting twice is harmless, so a retry is safe
        logger.info(
            "telegram.delete_webhook.succeeded",
            extra={"bot_id": telegram.bot_id, "gateway_id": str(gateway.id)},
        )

    async def check_health(self, gateway: GatewayHandle) -> CheckResult:
        telegram = self._client(gateway)
        me = await self._read(telegram.get_me)
        info = await self._read(telegram.get_webhook_info)
        return CheckResult(
            details={
                "botUsername": me.get("username"),
                "pendingUpdateCount": info.get("pending_update_count", 0),
                "webhookUrl": info.get("url") or "",
                "lastErrorMessage": info.get("last_error_message"),
            }
        )

    async def execute(
        self, gateway: GatewayHandle, action: str, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        if action == "sendMessage":
            return await self._send_message(gateway, params)
        if action in ("getMe", "getWebhookInfo"):
            errors = unknown_params(params, ())
            if errors:
                raise ActionParamsError(errors)
            telegram = self._client(gateway)
            if action == "getMe":
                return describe_bot(await self._read(telegram.get_me))
            return describe_webhook(await self._read(telegram.get_webhook_info))
        raise UnsupportedActionError(action, [spec.name for spec in self.actions])

    async def _send_message(
        self, gateway: GatewayHandle, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        parsed = parse_send_message(params)
        if isinstance(parsed, list):
            raise ActionParamsError(parsed)
        telegram = self._client(gateway)
        log_extra = {"bot_id": telegram.bot_id, "gateway_id": str(gateway.id)}
        try:
            await acquire_all(
                [
                    (self._per_bot, telegram.bot_id),
                    (self._per_chat, f"{telegram.bot_id}:{parsed.chat_id}"),
                ],
                max_wait=self._max_send_wait,
                sleep=self._sleep,
            )
        except RateLimitExceeded as exc:
            logger.info("telegram.send_message.throttled", extra=log_extra)
            raise RateLimitedError(
                f"too many messages for this bot or chat; retry after {exc.retry_after:.1f}s",
                retry_after=exc.retry_after,
            ) from exc
        try:
            message = await telegram.send_message(
                parsed.chat_id, parsed.text, parse_mode=parsed.parse_mode
            )
        except ProviderError as exc:
            logger.warning(
                "telegram.send_message.failed",
                extra={**log_extra, "code": exc.code, "upstream_status": exc.upstream_status},
            )
            raise
        chat = message.get("chat")
        chat_id = chat.get("id") if isinstance(chat, dict) else None
        return {
            # A message id counts messages within one chat (32 bits in practice), so it stays a
            # number; the chat id may use 52 bits or more and is a string like every other id.
            "messageId": message.get("message_id"),
            "chatId": str(chat_id if chat_id is not None else parsed.chat_id),
            "date": iso_from_unix(message.get("date")),
        }
