"""`TelegramProvider` against a fake Bot API: lifecycle, actions, retries, throttling, secrecy."""

from __future__ import annotations

import json
import logging
import re

import httpx
import pytest

from app.core.clock import FakeClock
from app.core.http import Timeouts
from app.gateways.credentials import WebhookCredentials
from app.gateways.enums import GatewayType
from app.providers.base import (
    ActionParamsError,
    AuthInvalidError,
    BadRequestError,
    GatewayHandle,
    ParamError,
    PermissionDeniedError,
    Provider,
    ProviderError,
    RateLimitedError,
    UnavailableError,
    UnsupportedActionError,
    UpstreamTimeoutError,
)
from app.providers.telegram.provider import TelegramProvider
from app.providers.telegram.validation import DEFAULT_ALLOWED_UPDATES
from tests.providers.telegram.conftest import (
    API,
    BOT_ID,
    GATEWAY_ID,
    ME,
    PUBLIC,
    SECRET_HALF,
    TOKEN,
    ClockSleep,
    FakeTelegram,
    fail,
    make_gateway,
    ok,
)

SEND = {"chatId": 777, "text": "hello"}


def test_it_is_a_provider(provider: TelegramProvider) -> None:
    as_protocol: Provider = provider
    assert as_protocol.type is GatewayType.TELEGRAM_BOT
    assert provider.name == "Telegram Bot"
    assert provider.ai_providers == ()
    assert [a.name for a in provider.actions] == ["sendMessage", "getMe", "getWebhookInfo"]


# --- validate, connect, disconnect, health -----------------------------------------------------


async def test_validate_credentials(provider: TelegramProvider, gateway: GatewayHandle) -> None:
    result = await provider.validate_credentials(gateway)
    assert result.details == {
        "botId": str(BOT_ID),
        "botUsername": "test_bot",
        "canJoinGroups": True,
    }


async def test_validate_retries_a_transient_get_me(
    provider: TelegramProvider, gateway: GatewayHandle, fake: FakeTelegram, sleep: ClockSleep
) -> None:
    fake.reply("getMe", fail(502, "Bad Gateway"), httpx.ConnectError("refused"))
    result = await provider.validate_credentials(gateway)
    assert result.details["botId"] == str(BOT_ID)
    assert fake.methods() == ["getMe"] * 3
    assert len(sleep.delays) == 2


async def test_validate_does_not_retry_a_bad_token(
    provider: TelegramProvider, gateway: GatewayHandle, fake: FakeTelegram
) -> None:
    fake.reply("getMe", fail(401, "Unauthorized"))
    with pytest.raises(AuthInvalidError):
        await provider.validate_credentials(gateway)
    assert fake.methods() == ["getMe"]


async def test_connect_sets_the_webhook(
    provider: TelegramProvider, gateway: GatewayHandle, fake: FakeTelegram
) -> None:
    result = await provider.connect(gateway)
    assert fake.methods() == ["getMe", "setWebhook"]
    body = fake.calls[1].body
    assert body["url"] == f"{PUBLIC}/api/webhooks/telegram/{GATEWAY_ID}"
    assert body["allowed_updates"] == list(DEFAULT_ALLOWED_UPDATES)
    # Telegram only sends what is asked for: payments, polls, member changes, reactions, boosts
    # and business updates must be in the list (reactions and chat_member only arrive by name).
    assert {
        "pre_checkout_query", "shipping_query", "poll", "poll_answer", "chat_member",
        "message_reaction", "message_reaction_count", "chat_boost", "removed_chat_boost",
        "business_connection", "business_message", "purchased_paid_media", "subscription",
    } <= set(body["allowed_updates"])  # fmt: skip
    assert body["max_connections"] == 40
    assert "drop_pending_updates" not in body
    secret = body["secret_token"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{32,256}", secret)
    assert result.webhook_secret == secret
    assert result.config_updates == {"botId": str(BOT_ID), "botUsername": "test_bot"}
    assert secret not in repr(result)


async def test_each_connect_uses_a_new_secret(
    provider: TelegramProvider, gateway: GatewayHandle
) -> None:
    first = await provider.connect(gateway)
    second = await provider.connect(gateway)
    assert first.webhook_secret != second.webhook_secret


async def test_connect_uses_the_gateway_config(
    provider: TelegramProvider, fake: FakeTelegram
) -> None:
    gateway = make_gateway(allowedUpdates=["message", "chat_member"], maxConnections=5)
    await provider.connect(gateway)
    assert fake.calls[1].body["allowed_updates"] == ["message", "chat_member"]
    assert fake.calls[1].body["max_connections"] == 5


async def test_connect_refuses_bad_config_before_calling(
    provider: TelegramProvider, fake: FakeTelegram
) -> None:
    gateway = make_gateway(allowedUpdates=["nope"], maxConnections=500)
    with pytest.raises(BadRequestError) as info:
        await provider.connect(gateway)
    assert "config.allowedUpdates: unknown update types: nope" in info.value.message
    assert "config.maxConnections" in info.value.message
    assert fake.calls == []


async def test_set_webhook_is_not_retried(
    provider: TelegramProvider, gateway: GatewayHandle, fake: FakeTelegram
) -> None:
    fake.reply("setWebhook", fail(500, "Internal Server Error"))
    with pytest.raises(UnavailableError):
        await provider.connect(gateway)
    assert fake.methods() == ["getMe", "setWebhook"]


async def test_connect_surfaces_telegrams_refusal(
    provider: TelegramProvider, gateway: GatewayHandle, fake: FakeTelegram
) -> None:
    fake.reply("setWebhook", fail(400, "Bad Request: bad webhook: HTTPS url must be provided"))
    with pytest.raises(BadRequestError, match="HTTPS url must be provided"):
        await provider.connect(gateway)


async def test_disconnect_deletes_the_webhook_keeping_updates(
    provider: TelegramProvider, gateway: GatewayHandle, fake: FakeTelegram
) -> None:
    fake.reply("deleteWebhook", fail(503, "Service Unavailable"))
    await provider.disconnect(gateway)
    assert fake.methods() == ["deleteWebhook", "deleteWebhook"]  # idempotent: retried
    assert fake.calls[-1].body == {"drop_pending_updates": False}


async def test_check_health(provider: TelegramProvider, gateway: GatewayHandle) -> None:
    result = await provider.check_health(gateway)
    assert result.details == {
        "botUsername": "test_bot",
        "pendingUpdateCount": 3,
        "webhookUrl": f"{PUBLIC}/api/webhooks/telegram/{GATEWAY_ID}",
        "lastErrorMessage": "Read timeout expired",
    }


async def test_wrong_credentials_type_is_a_programming_error(provider: TelegramProvider) -> None:
    gateway = GatewayHandle(
        id=GATEWAY_ID, type=GatewayType.WEBHOOK, credentials=WebhookCredentials(url="https://x")
    )
    with pytest.raises(TypeError):
        await provider.check_health(gateway)


# --- actions -----------------------------------------------------------------------------------


async def test_send_message(
    provider: TelegramProvider, gateway: GatewayHandle, fake: FakeTelegram
) -> None:
    params = {"chatId": "-1001234567890", "text": "*hi*", "parseMode": "MarkdownV2"}
    result = await provider.execute(gateway, "sendMessage", params)
    assert result == {
        "messageId": 42,
        "chatId": "-1001234567890",
        "date": "2026-01-01T00:00:00+00:00",
    }
    assert fake.calls[0].body == {
        "chat_id": -1001234567890,  # a numeric string is sent as the 64-bit integer it is
        "text": "*hi*",
        "parse_mode": "MarkdownV2",
    }


async def test_get_me_action(provider: TelegramProvider, gateway: GatewayHandle) -> None:
    assert await provider.execute(gateway, "getMe", {}) == {
        "id": str(BOT_ID),
        "isBot": True,
        "firstName": "Test Bot",
        "username": "test_bot",
        "canJoinGroups": True,
        "canReadAllGroupMessages": False,
        "supportsInlineQueries": False,
    }


async def test_get_webhook_info_action(provider: TelegramProvider, gateway: GatewayHandle) -> None:
    assert await provider.execute(gateway, "getWebhookInfo", {}) == {
        "url": f"{PUBLIC}/api/webhooks/telegram/{GATEWAY_ID}",
        "pendingUpdateCount": 3,
        "lastErrorDate": "2026-01-01T00:00:00+00:00",
        "lastErrorMessage": "Read timeout expired",
        "maxConnections": 40,
        "allowedUpdates": ["message", "callback_query"],
    }


async def test_param_errors_are_raised_before_any_call(
    provider: TelegramProvider, gateway: GatewayHandle, fake: FakeTelegram
) -> None:
    with pytest.raises(ActionParamsError) as info:
        await provider.execute(gateway, "sendMessage", {"chatId": 0, "text": ""})
    assert [e.field for e in info.value.errors] == ["chatId", "text"]
    with pytest.raises(ActionParamsError) as info:
        await provider.execute(gateway, "getMe", {"verbose": True})
    assert info.value.errors == [ParamError("verbose", "unknown parameter")]
    assert fake.calls == []


async def test_unsupported_action(provider: TelegramProvider, gateway: GatewayHandle) -> None:
    with pytest.raises(UnsupportedActionError) as info:
        await provider.execute(gateway, "deleteMessage", {})
    assert info.value.action == "deleteMessage"
    assert info.value.supported == ["sendMessage", "getMe", "getWebhookInfo"]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (fail(401, "Unauthorized"), AuthInvalidError),
        (fail(404, "Not Found"), AuthInvalidError),
        (fail(403, "Forbidden: bot was blocked by the user"), PermissionDeniedError),
        (fail(409, "Conflict: terminated by other getUpdates request"), BadRequestError),
        (fail(429, "Too Many Requests: retry after 3", retry_after=3), RateLimitedError),
        (fail(400, "Bad Request: chat not found"), BadRequestError),
        (fail(500, "Internal Server Error"), UnavailableError),
        (httpx.Response(502, text="<html>nginx</html>"), UnavailableError),
        (httpx.ReadTimeout("timed out"), UpstreamTimeoutError),
        (httpx.ConnectError("connection refused"), UnavailableError),
    ],
)
async def test_send_message_errors_are_mapped_never_retried_and_never_leak_the_token(
    provider: TelegramProvider,
    gateway: GatewayHandle,
    fake: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
    reply: httpx.Response | Exception,
    expected: type[ProviderError],
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.reply("sendMessage", reply)
    with pytest.raises(expected) as info:
        await provider.execute(gateway, "sendMessage", SEND)
    assert type(info.value) is expected
    assert fake.methods() == ["sendMessage"]  # a write is never retried
    assert SECRET_HALF not in str(info.value)
    failed = [r for r in caplog.records if r.getMessage() == "telegram.send_message.failed"]
    assert len(failed) == 1
    assert failed[0].bot_id == str(BOT_ID)  # type: ignore[attr-defined]
    assert_no_token_in(caplog.records)


async def test_the_token_never_reaches_any_log_record(
    provider: TelegramProvider,
    gateway: GatewayHandle,
    fake: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.reply("setWebhook", fail(400, f"Bad Request: echo /bot{TOKEN}/setWebhook"))
    await provider.validate_credentials(gateway)
    with pytest.raises(BadRequestError):
        await provider.connect(gateway)
    await provider.execute(gateway, "sendMessage", SEND)
    await provider.check_health(gateway)
    await provider.disconnect(gateway)
    # httpx itself logs each request URL; the provider's filter must have redacted them.
    httpx_lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any(f"/bot{BOT_ID}:***/getMe" in line for line in httpx_lines)
    assert_no_token_in(caplog.records)


def assert_no_token_in(records: list[logging.LogRecord]) -> None:
    for record in records:
        assert SECRET_HALF not in record.getMessage()
        assert SECRET_HALF not in repr(vars(record))


# --- throttling --------------------------------------------------------------------------------


class Waits:
    """A sleep that records the wait but lets no time pass, so a burst queues up."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def throttled_provider(
    http: httpx.AsyncClient,
    clock: FakeClock,
    sleep: Waits,
    *,
    per_bot_rate: float = 30.0,
    per_chat_rate: float = 1.0,
    max_send_wait: float = 2.0,
) -> TelegramProvider:
    return TelegramProvider(
        http,
        api_base_url=API,
        public_base_url=PUBLIC,
        timeouts=Timeouts(),
        clock=clock,
        sleep=sleep,
        per_bot_rate=per_bot_rate,
        per_chat_rate=per_chat_rate,
        max_send_wait=max_send_wait,
    )


async def test_messages_to_one_chat_are_spaced_then_refused(
    http: httpx.AsyncClient, clock: FakeClock, gateway: GatewayHandle, fake: FakeTelegram
) -> None:
    waits = Waits()
    provider = throttled_provider(http, clock, waits, per_chat_rate=1.0, max_send_wait=1.5)
    await provider.execute(gateway, "sendMessage", SEND)
    await provider.execute(gateway, "sendMessage", SEND)  # waits 1 s for its slot
    with pytest.raises(RateLimitedError) as info:
        await provider.execute(gateway, "sendMessage", SEND)  # would wait 2 s > 1.5 s
    assert info.value.retry_after == pytest.approx(2.0)
    assert waits.delays == pytest.approx([1.0])
    assert fake.methods() == ["sendMessage", "sendMessage"]
    # Another chat of the same bot is not held up by the first one.
    await provider.execute(gateway, "sendMessage", {"chatId": 778, "text": "hi"})
    assert waits.delays == pytest.approx([1.0])


async def test_messages_of_one_bot_are_capped_across_chats(
    http: httpx.AsyncClient, clock: FakeClock, gateway: GatewayHandle, fake: FakeTelegram
) -> None:
    waits = Waits()
    provider = throttled_provider(http, clock, waits, per_bot_rate=3.0, max_send_wait=0.0)
    for chat in range(3):
        await provider.execute(gateway, "sendMessage", {"chatId": 1000 + chat, "text": "x"})
    with pytest.raises(RateLimitedError, match="too many messages"):
        await provider.execute(gateway, "sendMessage", {"chatId": 2000, "text": "x"})
    assert len(fake.calls) == 3
    clock.advance(1.0)
    await provider.execute(gateway, "sendMessage", {"chatId": 2000, "text": "x"})
    assert len(fake.calls) == 4
    assert waits.delays == []


# --- ids past 2**53 ------------------------------------------------------------------------------

# A JavaScript client reads JSON numbers as doubles: past 2**53 they lose digits. Every Telegram
# id the provider returns is therefore a string, and digits are never routed through a float.
HUGE_BOT_ID = 2**53 + 1  # 9007199254740993: a double rounds it to ...992
HUGE_CHAT = -(2**62) - 3


async def test_ids_past_2_53_come_back_exact_in_every_result(
    provider: TelegramProvider, fake: FakeTelegram
) -> None:
    gateway = make_gateway(f"{HUGE_BOT_ID}:{SECRET_HALF}")
    me = {**ME, "id": HUGE_BOT_ID}
    fake.reply("getMe", ok(me), ok(me), ok(me))

    validated = await provider.validate_credentials(gateway)
    connected = await provider.connect(gateway)
    described = await provider.execute(gateway, "getMe", {})
    sent = await provider.execute(gateway, "sendMessage", {"chatId": str(HUGE_CHAT), "text": "hi"})

    assert validated.details["botId"] == "9007199254740993"
    assert connected.config_updates["botId"] == "9007199254740993"
    assert described["id"] == "9007199254740993"
    assert sent["chatId"] == str(HUGE_CHAT)
    # Sent to Telegram as the exact integer, not a rounded number.
    assert fake.calls[-1].body["chat_id"] == HUGE_CHAT
    assert str(HUGE_CHAT).encode() in b"".join(
        json.dumps(call.body).encode() for call in fake.calls if call.method == "sendMessage"
    )


async def test_a_chat_id_given_as_a_float_is_refused_not_rounded(
    provider: TelegramProvider, gateway: GatewayHandle, fake: FakeTelegram
) -> None:
    with pytest.raises(ActionParamsError):
        await provider.execute(
            gateway, "sendMessage", {"chatId": 9.007199254740993e15, "text": "x"}
        )
    assert fake.calls == []
