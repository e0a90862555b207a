"""End to end: the real server process, driven over HTTP, against fake upstreams on 127.0.0.1.

Covers what only real processes show: settings from the environment, migrations from the CLI,
the uvicorn server, real sockets to the upstreams. The server runs with a short circuit reset
timeout (CIRCUIT_RESET_TIMEOUT), so an open circuit is seen both to fail fast and to recover
through HALF_OPEN in real time.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import CIRCUIT_RESET_TIMEOUT, OPENAI_KEY, PUBLIC_BASE_URL, Server
from tests.e2e.fakes import FakeOpenAIAPI, FakeTelegramAPI

pytestmark = pytest.mark.e2e

SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32,256}")
_bot_ids = itertools.count(700000001)

GATEWAY_FIELDS = """
fragment G on Gateway {
  id status config lastError
  circuit { state failures retryAfterSeconds }
}"""
ERROR_FIELDS = """
fragment E on Error {
  __typename message
  ... on ProviderError { code upstreamStatus }
  ... on CircuitOpenError { openRetryAfter: retryAfterSeconds }
}"""
REGISTER = """mutation($input: RegisterInput!) {
  register(input: $input) { __typename ... on AuthPayload { token } } }"""
CREATE = (
    """mutation($input: CreateGatewayInput!) {
  createGateway(input: $input) { __typename ...G ... on Error { message } } }"""
    + GATEWAY_FIELDS
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
TEST = """mutation($id: ID!) { testGateway(id: $id) {
  __typename ... on GatewayTestResult { success error details gateway { status } } } }"""
SEND = (
    """mutation($input: SendTelegramMessageInput!) { sendTelegramMessage(input: $input) {
  __typename ...E ... on GatewayActionResult { action data } } }"""
    + ERROR_FIELDS
)
EXECUTE = (
    """mutation($id: ID!, $action: String!) { executeGatewayAction(id: $id, action: $action) {
  __typename ...E ... on GatewayActionResult { data } } }"""
    + ERROR_FIELDS
)
CHAT = (
    """mutation($input: AIChatInput!) { aiChat(input: $input) {
  __typename ...E
  ... on AIChatCompletion { model reply: message { role content } finishReason
                            promptTokens completionTokens latencyMs } } }"""
    + ERROR_FIELDS
)
GATEWAY = "query($id: ID!) { gateway(id: $id) { ...G } }" + GATEWAY_FIELDS
UPDATES = """query($id: ID!) { telegramUpdates(gatewayId: $id) {
  updateId updateType chatId fromUserId text } }"""


class Api:
    """The GraphQL endpoint of the server under test, as one user."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client
        self.token: str | None = None

    def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = self._client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def mutate(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        (result,) = self.gql(query, variables).values()
        assert isinstance(result, dict)
        return result

    def register(self, email: str) -> None:
        payload = {"email": email, "password": "correct horse battery", "name": "E2E"}
        result = self.mutate(REGISTER, {"input": payload})
        assert result["__typename"] == "AuthPayload", result
        self.token = result["token"]

    def create_telegram(self, bot_token: str) -> str:
        credentials = {"telegramBot": {"botToken": bot_token}}
        result = self.mutate(
            CREATE,
            {"input": {"name": "E2E bot", "type": "TELEGRAM_BOT", "credentials": credentials}},
        )
        assert result["__typename"] == "Gateway", result
        gateway_id: str = result["id"]
        return gateway_id

    def connected_telegram(self, bot_token: str) -> str:
        gateway_id = self.create_telegram(bot_token)
        result = self.mutate(CONNECT, {"id": gateway_id})
        assert result["__typename"] == "Gateway", result
        assert result["status"] == "CONNECTED"
        return gateway_id

    def send(self, gateway_id: str, chat_id: str, text: str = "hello") -> dict[str, Any]:
        return self.mutate(
            SEND, {"input": {"gatewayId": gateway_id, "chatId": chat_id, "text": text}}
        )

    def gateway(self, gateway_id: str) -> dict[str, Any]:
        gateway: dict[str, Any] = self.gql(GATEWAY, {"id": gateway_id})["gateway"]
        return gateway


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=15.0) as client:
        yield client


@pytest.fixture
def api(client: httpx.Client, request: pytest.FixtureRequest) -> Api:
    api = Api(client)
    api.register(f"{request.node.name}@e2e.example.test")
    return api


def new_bot_token() -> str:
    return f"{next(_bot_ids)}:E2E-secret_token_value_0123456789abcdef"


def test_the_server_is_ready(client: httpx.Client) -> None:
    ready = client.get("/readyz")
    live = client.get("/healthz")

    assert ready.status_code == 200
    assert ready.json()["status"] == "ok"
    assert live.json() == {"status": "ok"}


def test_a_telegram_gateway_connects_receives_tests_and_sends(
    api: Api, client: httpx.Client, fake_telegram: FakeTelegramAPI, server: Server
) -> None:
    bot_token = new_bot_token()
    bot_id = bot_token.split(":")[0]
    gateway_id = api.create_telegram(bot_token)

    connected = api.mutate(CONNECT, {"id": gateway_id})

    assert connected["__typename"] == "Gateway"
    assert connected["status"] == "CONNECTED"
    assert connected["config"]["botUsername"] == f"e2e_{bot_id}_bot"
    assert [c.method for c in fake_telegram.calls(bot_token)] == ["getMe", "setWebhook"]
    (set_webhook,) = fake_telegram.calls(bot_token, "setWebhook")
    assert set_webhook.body["url"] == f"{PUBLIC_BASE_URL}/api/webhooks/telegram/{gateway_id}"
    assert SECRET_TOKEN_RE.fullmatch(set_webhook.body["secret_token"])
    assert set_webhook.body["allowed_updates"]
    assert set_webhook.body["max_connections"] == 40

    # Telegram calls the webhook with the secret it was given: the server accepts only that one.
    update = {
        "update_id": 5001,
        "message": {
            "message_id": 1,
            "date": 1767225600,
            "chat": {"id": 987654321012, "type": "private"},
            "from": {"id": 987654321012, "is_bot": False, "first_name": "Ann"},
            "text": "hi bot",
        },
    }
    webhook = f"/api/webhooks/telegram/{gateway_id}"
    secret = set_webhook.body["secret_token"]
    header = "X-Telegram-Bot-Api-Secret-Token"
    assert client.post(webhook, json=update, headers={header: secret}).status_code == 200
    assert client.post(webhook, json=update, headers={header: secret[:-1]}).status_code == 401
    assert client.post(webhook, json=update).status_code == 401
    assert api.gql(UPDATES, {"id": gateway_id})["telegramUpdates"] == [
        {
            "updateId": "5001",  # a String: 64-bit Telegram ids
            "updateType": "message",
            "chatId": "987654321012",
            "fromUserId": "987654321012",
            "text": "hi bot",
        }
    ]

    tested = api.mutate(TEST, {"id": gateway_id})

    assert tested["success"] is True, tested
    assert tested["details"]["botUsername"] == f"e2e_{bot_id}_bot"
    assert tested["details"]["pendingUpdateCount"] == 2
    assert tested["gateway"]["status"] == "CONNECTED"

    sent = api.send(gateway_id, "987654321012", "Hello from the e2e suite")

    assert sent["__typename"] == "GatewayActionResult", sent
    assert sent["data"]["chatId"] == "987654321012"
    (message,) = fake_telegram.calls(bot_token, "sendMessage")
    assert message.body == {"chat_id": 987654321012, "text": "Hello from the e2e suite"}
    assert sent["data"]["messageId"] >= 1

    disconnected = api.mutate(DISCONNECT, {"id": gateway_id})

    assert disconnected["status"] == "DISCONNECTED"
    assert len(fake_telegram.calls(bot_token, "deleteWebhook")) == 1
    # Disconnected, the old secret is refused at once.
    assert client.post(webhook, json=update, headers={header: secret}).status_code != 200
    log = server.log()
    assert f"gateway_id={gateway_id}" in log  # the server does log these calls...
    assert bot_token.split(":")[1] not in log  # ...but never the token
    assert set_webhook.body["secret_token"] not in log


def test_an_ai_gateway_connects_and_chats(
    api: Api, fake_openai: FakeOpenAIAPI, server: Server
) -> None:
    credentials = {"ai": {"provider": "OPENAI", "apiKey": OPENAI_KEY, "model": "gpt-e2e"}}
    created = api.mutate(
        CREATE, {"input": {"name": "E2E model", "type": "AI", "credentials": credentials}}
    )
    gateway_id = created["id"]
    seen = len(fake_openai.requests)

    connected = api.mutate(CONNECT, {"id": gateway_id})
    completion = api.mutate(
        CHAT,
        {
            "input": {
                "gatewayId": gateway_id,
                "messages": [{"role": "USER", "content": "ping"}],
                "maxTokens": 20,
            }
        },
    )

    assert connected["status"] == "CONNECTED", connected
    assert connected["config"]["modelCount"] == len(FakeOpenAIAPI.MODELS)
    assert completion["__typename"] == "AIChatCompletion", completion
    assert completion["model"] == "gpt-e2e"
    assert completion["reply"] == {"role": "ASSISTANT", "content": "echo: ping"}
    assert completion["finishReason"] == "stop"
    assert (completion["promptTokens"], completion["completionTokens"]) == (5, 2)
    assert completion["latencyMs"] > 0
    models, chat = fake_openai.requests[seen:]
    assert (models.method, models.path) == ("GET", "/v1/models")
    assert (chat.method, chat.path) == ("POST", "/v1/chat/completions")
    assert chat.authorization == f"Bearer {OPENAI_KEY}"
    assert chat.body["messages"] == [{"role": "user", "content": "ping"}]
    assert chat.body["max_completion_tokens"] == 20
    assert OPENAI_KEY not in server.log()


def test_a_failing_upstream_opens_the_circuit_and_calls_fail_fast(
    api: Api, fake_telegram: FakeTelegramAPI
) -> None:
    bot_token = new_bot_token()
    gateway_id = api.connected_telegram(bot_token)
    fake_telegram.fail(bot_token, 500)

    # Telegram's threshold is 3 failures; different chats keep the per-chat throttle out of it.
    failures = [api.send(gateway_id, str(chat)) for chat in (11, 12, 13)]
    reached = len(fake_telegram.calls(bot_token))
    refused = [api.send(gateway_id, str(chat)) for chat in (14, 15)]
    action = api.mutate(EXECUTE, {"id": gateway_id, "action": "getMe"})
    tested = api.mutate(TEST, {"id": gateway_id})

    assert [f["code"] for f in failures] == ["UNAVAILABLE"] * 3
    assert [f["upstreamStatus"] for f in failures] == [500] * 3
    assert [r["__typename"] for r in refused] == ["CircuitOpenError"] * 2
    assert 0 < refused[0]["openRetryAfter"] <= CIRCUIT_RESET_TIMEOUT
    assert action["__typename"] == "CircuitOpenError"
    assert tested["success"] is False
    assert tested["details"] == {"code": "CIRCUIT_OPEN"}
    assert len(fake_telegram.calls(bot_token)) == reached  # nothing more reached the fake
    gateway = api.gateway(gateway_id)
    assert gateway["status"] == "ERROR"
    assert gateway["lastError"].startswith("circuit open")
    assert gateway["circuit"]["state"] == "OPEN"
    assert gateway["circuit"]["failures"] == 3
    assert 0 < gateway["circuit"]["retryAfterSeconds"] <= CIRCUIT_RESET_TIMEOUT


def test_an_open_circuit_recovers_through_half_open(
    api: Api, fake_telegram: FakeTelegramAPI
) -> None:
    bot_token = new_bot_token()
    gateway_id = api.connected_telegram(bot_token)
    fake_telegram.fail(bot_token, 500)
    for chat in (21, 22, 23):
        assert api.send(gateway_id, str(chat))["code"] == "UNAVAILABLE"
    assert api.gateway(gateway_id)["circuit"]["state"] == "OPEN"

    fake_telegram.heal(bot_token)
    time.sleep(CIRCUIT_RESET_TIMEOUT + 0.5)
    half_open = api.gateway(gateway_id)["circuit"]["state"]
    probes = [api.send(gateway_id, str(chat)) for chat in (24, 25, 26)]

    assert half_open == "HALF_OPEN"
    assert [p["__typename"] for p in probes] == ["GatewayActionResult"] * 3
    gateway = api.gateway(gateway_id)
    assert gateway["circuit"]["state"] == "CLOSED"
    assert gateway["status"] == "CONNECTED"
