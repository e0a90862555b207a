"""Gateway queries and CRUD mutations through GraphQL, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.gateways.models import Gateway as GatewayRow
from tests.support.harness import Harness, make_settings, running_app
from tests.support.upstreams import FakeUpstreams

TOKEN = "123456789:AAHk-SECRET_token_value_abcdefXXXX"
OTHER_TOKEN = "987654321:BBHk-OTHER_token_value_abcdefYYYY"
API_KEY = "sk-test-SECRETKEYVALUE-XXXX"
SIGNING = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

GATEWAY = """
fragment G on Gateway {
  id name type status config lastConnectedAt lastErrorAt lastError createdAt updatedAt
  owner { id email }
  organization { id name }
  credentialInfo {
    __typename
    ... on TelegramBotCredentialInfo { botTokenHint botUsername }
    ... on AICredentialInfo { provider apiKeyHint baseUrl model }
    ... on WebhookCredentialInfo { url hasSigningSecret }
    ... on UndecryptableCredentialInfo { message }
  }
}
"""
ERRORS = """
  ... on Error { message }
  ... on ValidationError { fieldErrors { field message } }
"""
CREATE = (
    "mutation($input: CreateGatewayInput!) { createGateway(input: $input) { __typename ...G"
    + ERRORS
    + "... on QuotaExceededError { limit } } }"
    + GATEWAY
)
UPDATE = (
    "mutation($id: ID!, $input: UpdateGatewayInput!) {"
    " updateGateway(id: $id, input: $input) { __typename ...G" + ERRORS + "} }" + GATEWAY
)
SET_STATUS = (
    "mutation($id: ID!, $status: GatewayStatus!, $error: String) {"
    " updateGatewayStatus(id: $id, status: $status, error: $error) { __typename ...G"
    + ERRORS
    + "} }"
    + GATEWAY
)
DELETE = """mutation($id: ID!) { deleteGateway(id: $id) {
  __typename ... on DeletedGateway { id } ... on Error { message } } }"""
GET = "query($id: ID!) { gateway(id: $id) { __typename ...G } }" + GATEWAY
LIST = (
    """query($filter: GatewayFilter, $page: Int! = 1, $pageSize: Int! = 20) {
  gateways(filter: $filter, page: $page, pageSize: $pageSize) {
    items { ...G } total page pageSize totalPages hasNextPage hasPreviousPage } }"""
    + GATEWAY
)
AUDIT = """query($gatewayId: ID, $first: Int! = 50) {
  auditEvents(gatewayId: $gatewayId, first: $first) {
    id action gatewayId metadata ipAddress userAgent createdAt actor { email } } }"""
GATEWAY_AUDIT = """query($id: ID!) { gateway(id: $id) {
  auditEvents { action gatewayId metadata actor { email } } } }"""


def telegram_input(name: str = "Support bot", token: str = TOKEN, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": "TELEGRAM_BOT",
        "credentials": {"telegramBot": {"botToken": token}},
        **extra,
    }


def ai_input(name: str = "Assistant", **credentials: Any) -> dict[str, Any]:
    creds = {"provider": "OPENAI", "apiKey": API_KEY, **credentials}
    return {"name": name, "type": "AI", "credentials": {"ai": creds}}


def webhook_input(name: str = "Hook", signing_secret: str | None = SIGNING) -> dict[str, Any]:
    creds = {"url": "https://hooks.example.com/in", "signingSecret": signing_secret}
    return {"name": name, "type": "WEBHOOK", "credentials": {"webhook": creds}}


async def create(h: Harness, token: str, data: dict[str, Any], org: str | None = None) -> Any:
    return (await h.gql(CREATE, {"input": data}, token=token, org=org))["createGateway"]


async def create_ok(h: Harness, token: str, data: dict[str, Any], org: str | None = None) -> Any:
    result = await create(h, token, data, org)
    assert result["__typename"] == "Gateway", result
    return result


async def update(
    h: Harness, token: str, gateway_id: str, data: dict[str, Any], org: str | None = None
) -> Any:
    variables = {"id": gateway_id, "input": data}
    return (await h.gql(UPDATE, variables, token=token, org=org))["updateGateway"]


async def set_status(
    h: Harness, token: str, gateway_id: str, status: str, error: str | None = None
) -> Any:
    variables = {"id": gateway_id, "status": status, "error": error}
    return (await h.gql(SET_STATUS, variables, token=token))["updateGatewayStatus"]


async def get(h: Harness, token: str, gateway_id: str, org: str | None = None) -> Any:
    return (await h.gql(GET, {"id": gateway_id}, token=token, org=org))["gateway"]


async def listing(h: Harness, token: str, org: str | None = None, **variables: Any) -> Any:
    return (await h.gql(LIST, variables, token=token, org=org))["gateways"]


async def audit_events(
    h: Harness, token: str, gateway_id: str | None = None, org: str | None = None
) -> list[dict[str, Any]]:
    data = await h.gql(AUDIT, {"gatewayId": gateway_id}, token=token, org=org)
    events: list[dict[str, Any]] = data["auditEvents"]
    return events


@pytest.fixture
async def alice(any_harness: Harness) -> str:
    return await any_harness.register("alice@example.com", "Alice")


# ---------------------------------------------------------------- createGateway


async def test_create_telegram_gateway_shows_only_a_masked_hint(
    any_harness: Harness, alice: str
) -> None:
    created = await create_ok(any_harness, alice, telegram_input("  Support bot  "))
    assert created["name"] == "Support bot"
    assert created["type"] == "TELEGRAM_BOT"
    assert created["status"] == "DISCONNECTED"
    assert created["config"] == {}
    assert created["lastConnectedAt"] is None
    assert created["lastError"] is None
    assert created["owner"]["email"] == "alice@example.com"
    assert created["organization"] is None
    assert created["credentialInfo"] == {
        "__typename": "TelegramBotCredentialInfo",
        "botTokenHint": "123456789:\u2026XXXX",
        "botUsername": None,
    }
    assert await get(any_harness, alice, created["id"]) == created


async def test_create_ai_gateway_shows_key_hint_and_normalised_fields(
    any_harness: Harness, alice: str
) -> None:
    created = await create_ok(
        any_harness,
        alice,
        ai_input(baseUrl=" https://llm.example.com/v1/ ", model=" gpt-4o "),
    )
    assert created["type"] == "AI"
    assert created["credentialInfo"] == {
        "__typename": "AICredentialInfo",
        "provider": "OPENAI",
        "apiKeyHint": "\u2026XXXX",
        "baseUrl": "https://llm.example.com/v1",
        "model": "gpt-4o",
    }


async def test_create_ollama_gateway_without_key_has_no_hint(
    any_harness: Harness, alice: str
) -> None:
    data = {
        "name": "Local",
        "type": "AI",
        "credentials": {"ai": {"provider": "OLLAMA", "baseUrl": "http://127.0.0.1:11434"}},
    }
    created = await create_ok(any_harness, alice, data)
    assert created["credentialInfo"] == {
        "__typename": "AICredentialInfo",
        "provider": "OLLAMA",
        "apiKeyHint": None,
        "baseUrl": "http://127.0.0.1:11434",
        "model": None,
    }


@pytest.mark.parametrize("secret", [SIGNING, None])
async def test_create_webhook_gateway_says_only_whether_it_signs(
    any_harness: Harness, alice: str, secret: str | None
) -> None:
    # Without a given secret one is generated: every webhook gateway signs.
    created = await create_ok(any_harness, alice, webhook_input(signing_secret=secret))
    assert created["credentialInfo"] == {
        "__typename": "WebhookCredentialInfo",
        "url": "https://hooks.example.com/in",
        "hasSigningSecret": True,
    }


async def test_create_keeps_a_json_object_config(any_harness: Harness, alice: str) -> None:
    config = {"allowedUpdates": ["message"], "nested": {"n": 1.5, "flag": True, "none": None}}
    created = await create_ok(any_harness, alice, telegram_input(config=config))
    assert created["config"] == config


async def test_create_in_an_organization_scope(any_harness: Harness, alice: str) -> None:
    org = await any_harness.create_org(alice, "Acme", "acme")
    created = await create_ok(any_harness, alice, telegram_input(), org=org)
    assert created["organization"] == {"id": org, "name": "Acme"}
    assert created["owner"]["email"] == "alice@example.com"
    assert (await listing(any_harness, alice))["total"] == 0
    assert (await listing(any_harness, alice, org=org))["total"] == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (telegram_input("   "), "name"),
        (telegram_input("n" * 101), "name"),
        (telegram_input(token="123:short"), "credentials.telegramBot.botToken"),
        ({**telegram_input(), "type": "AI"}, "credentials"),
        (ai_input(apiKey=None), "credentials.ai.apiKey"),
        (ai_input(apiKey="has space in it"), "credentials.ai.apiKey"),
        (ai_input(baseUrl="ftp://llm.example.com"), "credentials.ai.baseUrl"),
        (ai_input(baseUrl="https://u:p@llm.example.com"), "credentials.ai.baseUrl"),
        (ai_input(model="m" * 201), "credentials.ai.model"),
        (
            {**webhook_input(), "credentials": {"webhook": {"url": "mailto:x@example.com"}}},
            "credentials.webhook.url",
        ),
        (webhook_input(signing_secret="short"), "credentials.webhook.signingSecret"),
        (telegram_input(config=["not", "an", "object"]), "config"),
        (telegram_input(config={"blob": "x" * (16 * 1024)}), "config"),
    ],
)
async def test_create_validation_errors_point_at_the_input_path(
    any_harness: Harness, alice: str, data: dict[str, Any], field: str
) -> None:
    body = await any_harness.post(CREATE, {"input": data}, token=alice)
    assert "errors" not in body
    result = body["data"]["createGateway"]
    assert result["__typename"] == "ValidationError"
    assert [e["field"] for e in result["fieldErrors"]] == [field]
    assert all(e["message"] for e in result["fieldErrors"])
    # Nothing was written.
    assert (await listing(any_harness, alice))["total"] == 0
    assert await audit_events(any_harness, alice) == []


async def test_create_reports_every_problem_at_once(any_harness: Harness, alice: str) -> None:
    data = telegram_input("", token="nope", config=[1])
    result = await create(any_harness, alice, data)
    assert result["__typename"] == "ValidationError"
    assert sorted(e["field"] for e in result["fieldErrors"]) == [
        "config",
        "credentials.telegramBot.botToken",
        "name",
    ]


async def test_two_credentials_members_are_refused_by_one_of(
    any_harness: Harness, alice: str
) -> None:
    data = telegram_input()
    data["credentials"]["ai"] = {"provider": "OPENAI", "apiKey": API_KEY}
    body = await any_harness.post(CREATE, {"input": data}, token=alice)
    assert body["errors"]
    assert body.get("data") is None
    assert (await listing(any_harness, alice))["total"] == 0


async def test_quota_per_tenant_scope(
    any_database_url: str, tmp_path: Path, upstreams: FakeUpstreams
) -> None:
    settings = make_settings(any_database_url, str(tmp_path), max_gateways_per_tenant=2)
    async with running_app(settings, upstream_transport=upstreams.transport()) as h:
        token = await h.register("quota@example.com")
        first = await create_ok(h, token, telegram_input("one"))
        await create_ok(h, token, telegram_input("two"))
        refused = await create(h, token, telegram_input("three"))
        assert refused["__typename"] == "QuotaExceededError"
        assert refused["limit"] == 2
        assert "2" in refused["message"]
        assert (await listing(h, token))["total"] == 2
        # Another scope has its own quota.
        org = await h.create_org(token, "Quota Org", "quota-org")
        await create_ok(h, token, telegram_input("org one"), org=org)
        # Deleting frees a place.
        await h.gql(DELETE, {"id": first["id"]}, token=token)
        await create_ok(h, token, telegram_input("three"))
        assert (await listing(h, token))["total"] == 2


# ---------------------------------------------------------------- updateGateway


async def test_rename_keeps_credentials_and_config(any_harness: Harness, alice: str) -> None:
    created = await create_ok(any_harness, alice, telegram_input(config={"a": 1}))
    updated = await update(any_harness, alice, created["id"], {"name": "  Renamed  "})
    assert updated["__typename"] == "Gateway"
    assert updated["name"] == "Renamed"
    assert updated["config"] == {"a": 1}
    assert updated["credentialInfo"] == created["credentialInfo"]
    assert updated["updatedAt"] >= created["updatedAt"]
    assert await get(any_harness, alice, created["id"]) == updated
    [event, _] = await audit_events(any_harness, alice, created["id"])
    assert event["action"] == "gateway.update"
    assert event["metadata"] == {
        "nameChanged": True,
        "credentialsChanged": False,
        "configChanged": False,
    }


async def test_partial_updates_never_wipe_config(any_harness: Harness, alice: str) -> None:
    created = await create_ok(any_harness, alice, ai_input(model="m1"))
    gateway_id = created["id"]
    after_config = await update(any_harness, alice, gateway_id, {"config": {"temperature": 0.2}})
    assert after_config["config"] == {"temperature": 0.2}
    assert after_config["name"] == "Assistant"
    after_name = await update(any_harness, alice, gateway_id, {"name": "Other"})
    assert after_name["config"] == {"temperature": 0.2}
    after_nothing = await update(any_harness, alice, gateway_id, {})
    assert after_nothing["config"] == {"temperature": 0.2}
    assert after_nothing["name"] == "Other"
    assert after_nothing["credentialInfo"] == created["credentialInfo"]
    events = await audit_events(any_harness, alice, gateway_id)
    assert [e["metadata"] for e in events if e["action"] == "gateway.update"] == [
        {"nameChanged": False, "credentialsChanged": False, "configChanged": False},
        {"nameChanged": True, "credentialsChanged": False, "configChanged": False},
        {"nameChanged": False, "credentialsChanged": False, "configChanged": True},
    ]


async def test_same_name_is_not_a_name_change(any_harness: Harness, alice: str) -> None:
    created = await create_ok(any_harness, alice, telegram_input("Same"))
    await update(any_harness, alice, created["id"], {"name": " Same "})
    [event, _] = await audit_events(any_harness, alice, created["id"])
    assert event["metadata"]["nameChanged"] is False


async def test_new_credentials_replace_old_and_reset_status(
    any_harness: Harness, alice: str
) -> None:
    created = await create_ok(any_harness, alice, telegram_input(config={"keep": True}))
    gateway_id = created["id"]
    connected = await set_status(any_harness, alice, gateway_id, "CONNECTED")
    assert connected["status"] == "CONNECTED"
    await GatewayRow.filter(id=gateway_id).update(webhook_secret_hash="a" * 64)

    updated = await update(
        any_harness, alice, gateway_id, {"credentials": {"telegramBot": {"botToken": OTHER_TOKEN}}}
    )
    assert updated["__typename"] == "Gateway"
    assert updated["status"] == "DISCONNECTED"
    assert updated["credentialInfo"]["botTokenHint"] == "987654321:\u2026YYYY"
    assert updated["config"] == {"keep": True}
    assert updated["name"] == created["name"]
    row = await GatewayRow.get(id=gateway_id)
    assert row.webhook_secret_hash is None  # the old webhook secret is void with the old token
    assert row.status.value == "DISCONNECTED"

    events = await audit_events(any_harness, alice, gateway_id)
    assert [e["action"] for e in events] == [
        "gateway.status_change",
        "gateway.update",
        "gateway.status_change",
        "gateway.create",
    ]
    reset, change, _, _ = events
    assert change["metadata"] == {
        "nameChanged": False,
        "credentialsChanged": True,
        "configChanged": False,
    }
    assert reset["metadata"]["previousStatus"] == "CONNECTED"
    assert reset["metadata"]["status"] == "DISCONNECTED"
    assert reset["metadata"]["cause"] == "credentials_changed"


async def test_new_ai_credentials_replace_the_old_whole(any_harness: Harness, alice: str) -> None:
    created = await create_ok(
        any_harness, alice, ai_input(baseUrl="https://llm.example.com", model="m1")
    )
    new = {"ai": {"provider": "ANTHROPIC", "apiKey": "sk-ant-NEWKEYVALUE-ZZZZ"}}
    updated = await update(any_harness, alice, created["id"], {"credentials": new})
    assert updated["credentialInfo"] == {
        "__typename": "AICredentialInfo",
        "provider": "ANTHROPIC",
        "apiKeyHint": "\u2026ZZZZ",
        "baseUrl": None,
        "model": None,
    }
    # Already DISCONNECTED: no status change is recorded.
    actions = [e["action"] for e in await audit_events(any_harness, alice, created["id"])]
    assert actions == ["gateway.update", "gateway.create"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "n" * 101}, "name"),
        ({"config": "text"}, "config"),
        ({"credentials": {"webhook": {"url": "https://hooks.example.com"}}}, "credentials"),
        ({"credentials": {"telegramBot": {"botToken": "bad"}}}, "credentials.telegramBot.botToken"),
    ],
)
async def test_update_validation_errors_change_nothing(
    any_harness: Harness, alice: str, data: dict[str, Any], field: str
) -> None:
    created = await create_ok(any_harness, alice, telegram_input(config={"a": 1}))
    result = await update(any_harness, alice, created["id"], data)
    assert result["__typename"] == "ValidationError"
    assert [e["field"] for e in result["fieldErrors"]] == [field]
    assert await get(any_harness, alice, created["id"]) == created
    assert len(await audit_events(any_harness, alice)) == 1


async def test_update_of_unknown_or_malformed_id_is_not_found(
    any_harness: Harness, alice: str
) -> None:
    for gateway_id in ["0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "not-an-id"]:
        result = await update(any_harness, alice, gateway_id, {"name": "x"})
        assert result["__typename"] == "NotFoundError"


# ---------------------------------------------------------------- updateGatewayStatus


async def test_status_connected_then_error(any_harness: Harness, alice: str) -> None:
    created = await create_ok(any_harness, alice, telegram_input())
    gateway_id = created["id"]

    connected = await set_status(any_harness, alice, gateway_id, "CONNECTED")
    assert connected["status"] == "CONNECTED"
    assert connected["lastConnectedAt"] is not None
    assert connected["lastError"] is None
    assert connected["lastErrorAt"] is None

    failed = await set_status(any_harness, alice, gateway_id, "ERROR", "upstream said no")
    assert failed["status"] == "ERROR"
    assert failed["lastError"] == "upstream said no"
    assert failed["lastErrorAt"] is not None
    assert failed["lastErrorAt"] >= connected["lastConnectedAt"]
    assert failed["lastConnectedAt"] == connected["lastConnectedAt"]
    assert await get(any_harness, alice, gateway_id) == failed

    events = await audit_events(any_harness, alice, gateway_id)
    changes = [e for e in events if e["action"] == "gateway.status_change"]
    assert [(e["metadata"]["previousStatus"], e["metadata"]["status"]) for e in changes] == [
        ("CONNECTED", "ERROR"),
        ("DISCONNECTED", "CONNECTED"),
    ]
    assert changes[0]["metadata"]["error"] == "upstream said no"
    assert changes[0]["metadata"]["cause"] == "mutation"
    assert changes[0]["actor"] == {"email": "alice@example.com"}


async def test_same_status_again_records_nothing(any_harness: Harness, alice: str) -> None:
    created = await create_ok(any_harness, alice, telegram_input())
    await set_status(any_harness, alice, created["id"], "CONNECTED")
    again = await set_status(any_harness, alice, created["id"], "CONNECTED")
    assert again["status"] == "CONNECTED"
    actions = [e["action"] for e in await audit_events(any_harness, alice, created["id"])]
    assert actions == ["gateway.status_change", "gateway.create"]


async def test_status_error_message_is_limited(any_harness: Harness, alice: str) -> None:
    created = await create_ok(any_harness, alice, telegram_input())
    result = await set_status(any_harness, alice, created["id"], "ERROR", "e" * 1001)
    assert result["__typename"] == "ValidationError"
    assert [e["field"] for e in result["fieldErrors"]] == ["error"]
    assert (await get(any_harness, alice, created["id"]))["status"] == "DISCONNECTED"
    ok = await set_status(any_harness, alice, created["id"], "ERROR", "e" * 1000)
    assert ok["lastError"] == "e" * 1000


async def test_status_of_unknown_gateway_is_not_found(any_harness: Harness, alice: str) -> None:
    result = await set_status(any_harness, alice, "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "ERROR")
    assert result["__typename"] == "NotFoundError"


# ---------------------------------------------------------------- deleteGateway and audit


async def test_delete_then_gateway_is_null_and_trail_remains(
    any_harness: Harness, alice: str
) -> None:
    created = await create_ok(any_harness, alice, telegram_input("Doomed"))
    gateway_id = created["id"]
    result = (await any_harness.gql(DELETE, {"id": gateway_id}, token=alice))["deleteGateway"]
    assert result == {"__typename": "DeletedGateway", "id": gateway_id}
    assert await get(any_harness, alice, gateway_id) is None
    assert (await listing(any_harness, alice))["total"] == 0
    assert not await GatewayRow.filter(id=gateway_id).exists()

    again = (await any_harness.gql(DELETE, {"id": gateway_id}, token=alice))["deleteGateway"]
    assert again["__typename"] == "NotFoundError"

    events = await audit_events(any_harness, alice, gateway_id)
    assert [e["action"] for e in events] == ["gateway.delete", "gateway.create"]
    assert events[0]["gatewayId"] == gateway_id
    assert events[0]["metadata"] == {"type": "TELEGRAM_BOT", "name": "Doomed"}


async def test_audit_trail_of_create_update_delete(any_harness: Harness, alice: str) -> None:
    created = await create_ok(any_harness, alice, webhook_input("Hook"))
    gateway_id = created["id"]
    await update(any_harness, alice, gateway_id, {"name": "Hook 2", "config": {"x": 1}})

    nested = (await any_harness.gql(GATEWAY_AUDIT, {"id": gateway_id}, token=alice))["gateway"]
    assert nested["auditEvents"] == [
        {
            "action": "gateway.update",
            "gatewayId": gateway_id,
            "metadata": {"nameChanged": True, "credentialsChanged": False, "configChanged": True},
            "actor": {"email": "alice@example.com"},
        },
        {
            "action": "gateway.create",
            "gatewayId": gateway_id,
            "metadata": {"type": "WEBHOOK", "name": "Hook"},
            "actor": {"email": "alice@example.com"},
        },
    ]

    await any_harness.gql(DELETE, {"id": gateway_id}, token=alice)
    events = await audit_events(any_harness, alice)
    assert [e["action"] for e in events] == ["gateway.delete", "gateway.update", "gateway.create"]
    for event in events:
        assert event["gatewayId"] == gateway_id
        assert event["ipAddress"] == "203.0.113.7"
        assert event["actor"] == {"email": "alice@example.com"}
        assert SIGNING not in str(event["metadata"])
    # auditEvents(first:) limits, newest first; a malformed gateway id matches nothing.
    data = await any_harness.gql(AUDIT, {"first": 1}, token=alice)
    assert [e["action"] for e in data["auditEvents"]] == ["gateway.delete"]
    assert await audit_events(any_harness, alice, "not-an-id") == []


async def test_audit_events_are_scoped(any_harness: Harness, alice: str) -> None:
    bob = await any_harness.register("bob@example.com")
    org = await any_harness.create_org(alice, "Acme", "acme")
    mine = await create_ok(any_harness, alice, telegram_input("personal"))
    theirs = await create_ok(any_harness, alice, telegram_input("org"), org=org)
    assert [e["gatewayId"] for e in await audit_events(any_harness, alice)] == [mine["id"]]
    org_events = await audit_events(any_harness, alice, org=org)
    assert [(e["action"], e["gatewayId"]) for e in org_events] == [
        ("gateway.create", theirs["id"]),
        ("organization.create", None),
    ]
    assert await audit_events(any_harness, alice, theirs["id"]) == []
    assert await audit_events(any_harness, bob) == []
    assert await audit_events(any_harness, bob, mine["id"]) == []


# ---------------------------------------------------------------- gateways query


@pytest.fixture
async def five(any_harness: Harness, alice: str) -> list[dict[str, Any]]:
    """Five gateways created in this order (so listed in the reverse one)."""
    made = [
        await create_ok(any_harness, alice, telegram_input("Support Bot")),
        await create_ok(any_harness, alice, ai_input("Sales assistant")),
        await create_ok(any_harness, alice, webhook_input("Billing hook")),
        await create_ok(any_harness, alice, telegram_input("support-backup")),
        await create_ok(any_harness, alice, ai_input("Research")),
    ]
    await set_status(any_harness, alice, made[0]["id"], "CONNECTED")
    await set_status(any_harness, alice, made[4]["id"], "ERROR", "boom")
    return made


def names(page: dict[str, Any]) -> list[str]:
    return [g["name"] for g in page["items"]]


async def test_list_is_newest_first(any_harness: Harness, alice: str, five: Any) -> None:
    page = await listing(any_harness, alice)
    assert names(page) == [
        "Research",
        "support-backup",
        "Billing hook",
        "Sales assistant",
        "Support Bot",
    ]
    assert page["total"] == 5
    assert page["page"] == 1
    assert page["pageSize"] == 20
    assert page["totalPages"] == 1
    assert page["hasNextPage"] is False
    assert page["hasPreviousPage"] is False


FILTERS: list[tuple[dict[str, Any], list[str]]] = [
    ({"type": "TELEGRAM_BOT"}, ["support-backup", "Support Bot"]),
    ({"type": "AI"}, ["Research", "Sales assistant"]),
    ({"type": "WEBHOOK"}, ["Billing hook"]),
    ({"status": "CONNECTED"}, ["Support Bot"]),
    ({"status": "ERROR"}, ["Research"]),
    ({"status": "CONNECTING"}, []),
    ({"status": "DISCONNECTED"}, ["support-backup", "Billing hook", "Sales assistant"]),
    ({"search": "SUPPORT"}, ["support-backup", "Support Bot"]),
    ({"search": "  bot "}, ["Support Bot"]),
    ({"search": "s"}, ["Research", "support-backup", "Sales assistant", "Support Bot"]),
    ({"search": "%"}, []),  # LIKE wildcards are literal
    ({"search": "_"}, []),
    ({"search": "nothing"}, []),
    (
        {"search": ""},
        ["Research", "support-backup", "Billing hook", "Sales assistant", "Support Bot"],
    ),
    ({"type": "TELEGRAM_BOT", "status": "CONNECTED", "search": "sup"}, ["Support Bot"]),
    ({"type": "AI", "search": "support"}, []),
]


async def test_list_filters(any_harness: Harness, alice: str, five: Any) -> None:
    # One set of gateways for every filter: each case only reads.
    for filter, expected in FILTERS:
        page = await listing(any_harness, alice, filter=filter)
        assert (filter, names(page)) == (filter, expected)
        assert page["total"] == len(expected), filter


async def test_list_paging(any_harness: Harness, alice: str, five: Any) -> None:
    first = await listing(any_harness, alice, page=1, pageSize=2)
    second = await listing(any_harness, alice, page=2, pageSize=2)
    third = await listing(any_harness, alice, page=3, pageSize=2)
    beyond = await listing(any_harness, alice, page=4, pageSize=2)
    assert names(first) == ["Research", "support-backup"]
    assert names(second) == ["Billing hook", "Sales assistant"]
    assert names(third) == ["Support Bot"]
    assert names(beyond) == []
    summary = [
        (
            p["page"],
            p["pageSize"],
            p["total"],
            p["totalPages"],
            p["hasNextPage"],
            p["hasPreviousPage"],
        )
        for p in (first, second, third, beyond)
    ]
    assert summary == [
        (1, 2, 5, 3, True, False),
        (2, 2, 5, 3, True, True),
        (3, 2, 5, 3, False, True),
        (4, 2, 5, 3, False, True),
    ]
    filtered = await listing(any_harness, alice, filter={"type": "AI"}, page=2, pageSize=1)
    assert names(filtered) == ["Sales assistant"]
    assert (filtered["total"], filtered["totalPages"], filtered["hasNextPage"]) == (2, 2, False)
    full = await listing(any_harness, alice, pageSize=100)
    assert len(full["items"]) == 5


async def test_empty_list(any_harness: Harness, alice: str) -> None:
    page = await listing(any_harness, alice)
    assert page["items"] == []
    assert (page["total"], page["totalPages"], page["hasNextPage"]) == (0, 0, False)


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"pageSize": 0}, "pageSize"),
        ({"pageSize": 101}, "pageSize"),
        ({"pageSize": -1}, "pageSize"),
        ({"page": 0}, "page"),
        ({"page": -3}, "page"),
        ({"filter": {"search": "s" * 101}}, "filter.search"),
    ],
)
async def test_list_refuses_bad_paging(
    any_harness: Harness, alice: str, variables: dict[str, Any], field: str
) -> None:
    body = await any_harness.post(LIST, variables, token=alice)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert f"{field}:" in error["message"]


# ---------------------------------------------------------------- gateway(id)


@pytest.mark.parametrize(
    "bad_id", ["", "not-a-uuid", "123", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "' OR 1=1 --"]
)
async def test_gateway_is_null_for_malformed_or_unknown_id(
    any_harness: Harness, alice: str, bad_id: str
) -> None:
    await create_ok(any_harness, alice, telegram_input())
    body = await any_harness.post(GET, {"id": bad_id}, token=alice)
    assert body == {"data": {"gateway": None}}


async def test_gateway_is_null_in_another_scope(any_harness: Harness, alice: str) -> None:
    bob = await any_harness.register("bob@example.com")
    org = await any_harness.create_org(alice, "Acme", "acme")
    personal = await create_ok(any_harness, alice, telegram_input("personal"))
    in_org = await create_ok(any_harness, alice, telegram_input("org"), org=org)
    assert await get(any_harness, alice, personal["id"], org=org) is None
    assert await get(any_harness, alice, in_org["id"]) is None
    assert await get(any_harness, bob, personal["id"]) is None
    assert await get(any_harness, alice, in_org["id"], org=org) == in_org


# ---------------------------------------------------------------- undecryptable credentials


async def test_undecryptable_credentials_still_list(any_harness: Harness, alice: str) -> None:
    donor = await create_ok(any_harness, alice, telegram_input("donor"))
    victim = await create_ok(any_harness, alice, telegram_input("victim", token=OTHER_TOKEN))
    donor_row = await GatewayRow.get(id=donor["id"])
    # A ciphertext is bound to its row: copied onto another gateway it must not decrypt.
    await GatewayRow.filter(id=victim["id"]).update(
        credentials_ciphertext=donor_row.credentials_ciphertext
    )

    shown = await get(any_harness, alice, victim["id"])
    assert shown["credentialInfo"]["__typename"] == "UndecryptableCredentialInfo"
    assert "new credentials" in shown["credentialInfo"]["message"]
    assert shown["name"] == "victim"

    page = await listing(any_harness, alice)
    kinds = {g["name"]: g["credentialInfo"]["__typename"] for g in page["items"]}
    assert kinds == {"victim": "UndecryptableCredentialInfo", "donor": "TelegramBotCredentialInfo"}

    # New credentials repair it.
    fixed = await update(
        any_harness, alice, victim["id"], {"credentials": {"telegramBot": {"botToken": TOKEN}}}
    )
    assert fixed["credentialInfo"]["botTokenHint"] == "123456789:\u2026XXXX"


async def test_tampered_ciphertext_is_undecryptable(any_harness: Harness, alice: str) -> None:
    created = await create_ok(any_harness, alice, ai_input())
    row = await GatewayRow.get(id=created["id"])
    tampered = bytearray(bytes(row.credentials_ciphertext))
    tampered[-1] ^= 0x01
    await GatewayRow.filter(id=created["id"]).update(credentials_ciphertext=bytes(tampered))
    shown = await get(any_harness, alice, created["id"])
    assert shown["credentialInfo"]["__typename"] == "UndecryptableCredentialInfo"
    # A rename does not need the credentials, so it still works.
    renamed = await update(any_harness, alice, created["id"], {"name": "Still here"})
    assert renamed["name"] == "Still here"
