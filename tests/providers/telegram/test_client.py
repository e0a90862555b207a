"""`TelegramClient`: each Bot API method's URL and JSON body, and transport failures."""

from __future__ import annotations

import httpx
import pytest

from app.core.http import Timeouts
from app.providers.base import AuthInvalidError, UnavailableError, UpstreamTimeoutError
from app.providers.telegram.client import TelegramClient
from tests.providers.telegram.conftest import (
    API,
    BOT_ID,
    ME,
    SECRET_HALF,
    TOKEN,
    WEBHOOK_INFO,
    FakeTelegram,
    ok,
)


@pytest.fixture
def telegram(http: httpx.AsyncClient) -> TelegramClient:
    return TelegramClient(http, token=TOKEN, api_base_url=API + "/", timeout=Timeouts().default())


async def test_get_me(telegram: TelegramClient, fake: FakeTelegram) -> None:
    assert await telegram.get_me() == ME
    assert fake.calls[0].path == f"/bot{TOKEN}/getMe"
    assert fake.calls[0].body == {}


async def test_send_message(telegram: TelegramClient, fake: FakeTelegram) -> None:
    result = await telegram.send_message(-1001234567890123, "hi *there*", parse_mode="MarkdownV2")
    assert result["message_id"] == 42
    assert fake.calls[0].path == f"/bot{TOKEN}/sendMessage"
    assert fake.calls[0].body == {
        "chat_id": -1001234567890123,
        "text": "hi *there*",
        "parse_mode": "MarkdownV2",
    }


async def test_send_message_without_parse_mode(
    telegram: TelegramClient, fake: FakeTelegram
) -> None:
    await telegram.send_message("@channel_name", "plain")
    assert fake.calls[0].body == {"chat_id": "@channel_name", "text": "plain"}


async def test_set_webhook(telegram: TelegramClient, fake: FakeTelegram) -> None:
    await telegram.set_webhook(
        "https://x.example/hook", secret_token="s3cr3t", allowed_updates=(), max_connections=7
    )
    assert fake.calls[0].method == "setWebhook"
    assert fake.calls[0].body == {
        "url": "https://x.example/hook",
        "secret_token": "s3cr3t",
        "allowed_updates": [],
        "max_connections": 7,
    }


async def test_delete_webhook(telegram: TelegramClient, fake: FakeTelegram) -> None:
    await telegram.delete_webhook()
    assert fake.calls[0].method == "deleteWebhook"
    assert fake.calls[0].body == {"drop_pending_updates": False}


async def test_get_webhook_info(telegram: TelegramClient, fake: FakeTelegram) -> None:
    assert await telegram.get_webhook_info() == WEBHOOK_INFO
    assert fake.calls[0].method == "getWebhookInfo"


async def test_an_unexpected_result_shape_is_unavailable(
    telegram: TelegramClient, fake: FakeTelegram
) -> None:
    fake.reply("getMe", ok(True), ok({"username": "no_id"}))
    with pytest.raises(UnavailableError, match="unexpected getMe result"):
        await telegram.get_me()
    with pytest.raises(UnavailableError, match="unexpected getMe result"):
        await telegram.get_me()


@pytest.mark.parametrize(
    ("raised", "expected", "message"),
    [
        (httpx.ReadTimeout("timed out"), UpstreamTimeoutError, "Telegram did not answer in time"),
        (httpx.ConnectError("refused"), UnavailableError, "could not reach Telegram"),
    ],
)
async def test_transport_failures(
    telegram: TelegramClient,
    fake: FakeTelegram,
    raised: Exception,
    expected: type[Exception],
    message: str,
) -> None:
    fake.reply("getMe", raised)
    with pytest.raises(expected, match=message) as info:
        await telegram.get_me()
    assert SECRET_HALF not in str(info.value)


@pytest.mark.parametrize(
    "token",
    ["", "no-colon", "123:abc/../../admin", "123:abc?x=1", "123:abc#f", "abc:def", "123: space"],
)
async def test_a_malformed_token_never_becomes_a_url(
    http: httpx.AsyncClient, fake: FakeTelegram, token: str
) -> None:
    with pytest.raises(AuthInvalidError, match="malformed"):
        TelegramClient(http, token=token, api_base_url=API)
    assert fake.calls == []


def test_repr_shows_the_bot_id_only(telegram: TelegramClient) -> None:
    assert repr(telegram) == f"TelegramClient(bot_id='{BOT_ID}')"
    assert telegram.bot_id == str(BOT_ID)
