"""Plaintext credentials never leave the vault: not into the database file, a log record, a
GraphQL response (errors included) or a repr."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from app.core.logs import JsonFormatter, TextFormatter
from app.gateways.credentials import AICredentials, TelegramBotCredentials, WebhookCredentials
from app.gateways.enums import AIProvider, GatewayType
from app.gateways.input_types import (
    AICredentialsInput,
    GatewayCredentialsInput,
    TelegramBotCredentialsInput,
    WebhookCredentialsInput,
)
from app.gateways.inputs import CreateGatewayInput, CredentialsInput
from app.gateways.models import Gateway
from app.graphql.scalars import AIProvider as GraphQLAIProvider
from app.providers.base import GatewayHandle
from tests.support.harness import Harness

TOKEN_SECRET = "AAHk-SECRET_token_value_abcdefXXXX"
TOKEN = f"123456789:{TOKEN_SECRET}"
NEW_TOKEN_SECRET = "BBHk-NEWSECRET_token_valueYYYY"
NEW_TOKEN = f"987654321:{NEW_TOKEN_SECRET}"
API_KEY = "sk-test-SECRETKEYVALUE-abcd1234"
NEW_API_KEY = "sk-ant-NEWSECRETKEY-efgh5678"
SIGNING = "whsec_SECRETSIGNINGVALUE0001SECRETSIGNINGVALUE0001"
SECRETS = [TOKEN, TOKEN_SECRET, NEW_TOKEN, NEW_TOKEN_SECRET, API_KEY, NEW_API_KEY, SIGNING]

GATEWAY = """id name config credentialInfo { __typename
  ... on TelegramBotCredentialInfo { botTokenHint }
  ... on AICredentialInfo { apiKeyHint baseUrl model }
  ... on WebhookCredentialInfo { url hasSigningSecret } }"""
CREATE = f"""mutation($input: CreateGatewayInput!) {{ createGateway(input: $input) {{
  __typename ... on Gateway {{ {GATEWAY} }}
  ... on ValidationError {{ message fieldErrors {{ field message }} }} }} }}"""
UPDATE = f"""mutation($id: ID!, $input: UpdateGatewayInput!) {{
  updateGateway(id: $id, input: $input) {{ __typename ... on Gateway {{ {GATEWAY} }}
  ... on ValidationError {{ message fieldErrors {{ field message }} }} }} }}"""
LIST = f"query {{ gateways {{ total items {{ {GATEWAY} }} }} }}"
AUDIT = "query { auditEvents { action metadata } }"


def telegram(token: str = TOKEN) -> dict[str, Any]:
    return {
        "name": "Support bot",
        "type": "TELEGRAM_BOT",
        "credentials": {"telegramBot": {"botToken": token}},
    }


def ai(key: str = API_KEY) -> dict[str, Any]:
    creds = {"provider": "OPENAI", "apiKey": key, "baseUrl": "https://llm.example.com"}
    return {"name": "Assistant", "type": "AI", "credentials": {"ai": creds}}


def webhook(secret: str = SIGNING) -> dict[str, Any]:
    creds = {"url": "https://hooks.example.com/in", "signingSecret": secret}
    return {"name": "Hook", "type": "WEBHOOK", "credentials": {"webhook": creds}}


def leaked(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


async def exercise(h: Harness) -> dict[str, str]:
    """Create, update, read and fail with every kind of secret; returns the gateway ids."""
    token = await h.register("owner@example.com")
    ids: dict[str, str] = {}
    for kind, data in (("telegram", telegram()), ("ai", ai()), ("webhook", webhook())):
        result = (await h.gql(CREATE, {"input": data}, token=token))["createGateway"]
        assert result["__typename"] == "Gateway"
        ids[kind] = result["id"]
    updates = [
        (ids["telegram"], {"credentials": {"telegramBot": {"botToken": NEW_TOKEN}}}),
        (
            ids["ai"],
            {
                "name": "Renamed",
                "credentials": {"ai": {"provider": "ANTHROPIC", "apiKey": NEW_API_KEY}},
            },
        ),
        (ids["webhook"], {"config": {"retries": 3}}),
    ]
    for gateway_id, data in updates:
        result = await h.gql(UPDATE, {"id": gateway_id, "input": data}, token=token)
        assert result["updateGateway"]["__typename"] == "Gateway"
    # Rejected inputs that carry a secret: the error must not repeat it.
    rejected = [
        telegram(TOKEN + "!"),
        telegram(TOKEN_SECRET),  # only the secret half, no bot id
        ai(API_KEY + " trailing"),
        {**telegram(), "type": "AI"},  # credentials of the wrong kind
        webhook(SIGNING + " x"),
        {**webhook(), "credentials": {"webhook": {"url": f"https://u:{SIGNING}@hooks.example"}}},
    ]
    for data in rejected:
        result = (await h.gql(CREATE, {"input": data}, token=token))["createGateway"]
        assert result["__typename"] == "ValidationError"
    bad_update = {"credentials": {"telegramBot": {"botToken": NEW_TOKEN + "/../x"}}}
    result = await h.gql(UPDATE, {"id": ids["telegram"], "input": bad_update}, token=token)
    assert result["updateGateway"]["__typename"] == "ValidationError"
    # Both members of the @oneOf input: refused by GraphQL itself.
    both = telegram()
    both["credentials"]["ai"] = {"provider": "OPENAI", "apiKey": API_KEY}
    body = await h.post(CREATE, {"input": both}, token=token)
    assert body["errors"]

    listing = (await h.gql(LIST, token=token))["gateways"]
    assert listing["total"] == 3
    hints = {g["credentialInfo"].get("botTokenHint") for g in listing["items"]}
    assert "987654321:\u2026YYYY" in hints
    await h.gql(AUDIT, token=token)
    return ids


async def test_database_file_holds_no_plaintext(harness: Harness) -> None:
    await exercise(harness)
    path = Path(harness.settings.database_url.removeprefix("sqlite://"))
    files = [p for p in path.parent.glob(path.name + "*") if p.is_file()]  # -wal, -journal...
    content = b"".join(p.read_bytes() for p in files)
    # The file is really where the rows are: non-secret values are stored in clear.
    assert b"Support bot" in content
    assert b"https://llm.example.com" not in content  # the base URL is inside the envelope too
    for secret in SECRETS:
        assert secret.encode() not in content, secret
        assert secret.encode("utf-16-le") not in content, secret
    stored = await Gateway.all().values_list("credentials_ciphertext", flat=True)
    for blob in stored:
        assert not leaked(bytes(blob).decode("latin-1"))  # type: ignore[arg-type]


def rendered(record: logging.LogRecord) -> str:
    """Everything a handler could write: the message, extras, exception and stack."""
    return "\n".join(
        [
            JsonFormatter().format(record),
            TextFormatter("%(message)s").format(record),
            repr(record.args),
            repr(record.__dict__),
        ]
    )


async def test_no_log_record_contains_a_secret(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await exercise(harness)
    assert any(r.name == "tortoise.db_client" for r in caplog.records)  # DEBUG really captured
    assert any(r.getMessage() == "gateway.create.succeeded" for r in caplog.records)
    for record in caplog.records:
        assert not leaked(rendered(record)), (record.name, record.getMessage()[:200])


async def test_malformed_variables_are_not_logged_with_their_secret(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    token = await harness.register("owner@example.com")
    caplog.set_level(logging.DEBUG)
    data = telegram()
    data["credentials"]["telegramBot"]["unexpected"] = 1
    body = await harness.post(CREATE, {"input": data}, token=token)
    assert body["errors"]
    assert not leaked(json.dumps(body))  # the response is masked...
    for record in caplog.records:  # ...but the log line is not
        assert not leaked(rendered(record)), (record.name, record.getMessage()[:200])


async def test_no_response_body_contains_a_secret(any_harness: Harness) -> None:
    bodies: list[str] = []

    async def keep(response: httpx.Response) -> None:
        bodies.append((await response.aread()).decode())

    any_harness.client.event_hooks["response"].append(keep)
    await exercise(any_harness)
    # Malformed variables: graphql-core would quote the value; the masked error must not.
    data = telegram()
    data["credentials"]["telegramBot"]["unexpected"] = 1
    token = any_harness.tokens["owner@example.com"]
    await any_harness.post(CREATE, {"input": data}, token=token)
    await any_harness.post(CREATE, {"input": {**ai(), "name": 5}}, token=token)
    # A secret inlined in the query text rather than a variable.
    inline = (
        'mutation { createGateway(input: {name: "x", type: AI, credentials: {ai: '
        f'{{provider: OPENAI, apiKey: "{API_KEY} x"}}}}}}) {{ __typename }} }}'
    )
    await any_harness.post(inline, token=token)

    assert len(bodies) > 15
    assert any("ValidationError" in b for b in bodies)
    assert any('"errors"' in b for b in bodies)
    for body in bodies:
        assert not leaked(body), body[:500]


def test_reprs_are_masked() -> None:
    gateway_id = UUID("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
    telegram_creds = TelegramBotCredentials(bot_token=TOKEN)
    ai_creds = AICredentials(provider=AIProvider.OPENAI, api_key=API_KEY, model="gpt-4o")
    webhook_creds = WebhookCredentials(url="https://hooks.example.com", signing_secret=SIGNING)
    values: list[object] = [
        telegram_creds,
        ai_creds,
        webhook_creds,
        TelegramBotCredentials(bot_token=API_KEY),  # not a token's shape: no "bot id" shown
        TelegramBotCredentials(bot_token=TOKEN_SECRET),
        GatewayHandle(id=gateway_id, type=GatewayType.AI, credentials=ai_creds),
        CredentialsInput(telegram_bot=telegram_creds),
        CreateGatewayInput(
            name="x", type=GatewayType.WEBHOOK, credentials=CredentialsInput(webhook=webhook_creds)
        ),
        TelegramBotCredentialsInput(bot_token=TOKEN),
        AICredentialsInput(provider=GraphQLAIProvider.OPENAI, api_key=API_KEY),
        WebhookCredentialsInput(url="https://hooks.example.com", signing_secret=SIGNING),
        GatewayCredentialsInput(telegram_bot=TelegramBotCredentialsInput(bot_token=TOKEN)),
        Gateway(
            id=gateway_id,
            name="x",
            type=GatewayType.TELEGRAM_BOT,
            credentials_ciphertext=TOKEN.encode(),  # even if plaintext were ever put there
            credentials_key_id="k1",
            webhook_secret_hash=SIGNING,
        ),
    ]
    for value in values:
        assert not leaked(repr(value)), repr(value)
        assert not leaked(str(value)), str(value)
        assert not leaked(f"{value!r} {value}")
    # Masked, not blank: a person can still tell which credentials these are.
    assert repr(telegram_creds) == "TelegramBotCredentials(bot_token='123456789:\u2026XXXX')"
    assert telegram_creds.hint() == "123456789:\u2026XXXX"
    assert TelegramBotCredentials(bot_token=API_KEY).hint() == "\u20261234"
    assert "\u2026" + API_KEY[-4:] in repr(ai_creds)
    assert "***" in repr(webhook_creds)
