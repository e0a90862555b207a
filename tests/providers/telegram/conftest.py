"""A fake Bot API behind `httpx.MockTransport`, and a `TelegramProvider` wired to it."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from app.core.clock import FakeClock
from app.core.http import Timeouts, create_http_client
from app.gateways.credentials import TelegramBotCredentials
from app.gateways.enums import GatewayType
from app.providers.base import GatewayHandle
from app.providers.telegram.provider import TelegramProvider

API = "https://api.telegram.test"
PUBLIC = "https://gateways.example.com"
BOT_ID = 123456789
SECRET_HALF = "AAHk-SECRET_token_value_abcdefghijklmnopq"
TOKEN = f"{BOT_ID}:{SECRET_HALF}"
GATEWAY_ID = uuid.UUID("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")

Reply = httpx.Response | Exception


def ok(result: Any) -> httpx.Response:
    return httpx.Response(200, json={"ok": True, "result": result})


def fail(status: int, description: str, **parameters: Any) -> httpx.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return httpx.Response(status, json=body)


ME = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Test Bot",
    "username": "test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
WEBHOOK_INFO = {
    "url": f"{PUBLIC}/api/webhooks/telegram/{GATEWAY_ID}",
    "has_custom_certificate": False,
    "pending_update_count": 3,
    "last_error_date": 1767225600,
    "last_error_message": "Read timeout expired",
    "max_connections": 40,
    "allowed_updates": ["message", "callback_query"],
}


@dataclass
class Call:
    method: str
    path: str
    body: dict[str, Any]


@dataclass
class FakeTelegram:
    """Answers each Bot API method with queued replies, or a sensible success by default."""

    calls: list[Call] = field(default_factory=list)
    queued: dict[str, list[Reply]] = field(default_factory=dict)

    def reply(self, method: str, *replies: Reply) -> None:
        self.queued.setdefault(method, []).extend(replies)

    def methods(self) -> list[str]:
        return [call.method for call in self.calls]

    def handler(self, request: httpx.Request) -> httpx.Response:
        method = request.url.path.rsplit("/", 1)[-1]
        body = json.loads(request.content) if request.content else {}
        self.calls.append(Call(method, request.url.path, body))
        queue = self.queued.get(method)
        if queue:
            reply = queue.pop(0)
            if isinstance(reply, Exception):
                raise reply
            return reply
        return self.default(method, body)

    def default(self, method: str, body: dict[str, Any]) -> httpx.Response:
        match method:
            case "getMe":
                return ok(ME)
            case "getWebhookInfo":
                return ok(WEBHOOK_INFO)
            case "setWebhook" | "deleteWebhook":
                return ok(True)
            case "sendMessage":
                chat = {"id": body["chat_id"], "type": "private"}
                return ok({"message_id": 42, "chat": chat, "date": 1767225600, "text": "x"})
        return fail(404, "Not Found: method not found")


class ClockSleep:
    """Records each wait and advances the fake clock by it instead of sleeping."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        self.clock.advance(delay)


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleep(clock: FakeClock) -> ClockSleep:
    return ClockSleep(clock)


@pytest.fixture
async def http(fake: FakeTelegram) -> AsyncIterator[httpx.AsyncClient]:
    async with create_http_client(Timeouts(), transport=httpx.MockTransport(fake.handler)) as c:
        yield c


@pytest.fixture
def provider(http: httpx.AsyncClient, clock: FakeClock, sleep: ClockSleep) -> TelegramProvider:
    return TelegramProvider(
        http,
        api_base_url=API,
        public_base_url=PUBLIC + "/",
        timeouts=Timeouts(),
        clock=clock,
        sleep=sleep,
    )


def make_gateway(token: str = TOKEN, **config: Any) -> GatewayHandle:
    return GatewayHandle(
        id=GATEWAY_ID,
        type=GatewayType.TELEGRAM_BOT,
        credentials=TelegramBotCredentials(bot_token=token),
        config=config,
    )


@pytest.fixture
def gateway() -> GatewayHandle:
    return make_gateway()
