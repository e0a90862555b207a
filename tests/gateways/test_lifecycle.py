"""The gateway lifecycle through the GraphQL API: connect, disconnect, delete, test, actions,
Telegram messages, AI chats and the per-gateway circuit breaker.

Upstreams are `FakeUpstreams` routes; time is a `FakeClock`, so the breaker's reset timeout passes
without sleeping. The FakeClock also drives Telegram's per-chat send limiter (1 message/s), which
is why tests that send several messages use a different chat each time.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise.connection import get_connection

from app.core.clock import FakeClock, utcnow
from app.gateways.models import Gateway as GatewayRow
from app.providers.telegram.validation import DEFAULT_ALLOWED_UPDATES
from tests.support.harness import Harness, make_settings, running_app
from tests.support.upstreams import FakeUpstreams

TELEGRAM_HOST = "api.telegram.test"
OPENAI_HOST = "openai.test"
ANTHROPIC_HOST = "anthropic.test"
PUBLIC_BASE_URL = "https://gateway.example.test"
BOT_ID = 123456789
BOT_TOKEN = f"{BOT_ID}:AAHk-SECRET_token_value_abcdefghijklm"
AI_KEY = "sk-test-0123456789abcdef-SECRET"
SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32,256}")
TELEGRAM_RESET_TIMEOUT = 30.0  # BreakerConfig default; Telegram's threshold is 3

# ---------------------------------------------------------------- GraphQL documents

GATEWAY_FIELDS = """
fragment G on Gateway {
  id name type status config lastError lastErrorAt lastConnectedAt
  credentialInfo {
    __typename
    ... on TelegramBotCredentialInfo { botTokenHint botUsername }
    ... on AICredentialInfo { provider apiKeyHint model }
  }
  circuit { state failures successes lastFailureAt lastStateChangeAt retryAfterSeconds }
  supportedActions { name description }
}
"""
ERROR_FIELDS = """
fragment E on Error {
  __typename message
  ... on ProviderError { code retryable retryAfterSeconds upstreamStatus }
  ... on CircuitOpenError { openRetryAfter: retryAfterSeconds }
  ... on ValidationError { fieldErrors { field message } }
  ... on UnsupportedActionError { supported: supportedActions }
}
"""
CREATE = (
    """mutation($input: CreateGatewayInput!) {
  createGateway(input: $input) { __typename ...G ...E } }"""
    + GATEWAY_FIELDS
    + ERROR_FIELDS
)
CONNECT = (
    "mutation($id: ID!) { connectGateway(id: $id) { __typename ...G ...E } }"
    + GATEWAY_FIELDS
    + ERROR_FIELDS
)
DISCONNECT = (
    "mutation($id: ID!) { disconnectGateway(id: $id) { __typename ...G ...E } }"
    + GATEWAY_FIELDS
    + ERROR_FIELDS
)
DELETE = """mutation($id: ID!) { deleteGateway(id: $id) {
  __typename ... on DeletedGateway { id } ... on Error { message } } }"""
TEST = (
    """mutation($id: ID!) { testGateway(id: $id) {
  __typename ...E
  ... on GatewayTestResult { success latencyMs error details testedAt gateway { ...G } } } }"""
    + GATEWAY_FIELDS
    + ERROR_FIELDS
)
EXECUTE = (
    """mutation($id: ID!, $action: String!, $params: JSON) {
  executeGatewayAction(id: $id, action: $action, params: $params) {
    __typename ...E ... on GatewayActionResult { action data gateway { id } } } }"""
    + ERROR_FIELDS
)
SEND = (
    """mutation($input: SendTelegramMessageInput!) { sendTelegramMessage(input: $input) {
  __typename ...E ... on GatewayActionResult { action data gateway { id } } } }"""
    + ERROR_FIELDS
)
CHAT = (
    """mutation($input: AIChatInput!) { aiChat(input: $input) {
  __typename ...E
  ... on AIChatCompletion {
    model reply: message { role content } finishReason
    promptTokens completionTokens latencyMs } } }"""
    + ERROR_FIELDS
)
RESET = (
    "mutation($id: ID!) { resetGatewayCircuit(id: $id) { __typename ...G ...E } }"
    + GATEWAY_FIELDS
    + ERROR_FIELDS
)
GATEWAY = "query($id: ID!) { gateway(id: $id) { ...G } }" + GATEWAY_FIELDS
AUDIT = """query($id: ID!) { auditEvents(gatewayId: $id, first: 100) { action metadata } }"""
PROVIDERS = """{ gatewayProviders {
  type name description actions { name description } aiProviders } }"""


# ---------------------------------------------------------------- fake upstreams


def ok(result: Any) -> httpx.Response:
    return httpx.Response(200, json={"ok": True, "result": result})


def fail(status: int, description: str, **parameters: Any) -> httpx.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return httpx.Response(status, json=body)


Responder = Callable[[dict[str, Any]], httpx.Response]


@dataclass
class TelegramCall:
    token: str
    method: str
    body: dict[str, Any]


@dataclass
class FakeTelegram:
    """A Bot API that answers sensibly, unless a method is told to answer otherwise."""

    calls: list[TelegramCall] = field(default_factory=list)
    overrides: dict[str, Responder] = field(default_factory=dict)

    def answer(self, method: str, responder: Responder) -> None:
        self.overrides[method] = responder

    def heal(self) -> None:
        self.overrides.clear()

    def to(self, method: str) -> list[TelegramCall]:
        return [c for c in self.calls if c.method == method]

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        _, bot, method = request.url.path.split("/")
        body = json.loads(request.content) if request.content else {}
        self.calls.append(TelegramCall(bot.removeprefix("bot"), method, body))
        if method in self.overrides:
            return self.overrides[method](body)
        match method:
            case "getMe":
                return ok({"id": BOT_ID, "is_bot": True, "first_name": "Test", "username": "t_bot"})
            case "setWebhook" | "deleteWebhook":
                return ok(True)
            case "getWebhookInfo":
                return ok(
                    {"url": "https://x.test/hook", "pending_update_count": 3, "max_connections": 40}
                )
            case "sendMessage":
                chat = {"id": body["chat_id"], "type": "private"}
                return ok({"message_id": 42, "chat": chat, "date": 1767225600, "text": "x"})
        return fail(404, "Not Found: method not found")


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=utcnow())


@pytest.fixture
async def harness(
    database_url: str, tmp_path: Path, upstreams: FakeUpstreams, clock: FakeClock
) -> AsyncIterator[Harness]:
    # Like the shared fixture, plus operator base URLs that point two AI providers at fakes.
    settings = make_settings(
        database_url,
        str(tmp_path),
        openai_base_url=f"https://{OPENAI_HOST}/v1",
        anthropic_base_url=f"https://{ANTHROPIC_HOST}",
    )
    async with running_app(
        settings, clock=clock, upstream_transport=upstreams.transport()
    ) as harness:
        yield harness


@pytest.fixture
def telegram(upstreams: FakeUpstreams) -> FakeTelegram:
    fake = FakeTelegram()
    upstreams.route(TELEGRAM_HOST, fake)
    return fake


@pytest.fixture
async def token(harness: Harness) -> str:
    return await harness.register("owner@example.test", "Owner")


@dataclass
class Org:
    id: str
    owner: str
    admin: str
    member: str


@pytest.fixture
async def org(harness: Harness, token: str) -> Org:
    org_id = await harness.create_org(token, "Acme")
    admin = await harness.register("admin@example.test", "Admin")
    member = await harness.register("member@example.test", "Member")
    assert (await harness.add_member(token, org_id, "admin@example.test", "ADMIN"))[
        "__typename"
    ] == "Membership"
    assert (await harness.add_member(token, org_id, "member@example.test", "MEMBER"))[
        "__typename"
    ] == "Membership"
    return Org(id=org_id, owner=token, admin=admin, member=member)


# ---------------------------------------------------------------- helpers


async def mutate(
    h: Harness, document: str, variables: dict[str, Any], token: str, org: str | None = None
) -> dict[str, Any]:
    data = await h.gql(document, variables, token=token, org=org)
    (result,) = data.values()
    assert isinstance(result, dict)
    return result


async def create_telegram(
    h: Harness, token: str, *, org: str | None = None, config: dict[str, Any] | None = None
) -> str:
    result = await mutate(
        h,
        CREATE,
        {
            "input": {
                "name": "Support bot",
                "type": "TELEGRAM_BOT",
                "credentials": {"telegramBot": {"botToken": BOT_TOKEN}},
                "config": config,
            }
        },
        token,
        org,
    )
    assert result["__typename"] == "Gateway", result
    gateway_id: str = result["id"]
    return gateway_id


async def create_ai(h: Harness, token: str, provider: str, model: str) -> str:
    credentials = {"ai": {"provider": provider, "apiKey": AI_KEY, "model": model}}
    result = await mutate(
        h,
        CREATE,
        {"input": {"name": f"{provider} chat", "type": "AI", "credentials": credentials}},
        token,
    )
    assert result["__typename"] == "Gateway", result
    gateway_id: str = result["id"]
    return gateway_id


async def connected_telegram(h: Harness, token: str, *, org: str | None = None) -> str:
    gateway_id = await create_telegram(h, token, org=org)
    result = await mutate(h, CONNECT, {"id": gateway_id}, token, org)
    assert result["__typename"] == "Gateway", result
    assert result["status"] == "CONNECTED"
    return gateway_id


async def gateway(h: Harness, token: str, gateway_id: str, org: str | None = None) -> Any:
    return (await h.gql(GATEWAY, {"id": gateway_id}, token=token, org=org))["gateway"]


async def audit_trail(
    h: Harness, token: str, gateway_id: str, org: str | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """(action, metadata) of the gateway's audit events, oldest first."""
    events = (await h.gql(AUDIT, {"id": gateway_id}, token=token, org=org))["auditEvents"]
    return [(e["action"], e["metadata"]) for e in reversed(events)]


async def transitions(h: Harness, token: str, gateway_id: str) -> list[tuple[str, str, str]]:
    return [
        (m["previousStatus"], m["status"], m["cause"])
        for action, m in await audit_trail(h, token, gateway_id)
        if action == "gateway.status_change"
    ]


async def send(h: Harness, token: str, gateway_id: str, chat_id: str, text: str = "hi") -> Any:
    return await mutate(
        h, SEND, {"input": {"gatewayId": gateway_id, "chatId": chat_id, "text": text}}, token
    )


async def wait_for_status(
    h: Harness, token: str, gateway_id: str, status: str, *, within: float = 2.0
) -> Any:
    """Poll the gateway until it has `status`: breaker listeners may run in a background task."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        current = await gateway(h, token, gateway_id)
        if current["status"] == status or loop.time() >= deadline:
            assert current["status"] == status, current
            return current
        await asyncio.sleep(0.01)


async def database_dump(h: Harness) -> str:
    """Every row of every table as text, plus the raw SQLite files."""
    connection = get_connection("default")
    _, tables = await connection.execute_query(
        "SELECT name FROM sqlite_master WHERE type = 'table'"
    )
    parts: list[str] = []
    for table in tables:
        _, rows = await connection.execute_query(f'SELECT * FROM "{table["name"]}"')  # noqa: S608
        parts.extend(repr(dict(row)) for row in rows)
    path = Path(h.settings.database_url.removeprefix("sqlite://"))
    for file in path.parent.glob(path.name + "*"):
        parts.append(file.read_bytes().decode("latin-1"))
    return "\n".join(parts)


# ---------------------------------------------------------------- connect


async def test_connect_telegram_sets_a_webhook_with_a_fresh_secret(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await create_telegram(harness, token)

    result = await mutate(harness, CONNECT, {"id": gateway_id}, token)

    assert result["__typename"] == "Gateway"
    assert result["status"] == "CONNECTED"
    assert result["lastConnectedAt"] is not None
    assert result["config"]["botUsername"] == "t_bot"
    assert result["config"]["botId"] == str(BOT_ID)
    assert result["credentialInfo"]["botUsername"] == "t_bot"
    assert BOT_TOKEN not in json.dumps(result)
    assert telegram.methods() == ["getMe", "setWebhook"]
    (set_webhook,) = telegram.to("setWebhook")
    assert set_webhook.token == BOT_TOKEN
    body = set_webhook.body
    assert body["url"] == f"{PUBLIC_BASE_URL}/api/webhooks/telegram/{gateway_id}"
    assert SECRET_TOKEN_RE.fullmatch(body["secret_token"])
    assert body["allowed_updates"] == list(DEFAULT_ALLOWED_UPDATES)
    assert "message" in body["allowed_updates"]
    assert body["max_connections"] == 40
    assert await transitions(harness, token, gateway_id) == [
        ("DISCONNECTED", "CONNECTING", "connect"),
        ("CONNECTING", "CONNECTED", "connect"),
    ]
    assert ("gateway.connect", {"success": True}) in await audit_trail(harness, token, gateway_id)


async def test_connect_stores_only_a_hash_of_the_webhook_secret(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await connected_telegram(harness, token)
    secret = telegram.to("setWebhook")[0].body["secret_token"]

    row = await GatewayRow.get(id=gateway_id)
    assert row.webhook_secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    dump = await database_dump(harness)
    assert row.webhook_secret_hash in dump
    assert secret not in dump
    assert BOT_TOKEN not in dump


async def test_reconnect_rotates_the_webhook_secret(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await connected_telegram(harness, token)
    first_hash = (await GatewayRow.get(id=gateway_id)).webhook_secret_hash

    result = await mutate(harness, CONNECT, {"id": gateway_id}, token)

    assert result["status"] == "CONNECTED"
    first, second = (c.body["secret_token"] for c in telegram.to("setWebhook"))
    assert first != second
    row = await GatewayRow.get(id=gateway_id)
    assert row.webhook_secret_hash == hashlib.sha256(second.encode()).hexdigest() != first_hash


async def test_connect_uses_the_webhook_config_of_the_gateway(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    config = {"allowedUpdates": ["message", "chat_member"], "maxConnections": 10}
    gateway_id = await create_telegram(harness, token, config=config)

    result = await mutate(harness, CONNECT, {"id": gateway_id}, token)

    assert result["status"] == "CONNECTED"
    body = telegram.to("setWebhook")[0].body
    assert body["allowed_updates"] == ["message", "chat_member"]
    assert body["max_connections"] == 10
    assert result["config"]["maxConnections"] == 10  # the user's config survives the merge


async def test_connect_with_a_revoked_token_fails_and_records_the_error(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    telegram.answer("getMe", lambda _: fail(401, "Unauthorized"))
    gateway_id = await create_telegram(harness, token)

    result = await mutate(harness, CONNECT, {"id": gateway_id}, token)

    assert result["__typename"] == "ProviderError"
    assert result["code"] == "AUTH_INVALID"
    assert result["upstreamStatus"] == 401
    assert result["retryable"] is False
    assert BOT_TOKEN not in result["message"]
    assert telegram.methods() == ["getMe"]  # not retried, and no webhook set
    current = await gateway(harness, token, gateway_id)
    assert current["status"] == "ERROR"
    assert current["lastError"].startswith("AUTH_INVALID")
    assert current["lastErrorAt"] is not None
    assert current["circuit"]["failures"] == 0  # a bad token says nothing about Telegram
    assert (await GatewayRow.get(id=gateway_id)).webhook_secret_hash is None
    trail = await audit_trail(harness, token, gateway_id)
    assert ("gateway.connect", {"success": False, "code": "AUTH_INVALID"}) in trail
    assert await transitions(harness, token, gateway_id) == [
        ("DISCONNECTED", "CONNECTING", "connect"),
        ("CONNECTING", "ERROR", "connect"),
    ]


async def test_connect_failing_at_set_webhook_leaves_no_secret(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    telegram.answer("setWebhook", lambda _: fail(400, "Bad Request: bad webhook: HTTPS required"))
    gateway_id = await create_telegram(harness, token)

    result = await mutate(harness, CONNECT, {"id": gateway_id}, token)

    assert result["__typename"] == "ProviderError"
    assert result["code"] == "BAD_REQUEST"
    assert "HTTPS required" in result["message"]
    current = await gateway(harness, token, gateway_id)
    assert current["status"] == "ERROR"
    assert (await GatewayRow.get(id=gateway_id)).webhook_secret_hash is None


async def test_connect_an_ai_gateway_lists_models(
    harness: Harness, upstreams: FakeUpstreams, token: str
) -> None:
    upstreams.route(
        OPENAI_HOST,
        lambda _: httpx.Response(200, json={"data": [{"id": "gpt-a"}, {"id": "gpt-b"}]}),
    )
    gateway_id = await create_ai(harness, token, "OPENAI", "gpt-a")

    result = await mutate(harness, CONNECT, {"id": gateway_id}, token)

    assert result["status"] == "CONNECTED"
    assert result["config"]["modelCount"] == 2
    (request,) = upstreams.to(OPENAI_HOST)
    assert (request.method, request.url.path) == ("GET", "/v1/models")
    assert request.headers["Authorization"] == f"Bearer {AI_KEY}"


# ---------------------------------------------------------------- disconnect and delete


async def test_disconnect_deletes_the_webhook(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await connected_telegram(harness, token)

    result = await mutate(harness, DISCONNECT, {"id": gateway_id}, token)

    assert result["__typename"] == "Gateway"
    assert result["status"] == "DISCONNECTED"
    (delete,) = telegram.to("deleteWebhook")
    assert delete.body == {"drop_pending_updates": False}
    assert (await GatewayRow.get(id=gateway_id)).webhook_secret_hash is None
    trail = await audit_trail(harness, token, gateway_id)
    assert "gateway.disconnect" in [action for action, _ in trail]
    assert (await transitions(harness, token, gateway_id))[-1] == (
        "CONNECTED",
        "DISCONNECTED",
        "disconnect",
    )


async def test_disconnect_with_a_revoked_token_still_disconnects(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await connected_telegram(harness, token)
    telegram.answer("deleteWebhook", lambda _: fail(401, "Unauthorized"))

    result = await mutate(harness, DISCONNECT, {"id": gateway_id}, token)

    assert result["status"] == "DISCONNECTED"
    assert (await GatewayRow.get(id=gateway_id)).webhook_secret_hash is None


async def test_disconnect_with_undecryptable_credentials_still_disconnects(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await connected_telegram(harness, token)
    other = await GatewayRow.get(id=await create_telegram(harness, token))
    # A ciphertext is bound to its row: copied onto another row, it no longer decrypts.
    await GatewayRow.filter(id=gateway_id).update(
        credentials_ciphertext=other.credentials_ciphertext
    )
    before = len(telegram.calls)

    result = await mutate(harness, DISCONNECT, {"id": gateway_id}, token)

    assert result["__typename"] == "Gateway", result
    assert result["status"] == "DISCONNECTED"
    assert result["credentialInfo"]["__typename"] == "UndecryptableCredentialInfo"
    assert len(telegram.calls) == before  # nothing to call Telegram with
    assert (await GatewayRow.get(id=gateway_id)).webhook_secret_hash is None


async def test_delete_a_connected_gateway_removes_its_webhook_best_effort(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await connected_telegram(harness, token)
    telegram.answer("deleteWebhook", lambda _: fail(500, "Internal Server Error"))

    result = await mutate(harness, DELETE, {"id": gateway_id}, token)

    assert result == {"__typename": "DeletedGateway", "id": gateway_id}
    # deleteWebhook is idempotent, so the transient 500 was retried before giving up.
    assert len(telegram.to("deleteWebhook")) == 3
    assert await gateway(harness, token, gateway_id) is None
    assert await GatewayRow.get_or_none(id=gateway_id) is None


async def test_delete_a_gateway_that_was_never_connected_calls_no_upstream(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await create_telegram(harness, token)

    result = await mutate(harness, DELETE, {"id": gateway_id}, token)

    assert result["__typename"] == "DeletedGateway"
    assert telegram.calls == []


# ---------------------------------------------------------------- test


async def test_a_member_may_test_a_gateway(
    harness: Harness, telegram: FakeTelegram, org: Org
) -> None:
    gateway_id = await connected_telegram(harness, org.owner, org=org.id)

    result = await mutate(harness, TEST, {"id": gateway_id}, org.member, org.id)

    assert result["__typename"] == "GatewayTestResult"
    assert result["success"] is True
    assert result["error"] is None
    assert result["latencyMs"] >= 0
    assert result["details"]["botUsername"] == "t_bot"
    assert result["details"]["pendingUpdateCount"] == 3
    assert result["gateway"]["status"] == "CONNECTED"
    assert telegram.methods()[-2:] == ["getMe", "getWebhookInfo"]
    trail = await audit_trail(harness, org.member, gateway_id, org.id)
    (test_event,) = [m for action, m in trail if action == "gateway.test"]
    assert set(test_event) == {"success", "latencyMs"}
    assert test_event["success"] is True
    assert isinstance(test_event["latencyMs"], int | float)


async def test_a_failed_test_records_error_through_the_status_function(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await connected_telegram(harness, token)
    telegram.answer("getMe", lambda _: fail(401, "Unauthorized"))

    result = await mutate(harness, TEST, {"id": gateway_id}, token)

    assert result["__typename"] == "GatewayTestResult"
    assert result["success"] is False
    assert result["error"].startswith("AUTH_INVALID")
    assert result["details"] == {"code": "AUTH_INVALID"}
    assert result["gateway"]["status"] == "ERROR"
    assert result["gateway"]["lastError"] == result["error"]
    assert (await transitions(harness, token, gateway_id))[-1] == ("CONNECTED", "ERROR", "test")
    trail = await audit_trail(harness, token, gateway_id)
    (test_event,) = [m for a, m in trail if a == "gateway.test"]
    assert test_event["success"] is False
    assert isinstance(test_event["latencyMs"], int | float)

    # A passing test brings a live gateway back.
    telegram.heal()
    again = await mutate(harness, TEST, {"id": gateway_id}, token)
    assert again["success"] is True
    assert again["gateway"]["status"] == "CONNECTED"


async def test_testing_an_ai_gateway_counts_its_models(
    harness: Harness, upstreams: FakeUpstreams, token: str
) -> None:
    upstreams.route(
        OPENAI_HOST,
        lambda _: httpx.Response(200, json={"data": [{"id": "m1"}, {"id": "m2"}, {"id": "m3"}]}),
    )
    gateway_id = await create_ai(harness, token, "OPENAI", "m1")

    result = await mutate(harness, TEST, {"id": gateway_id}, token)

    assert result["success"] is True
    assert result["details"]["models"] == 3
    assert all(r.method == "GET" for r in upstreams.to(OPENAI_HOST))  # never a paid completion


# ---------------------------------------------------------------- executeGatewayAction


async def test_execute_an_unsupported_action(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await connected_telegram(harness, token)
    before = len(telegram.calls)

    result = await mutate(harness, EXECUTE, {"id": gateway_id, "action": "banChatMember"}, token)

    assert result["__typename"] == "UnsupportedActionError"
    assert result["supported"] == ["sendMessage", "getMe", "getWebhookInfo"]
    assert "banChatMember" in result["message"]
    assert len(telegram.calls) == before


async def test_execute_with_bad_params_reports_field_paths(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await connected_telegram(harness, token)
    before = len(telegram.calls)

    result = await mutate(
        harness,
        EXECUTE,
        {
            "id": gateway_id,
            "action": "sendMessage",
            "params": {"chatId": "not a chat", "text": "", "chat_id": 1},
        },
        token,
    )

    assert result["__typename"] == "ValidationError"
    fields = {e["field"] for e in result["fieldErrors"]}
    assert fields == {"params.chatId", "params.text", "params.chat_id"}
    assert len(telegram.calls) == before
    circuit = (await gateway(harness, token, gateway_id))["circuit"]
    assert (circuit["state"], circuit["failures"]) == ("CLOSED", 0)


async def test_execute_with_params_that_are_not_an_object(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await connected_telegram(harness, token)

    result = await mutate(
        harness, EXECUTE, {"id": gateway_id, "action": "getMe", "params": [1, 2]}, token
    )

    assert result["__typename"] == "ValidationError"
    assert [e["field"] for e in result["fieldErrors"]] == ["params"]


async def test_execute_get_webhook_info(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await connected_telegram(harness, token)

    result = await mutate(harness, EXECUTE, {"id": gateway_id, "action": "getWebhookInfo"}, token)

    assert result["__typename"] == "GatewayActionResult"
    assert result["action"] == "getWebhookInfo"
    assert result["data"]["pendingUpdateCount"] == 3
    assert result["data"]["maxConnections"] == 40
    assert result["gateway"]["id"] == gateway_id
    assert telegram.methods()[-1] == "getWebhookInfo"
    trail = await audit_trail(harness, token, gateway_id)
    assert ("gateway.execute", {"action": "getWebhookInfo", "success": True}) in trail


# ---------------------------------------------------------------- sendTelegramMessage


async def test_send_a_telegram_message(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await connected_telegram(harness, token)

    result = await mutate(
        harness,
        SEND,
        {
            "input": {
                "gatewayId": gateway_id,
                "chatId": "-1001234567890123",
                "text": "<b>hello</b>",
                "parseMode": "HTML",
            }
        },
        token,
    )

    assert result["__typename"] == "GatewayActionResult"
    assert result["action"] == "sendMessage"
    assert result["data"]["messageId"] == 42
    assert result["data"]["chatId"] == "-1001234567890123"
    (sent,) = telegram.to("sendMessage")
    # A 64-bit chat id goes upstream as a number, not as the string the API received.
    assert sent.body == {"chat_id": -1001234567890123, "text": "<b>hello</b>", "parse_mode": "HTML"}


async def test_a_403_from_telegram_is_a_permission_error_that_does_not_trip_the_breaker(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await connected_telegram(harness, token)
    telegram.answer("sendMessage", lambda _: fail(403, "Forbidden: bot was blocked by the user"))

    results = [await send(harness, token, gateway_id, str(chat)) for chat in range(1, 5)]

    for result in results:
        assert result["__typename"] == "ProviderError"
        assert result["code"] == "PERMISSION"
        assert result["upstreamStatus"] == 403
        assert "blocked" in result["message"]
    current = await gateway(harness, token, gateway_id)
    assert current["status"] == "CONNECTED"
    assert (current["circuit"]["state"], current["circuit"]["failures"]) == ("CLOSED", 0)


async def test_a_429_from_telegram_is_rate_limited_with_its_retry_after(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await connected_telegram(harness, token)
    telegram.answer(
        "sendMessage", lambda _: fail(429, "Too Many Requests: retry after 7", retry_after=7)
    )

    result = await send(harness, token, gateway_id, "1")

    assert result["__typename"] == "ProviderError"
    assert result["code"] == "RATE_LIMITED"
    assert result["retryable"] is True
    assert result["retryAfterSeconds"] == 7.0
    assert result["upstreamStatus"] == 429
    assert len(telegram.to("sendMessage")) == 1  # a send is never retried automatically


async def test_send_telegram_message_on_an_ai_gateway_is_a_validation_error(
    harness: Harness, upstreams: FakeUpstreams, token: str
) -> None:
    gateway_id = await create_ai(harness, token, "OPENAI", "gpt-a")

    result = await send(harness, token, gateway_id, "1")

    assert result["__typename"] == "ValidationError"
    assert [e["field"] for e in result["fieldErrors"]] == ["gatewayId"]
    assert upstreams.requests == []


async def test_send_with_invalid_input_is_a_validation_error(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await connected_telegram(harness, token)

    result = await send(harness, token, gateway_id, "@x", text="y" * 4097)

    assert result["__typename"] == "ValidationError"
    assert {e["field"] for e in result["fieldErrors"]} == {"params.chatId", "params.text"}
    assert telegram.to("sendMessage") == []


# ---------------------------------------------------------------- aiChat


def openai_upstream(requests: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        assert request.url.path == "/v1/chat/completions"
        return httpx.Response(
            200,
            json={
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": "gpt-test-2026-01-01",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "Hello there."},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
            },
        )

    return handle


async def test_ai_chat_with_an_openai_compatible_upstream(
    harness: Harness, upstreams: FakeUpstreams, token: str
) -> None:
    requests: list[httpx.Request] = []
    upstreams.route(OPENAI_HOST, openai_upstream(requests))
    gateway_id = await create_ai(harness, token, "OPENAI", "gpt-test")

    result = await mutate(
        harness,
        CHAT,
        {
            "input": {
                "gatewayId": gateway_id,
                "messages": [
                    {"role": "SYSTEM", "content": "Be brief."},
                    {"role": "USER", "content": "Hi"},
                ],
                "temperature": 0.2,
                "maxTokens": 50,
            }
        },
        token,
    )

    assert result == {
        "__typename": "AIChatCompletion",
        "model": "gpt-test-2026-01-01",
        "reply": {"role": "ASSISTANT", "content": "Hello there."},
        "finishReason": "stop",
        "promptTokens": 12,
        "completionTokens": 3,
        "latencyMs": result["latencyMs"],
    }
    assert result["latencyMs"] >= 0
    (request,) = requests
    assert request.headers["Authorization"] == f"Bearer {AI_KEY}"
    assert json.loads(request.content) == {
        "model": "gpt-test",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
        ],
        "temperature": 0.2,
        "max_completion_tokens": 50,
    }
    trail = await audit_trail(harness, token, gateway_id)
    assert ("gateway.execute", {"action": "chat", "success": True}) in trail


async def test_an_ai_refusal_is_its_text_and_says_so(
    harness: Harness, upstreams: FakeUpstreams, token: str
) -> None:
    refusal = "I'm sorry, I cannot assist with that request."

    def refuse(request: httpx.Request) -> httpx.Response:
        message = {"role": "assistant", "content": None, "refusal": refusal}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        return httpx.Response(200, json={"model": "gpt-test", "choices": [choice]})

    upstreams.route(OPENAI_HOST, refuse)
    gateway_id = await create_ai(harness, token, "OPENAI", "gpt-test")
    chat = CHAT.replace("latencyMs }", "latencyMs refused }")
    messages = [{"role": "USER", "content": "Hi"}]
    result = await mutate(
        harness, chat, {"input": {"gatewayId": gateway_id, "messages": messages}}, token
    )
    # Not an empty reply: the refusal text, flagged as a refusal.
    assert result["reply"] == {"role": "ASSISTANT", "content": refusal}
    assert result["refused"] is True


async def test_ai_chat_with_anthropic(
    harness: Harness, upstreams: FakeUpstreams, token: str
) -> None:
    requests: list[httpx.Request] = []

    def anthropic(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(
            200,
            json={
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude-test",
                "content": [{"type": "text", "text": "Bonjour."}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 9, "output_tokens": 2},
            },
        )

    upstreams.route(ANTHROPIC_HOST, anthropic)
    gateway_id = await create_ai(harness, token, "ANTHROPIC", "claude-test")

    result = await mutate(
        harness,
        CHAT,
        {
            "input": {
                "gatewayId": gateway_id,
                "messages": [
                    {"role": "SYSTEM", "content": "Answer in French."},
                    {"role": "USER", "content": "Hello"},
                ],
            }
        },
        token,
    )

    assert result["__typename"] == "AIChatCompletion"
    assert result["model"] == "claude-test"
    assert result["reply"] == {"role": "ASSISTANT", "content": "Bonjour."}
    assert result["finishReason"] == "end_turn"
    assert (result["promptTokens"], result["completionTokens"]) == (9, 2)
    (request,) = requests
    assert request.url.path == "/v1/messages"
    assert request.headers["x-api-key"] == AI_KEY
    assert request.headers["anthropic-version"] == "2023-06-01"
    body = json.loads(request.content)
    assert body["system"] == "Answer in French."
    assert body["messages"] == [{"role": "user", "content": "Hello"}]
    assert body["max_tokens"] > 0


async def test_ai_chat_maps_upstream_errors(
    harness: Harness, upstreams: FakeUpstreams, token: str
) -> None:
    upstreams.route(
        OPENAI_HOST,
        lambda _: httpx.Response(
            429,
            json={"error": {"message": "You exceeded your current quota", "type": "x"}},
        ),
    )
    gateway_id = await create_ai(harness, token, "OPENAI", "gpt-test")

    result = await mutate(
        harness,
        CHAT,
        {"input": {"gatewayId": gateway_id, "messages": [{"role": "USER", "content": "Hi"}]}},
        token,
    )

    assert result["__typename"] == "ProviderError"
    assert result["code"] == "QUOTA_EXHAUSTED"
    assert AI_KEY not in result["message"]
    assert len(upstreams.to(OPENAI_HOST)) == 1  # a chat is never retried


async def test_ai_chat_on_a_telegram_gateway_is_a_validation_error(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await create_telegram(harness, token)

    result = await mutate(
        harness,
        CHAT,
        {"input": {"gatewayId": gateway_id, "messages": [{"role": "USER", "content": "Hi"}]}},
        token,
    )

    assert result["__typename"] == "ValidationError"
    assert [e["field"] for e in result["fieldErrors"]] == ["gatewayId"]
    assert telegram.calls == []


async def test_ai_chat_with_bad_messages_reports_field_paths(
    harness: Harness, upstreams: FakeUpstreams, token: str
) -> None:
    gateway_id = await create_ai(harness, token, "OPENAI", "gpt-test")

    result = await mutate(
        harness,
        CHAT,
        {"input": {"gatewayId": gateway_id, "messages": [], "temperature": 9.0}},
        token,
    )

    assert result["__typename"] == "ValidationError"
    fields = {e["field"] for e in result["fieldErrors"]}
    assert {"params.messages", "params.temperature"} <= fields
    assert upstreams.requests == []


# ---------------------------------------------------------------- providers and actions


async def test_gateway_providers_lists_every_provider_without_a_token(
    harness: Harness,
) -> None:
    providers = (await harness.gql(PROVIDERS))["gatewayProviders"]

    by_type = {p["type"]: p for p in providers}
    assert set(by_type) == {"TELEGRAM_BOT", "AI", "WEBHOOK"}
    assert all(p["name"] and p["description"] for p in providers)
    actions = {t: [a["name"] for a in p["actions"]] for t, p in by_type.items()}
    assert actions["TELEGRAM_BOT"] == ["sendMessage", "getMe", "getWebhookInfo"]
    assert actions["AI"] == ["chat", "listModels", "validateKey"]
    assert "send" in actions["WEBHOOK"]
    assert all(a["description"] for p in providers for a in p["actions"])
    assert by_type["AI"]["aiProviders"] == [
        "OPENAI",
        "ANTHROPIC",
        "DEEPSEEK",
        "GROK",
        "GEMINI",
        "MISTRAL",
        "GROQ",
        "OLLAMA",
    ]
    assert by_type["TELEGRAM_BOT"]["aiProviders"] == []
    assert by_type["WEBHOOK"]["aiProviders"] == []


async def test_gateway_supported_actions(harness: Harness, token: str) -> None:
    telegram_id = await create_telegram(harness, token)
    ai_id = await create_ai(harness, token, "GEMINI", "gemini-test")

    telegram_actions = (await gateway(harness, token, telegram_id))["supportedActions"]
    ai_actions = (await gateway(harness, token, ai_id))["supportedActions"]

    assert [a["name"] for a in telegram_actions] == ["sendMessage", "getMe", "getWebhookInfo"]
    assert [a["name"] for a in ai_actions] == ["chat", "listModels", "validateKey"]
    assert all(a["description"] for a in telegram_actions + ai_actions)


async def test_a_new_gateway_has_a_closed_circuit(harness: Harness, token: str) -> None:
    gateway_id = await create_telegram(harness, token)

    circuit = (await gateway(harness, token, gateway_id))["circuit"]

    assert circuit == {
        "state": "CLOSED",
        "failures": 0,
        "successes": 0,
        "lastFailureAt": None,
        "lastStateChangeAt": None,
        "retryAfterSeconds": None,
    }


# ---------------------------------------------------------------- circuit breaker


async def open_circuit(h: Harness, telegram: FakeTelegram, token: str, gateway_id: str) -> None:
    """Three 500s from sendMessage: Telegram's threshold."""
    telegram.answer("sendMessage", lambda _: fail(500, "Internal Server Error"))
    for chat in ("101", "102", "103"):
        result = await send(h, token, gateway_id, chat)
        assert result["__typename"] == "ProviderError"
        assert result["code"] == "UNAVAILABLE"


async def test_failures_open_the_circuit_and_further_calls_fail_fast(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await connected_telegram(harness, token)

    await open_circuit(harness, telegram, token, gateway_id)

    current = await wait_for_status(harness, token, gateway_id, "ERROR")
    assert current["lastError"] == "circuit open: UNAVAILABLE: Telegram is unavailable (HTTP 500)"
    circuit = current["circuit"]
    assert circuit["state"] == "OPEN"
    assert circuit["failures"] == 3
    assert circuit["retryAfterSeconds"] == pytest.approx(TELEGRAM_RESET_TIMEOUT)
    assert circuit["lastFailureAt"] is not None
    assert circuit["lastStateChangeAt"] is not None
    assert ("CONNECTED", "ERROR", "breaker") in await transitions(harness, token, gateway_id)

    reached = len(telegram.calls)
    refused = await send(harness, token, gateway_id, "104")
    action = await mutate(harness, EXECUTE, {"id": gateway_id, "action": "getMe"}, token)
    tested = await mutate(harness, TEST, {"id": gateway_id}, token)

    assert len(telegram.calls) == reached  # nothing reached Telegram
    assert refused["__typename"] == "CircuitOpenError"
    assert refused["openRetryAfter"] == pytest.approx(TELEGRAM_RESET_TIMEOUT)
    assert BOT_TOKEN not in refused["message"]
    assert action["__typename"] == "CircuitOpenError"
    assert tested["success"] is False
    assert tested["details"] == {"code": "CIRCUIT_OPEN"}
    assert tested["gateway"]["status"] == "ERROR"
    trail = await audit_trail(harness, token, gateway_id)
    assert (
        "gateway.execute",
        {"action": "sendMessage", "success": False, "code": "CIRCUIT_OPEN"},
    ) in trail


async def test_the_circuit_recovers_through_half_open(
    harness: Harness, telegram: FakeTelegram, token: str, clock: FakeClock
) -> None:
    gateway_id = await connected_telegram(harness, token)
    await open_circuit(harness, telegram, token, gateway_id)
    await wait_for_status(harness, token, gateway_id, "ERROR")
    telegram.heal()

    clock.advance(TELEGRAM_RESET_TIMEOUT - 1)
    still_open = await send(harness, token, gateway_id, "200")
    clock.advance(1.5)
    circuit = (await gateway(harness, token, gateway_id))["circuit"]
    probes = [await send(harness, token, gateway_id, str(chat)) for chat in (201, 202, 203)]

    assert still_open["__typename"] == "CircuitOpenError"
    assert circuit["state"] == "HALF_OPEN"
    assert circuit["retryAfterSeconds"] is None
    assert [p["__typename"] for p in probes] == ["GatewayActionResult"] * 3
    assert [c.body["chat_id"] for c in telegram.to("sendMessage")][-3:] == [201, 202, 203]
    current = await wait_for_status(harness, token, gateway_id, "CONNECTED")
    assert current["circuit"]["state"] == "CLOSED"
    assert current["circuit"]["failures"] == 0
    assert (await transitions(harness, token, gateway_id))[-1] == (
        "ERROR",
        "CONNECTED",
        "breaker",
    )


async def test_a_failed_probe_reopens_the_circuit(
    harness: Harness, telegram: FakeTelegram, token: str, clock: FakeClock
) -> None:
    gateway_id = await connected_telegram(harness, token)
    await open_circuit(harness, telegram, token, gateway_id)
    clock.advance(TELEGRAM_RESET_TIMEOUT + 1)

    probe = await send(harness, token, gateway_id, "300")
    reached = len(telegram.calls)
    refused = await send(harness, token, gateway_id, "301")

    assert probe["__typename"] == "ProviderError"
    assert refused["__typename"] == "CircuitOpenError"
    assert len(telegram.calls) == reached
    current = await wait_for_status(harness, token, gateway_id, "ERROR")
    assert current["circuit"]["state"] == "OPEN"
    assert current["circuit"]["retryAfterSeconds"] == pytest.approx(TELEGRAM_RESET_TIMEOUT)


async def test_a_long_retry_after_keeps_the_circuit_open_longer(
    harness: Harness, telegram: FakeTelegram, token: str, clock: FakeClock
) -> None:
    gateway_id = await connected_telegram(harness, token)
    telegram.answer("sendMessage", lambda _: fail(429, "Too Many Requests", retry_after=120))

    for chat in ("1", "2", "3"):
        assert (await send(harness, token, gateway_id, chat))["code"] == "RATE_LIMITED"
    clock.advance(TELEGRAM_RESET_TIMEOUT + 1)
    circuit = (await gateway(harness, token, gateway_id))["circuit"]

    assert circuit["state"] == "OPEN"
    assert circuit["retryAfterSeconds"] == pytest.approx(120 - TELEGRAM_RESET_TIMEOUT - 1)


async def test_reset_gateway_circuit_closes_it_and_is_audited(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await connected_telegram(harness, token)
    await open_circuit(harness, telegram, token, gateway_id)
    telegram.heal()

    reset = await mutate(harness, RESET, {"id": gateway_id}, token)
    after = await send(harness, token, gateway_id, "104")

    assert reset["__typename"] == "Gateway"
    assert reset["circuit"]["state"] == "CLOSED"
    assert reset["circuit"]["retryAfterSeconds"] is None
    assert after["__typename"] == "GatewayActionResult"
    assert telegram.to("sendMessage")[-1].body["chat_id"] == 104
    trail = await audit_trail(harness, token, gateway_id)
    assert ("gateway.circuit_reset", {"previousState": "OPEN"}) in trail


async def test_reset_gateway_circuit_by_an_admin(
    harness: Harness, telegram: FakeTelegram, org: Org
) -> None:
    gateway_id = await connected_telegram(harness, org.owner, org=org.id)
    telegram.answer("sendMessage", lambda _: fail(502, "Bad Gateway"))
    for chat in ("1", "2", "3"):
        result = await mutate(
            harness,
            SEND,
            {"input": {"gatewayId": gateway_id, "chatId": chat, "text": "hi"}},
            org.admin,
            org.id,
        )
        assert result["code"] == "UNAVAILABLE"
    telegram.heal()

    denied = await mutate(harness, RESET, {"id": gateway_id}, org.member, org.id)
    reset = await mutate(harness, RESET, {"id": gateway_id}, org.admin, org.id)
    after = await mutate(
        harness,
        SEND,
        {"input": {"gatewayId": gateway_id, "chatId": "4", "text": "hi"}},
        org.admin,
        org.id,
    )

    assert denied["__typename"] == "ForbiddenError"
    assert reset["__typename"] == "Gateway"
    assert reset["circuit"]["state"] == "CLOSED"
    assert reset["circuit"]["failures"] == 0
    assert after["__typename"] == "GatewayActionResult"
    assert telegram.to("sendMessage")[-1].body["chat_id"] == 4
    trail = await audit_trail(harness, org.owner, gateway_id, org.id)
    resets = [m for a, m in trail if a == "gateway.circuit_reset"]
    assert resets == [{"previousState": "OPEN"}]


async def test_a_users_bad_request_never_trips_the_breaker(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await connected_telegram(harness, token)
    telegram.answer("sendMessage", lambda _: fail(400, "Bad Request: chat not found"))

    results = [await send(harness, token, gateway_id, str(chat)) for chat in range(1, 7)]

    assert {r["code"] for r in results} == {"BAD_REQUEST"}
    assert "chat not found" in results[0]["message"]
    assert len(telegram.to("sendMessage")) == 6  # every call reached Telegram
    current = await gateway(harness, token, gateway_id)
    assert current["status"] == "CONNECTED"
    assert (current["circuit"]["state"], current["circuit"]["failures"]) == ("CLOSED", 0)


async def test_failures_outside_the_window_do_not_add_up(
    harness: Harness, telegram: FakeTelegram, token: str, clock: FakeClock
) -> None:
    gateway_id = await connected_telegram(harness, token)
    telegram.answer("sendMessage", lambda _: fail(503, "Service Unavailable"))

    for chat in ("1", "2"):
        await send(harness, token, gateway_id, chat)
    clock.advance(61)
    await send(harness, token, gateway_id, "3")
    circuit = (await gateway(harness, token, gateway_id))["circuit"]

    assert (circuit["state"], circuit["failures"]) == ("CLOSED", 1)


async def test_new_credentials_drop_the_breaker(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await connected_telegram(harness, token)
    await open_circuit(harness, telegram, token, gateway_id)
    update = """mutation($id: ID!, $input: UpdateGatewayInput!) {
      updateGateway(id: $id, input: $input) { __typename ... on Gateway { circuit { state } } } }"""

    result = await mutate(
        harness,
        update,
        {
            "id": gateway_id,
            "input": {"credentials": {"telegramBot": {"botToken": f"{BOT_ID}:{'B' * 35}"}}},
        },
        token,
    )

    assert result == {"__typename": "Gateway", "circuit": {"state": "CLOSED"}}
    assert harness.services.breakers.peek(gateway_id) is None
