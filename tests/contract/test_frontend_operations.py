"""The SPA's operations (`frontend-contract/*.graphql`): valid, well-formed and executed end to end.

Each file is one named operation. It must validate against the committed `schema.graphql` (and
against the shared design contract: `make check-contract`), take its inputs as variables, and select
`__typename` plus every member of every union it touches. Two flows then send every file through
the real app (in-process ASGI) exactly as the SPA would.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    VariableNode,
    Visitor,
    build_schema,
    get_named_type,
    parse,
    validate,
    visit,
)

from tests.contract.check import SCHEMA_FILE, beyond_contract, operation_errors, read_operations
from tests.support.harness import Harness
from tests.support.live import create_gateway, live_server, set_status, subscribed
from tests.support.upstreams import FakeUpstreams

OPERATIONS = read_operations()
SCHEMA = build_schema(SCHEMA_FILE.read_text())

# Sent by `test_account_organization_and_gateway_flow` and `test_gateway_lifecycle_flow`.
CRUD_FLOW = frozenset(
    {
        "Register",
        "Login",
        "Logout",
        "Viewer",
        "Organizations",
        "CreateOrganization",
        "AddOrganizationMember",
        "AcceptInvitation",
        "GatewayList",
        "GatewayDetail",
        "CreateGateway",
        "UpdateGateway",
        "UpdateGatewayStatus",
        "DeleteGateway",
        "AuditLog",
        "GatewayProviders",
    }
)
LIFECYCLE_FLOW = frozenset(
    {
        "CreateGateway",
        "ConnectGateway",
        "DisconnectGateway",
        "TestGateway",
        "ExecuteGatewayAction",
        "SendTelegramMessage",
        "AIChat",
        "ResetGatewayCircuit",
        "TelegramUpdates",
    }
)
# Sent by `test_invitation_and_membership_flow`.
MEMBERSHIP_FLOW = frozenset(
    {
        "AddOrganizationMember",
        "MyInvitations",
        "OrganizationInvitations",
        "AcceptInvitation",
        "DeclineInvitation",
        "RevokeInvitation",
        "ChangeMemberRole",
        "RemoveMember",
    }
)
# Subscriptions are served over the WebSocket only; `test_subscription_flow` sends them there.
SUBSCRIPTION_FLOW = frozenset({"GatewayStatusChanged"})

PASSWORD = "correct horse battery"
BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
OPENAI_KEY = "sk-test-0123456789abcdefWXYZ"


# ---------------------------------------------------------------- static checks


def test_every_operation_has_a_file_and_is_executed_by_a_flow() -> None:
    expected = CRUD_FLOW | LIFECYCLE_FLOW | MEMBERSHIP_FLOW | SUBSCRIPTION_FLOW
    assert sorted(expected - set(OPERATIONS)) == [], "frontend-contract/ misses operations"
    assert sorted(set(OPERATIONS) - expected) == [], (
        "add the new operation to a flow below so that it is executed, not only validated"
    )


def _operation(document: DocumentNode) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1, "one operation per file"
    return operations[0]


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_operation_is_valid_against_the_schema(name: str) -> None:
    document = parse(OPERATIONS[name])
    operation = _operation(document)

    assert operation.name is not None
    assert operation.name.value == name, "the operation is named like its file"
    assert [error.message for error in validate(SCHEMA, document)] == []
    # Inputs come in as variables: the SPA never splices values into the query text.
    for root in operation.selection_set.selections:
        assert isinstance(root, FieldNode)
        for argument in root.arguments or ():
            assert isinstance(argument.value, VariableNode), (
                f"{root.name.value}({argument.name.value}:) must be a variable"
            )


def test_every_operation_stays_inside_the_committed_schema() -> None:
    # The check `make check-contract` runs against the shared design contract.
    assert operation_errors(SCHEMA_FILE.read_text(), OPERATIONS) == {}


def test_the_contract_check_reports_an_operation_outside_the_contract() -> None:
    contract = """
    type Query { viewer: User }
    type User { id: ID!, email: String! }
    """
    operations = {
        "Inside": "query Inside { viewer { id email } }",
        "Outside": "query Outside { viewer { id name } gatewayProviders { type } }",
    }
    assert operation_errors(contract, operations) == {
        "Outside": [
            "Cannot query field 'name' on type 'User'.",
            "Cannot query field 'gatewayProviders' on type 'Query'.",
        ]
    }


def test_an_operation_marked_beyond_the_contract_is_checked_against_the_schema_only() -> None:
    contract = "type Query { viewer: User }\ntype User { id: ID! }"
    marked = "# beyond-contract: names, added later\nquery Marked { viewer { id name } }"
    assert operation_errors(contract, {"Marked": marked}) == {}
    # The mark must open the file: a comment further down exempts nothing.
    late = "query Late { viewer { id name } }\n# beyond-contract: too late"
    assert list(operation_errors(contract, {"Late": late})) == ["Late"]


def test_the_operations_marked_beyond_the_contract_are_the_known_ones() -> None:
    marked = {name for name, text in OPERATIONS.items() if beyond_contract(text)}
    assert marked == MEMBERSHIP_FLOW | {"CreateGateway"}


def _fields_by_condition(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]
) -> tuple[bool, dict[str, set[str]]]:
    """Whether `__typename` is selected, and the field names selected per type condition."""
    typename = False
    by_condition: dict[str, set[str]] = {}
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            typename = typename or selection.name.value == "__typename"
            continue
        if isinstance(selection, FragmentSpreadNode):
            fragment = fragments[selection.name.value]
            condition, inner = fragment.type_condition.name.value, fragment.selection_set
        else:
            assert isinstance(selection, InlineFragmentNode)
            assert selection.type_condition is not None
            condition, inner = selection.type_condition.name.value, selection.selection_set
        nested_typename, nested = _fields_by_condition(inner, fragments)
        typename = typename or nested_typename
        names = {s.name.value for s in inner.selections if isinstance(s, FieldNode)}
        by_condition.setdefault(condition, set()).update(names)
        for nested_condition, nested_names in nested.items():
            by_condition.setdefault(nested_condition, set()).update(nested_names)
    return typename, by_condition


def union_problems(schema: GraphQLSchema, document: DocumentNode) -> list[str]:
    """Every union selection: `__typename`, every member, and every field of error members."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    error_interface = schema.get_type("Error")
    problems: list[str] = []
    type_info = TypeInfo(schema)

    class UnionCoverage(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            union = get_named_type(type_info.get_type())
            if not isinstance(union, GraphQLUnionType) or node.selection_set is None:
                return
            where = node.name.value
            typename, by_condition = _fields_by_condition(node.selection_set, fragments)
            if not typename:
                problems.append(f"{where}: __typename is not selected")
            for member in union.types:
                conditions = {member.name, union.name, *(i.name for i in member.interfaces)}
                selected = set().union(*(by_condition.get(c, set()) for c in conditions))
                if not selected - {"__typename"}:
                    problems.append(f"{where}: no field of {member.name} is selected")
                elif error_interface in member.interfaces:
                    missing = set(member.fields) - selected
                    if missing:
                        problems.append(f"{where}: {member.name} misses {sorted(missing)}")

    visit(document, TypeInfoVisitor(type_info, UnionCoverage()))
    return problems


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_operation_selects_every_union_member(name: str) -> None:
    assert union_problems(SCHEMA, parse(OPERATIONS[name])) == []


def test_the_union_check_catches_a_missing_member() -> None:
    incomplete = parse(
        """mutation M($id: ID!) { deleteGateway(id: $id) { ... on DeletedGateway { id } } }"""
    )
    assert union_problems(SCHEMA, incomplete) == [
        "deleteGateway: __typename is not selected",
        "deleteGateway: no field of NotFoundError is selected",
        "deleteGateway: no field of ForbiddenError is selected",
    ]


# ---------------------------------------------------------------- end to end


class Operations:
    """Sends the SPA's files through the harness and records which ones ran."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.executed: set[str] = set()

    async def __call__(
        self,
        name: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        org: str | None = None,
        expect: str | None = None,
    ) -> Any:
        """The value of the operation's one root field; `expect` asserts its `__typename`."""
        data = await self.harness.gql(OPERATIONS[name], variables, token=token, org=org)
        self.executed.add(name)
        (value,) = data.values()
        if expect is not None:
            assert value["__typename"] == expect, value
        return value


def telegram_bot_api(request: httpx.Request) -> httpx.Response:
    method = request.url.path.rsplit("/", 1)[-1]
    body = json.loads(request.content or b"{}")
    results: dict[str, Any] = {
        "getMe": {"id": 123456789, "is_bot": True, "first_name": "Test", "username": "test_bot"},
        "setWebhook": True,
        "deleteWebhook": True,
        "getWebhookInfo": {"url": "", "pending_update_count": 0},
        "sendMessage": {
            "message_id": 7,
            "date": 1_767_225_600,
            "chat": {"id": int(body.get("chat_id", 0)), "type": "private"},
            "text": body.get("text"),
        },
    }
    if method not in results:
        return httpx.Response(
            404, json={"ok": False, "error_code": 404, "description": "Not Found"}
        )
    return httpx.Response(200, json={"ok": True, "result": results[method]})


def openai_api(request: httpx.Request) -> httpx.Response:
    assert request.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    if request.url.path != "/v1/chat/completions":
        return httpx.Response(404, json={"error": {"message": "not found"}})
    return httpx.Response(
        200,
        json={
            "id": "chatcmpl-1",
            "model": "gpt-4o-mini",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Hi there!"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": 3},
        },
    )


def telegram_input(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": "TELEGRAM_BOT",
        "credentials": {"telegramBot": {"botToken": BOT_TOKEN}},
    }


def user_input(email: str, name: str) -> dict[str, Any]:
    return {"input": {"email": email, "password": PASSWORD, "name": name}}


async def test_account_organization_and_gateway_flow(harness: Harness) -> None:
    op = Operations(harness)

    # Accounts.
    registered = await op(
        "Register", user_input("alice@example.test", "Alice"), expect="AuthPayload"
    )
    assert registered["user"]["email"] == "alice@example.test"
    duplicate = await op(
        "Register", user_input("alice@example.test", "Alice"), expect="ConflictError"
    )
    assert duplicate["message"]
    await op("Register", user_input("bob@example.test", "Bob"), expect="AuthPayload")
    credentials = {"email": "alice@example.test", "password": PASSWORD}
    alice = (await op("Login", {"input": credentials}, expect="AuthPayload"))["token"]
    wrong = {"email": "alice@example.test", "password": "wrong password"}
    await op("Login", {"input": wrong}, expect="InvalidCredentialsError")

    viewer = await op("Viewer", token=alice)
    assert (viewer["email"], viewer["name"], viewer["memberships"]) == (
        "alice@example.test",
        "Alice",
        [],
    )

    # Organizations.
    org = await op(
        "CreateOrganization",
        {"input": {"name": "Acme", "slug": "acme"}},
        token=alice,
        expect="Organization",
    )
    assert (org["slug"], org["viewerRole"]) == ("acme", "OWNER")
    await op(
        "CreateOrganization",
        {"input": {"name": "Acme again", "slug": "acme"}},
        token=alice,
        expect="ConflictError",
    )
    bob = (await op("Login", {"input": {**credentials, "email": "bob@example.test"}}))["token"]
    invitation = await op(
        "AddOrganizationMember",
        {"input": {"organizationId": org["id"], "email": "bob@example.test", "role": "ADMIN"}},
        token=alice,
        expect="OrganizationInvitation",
    )
    assert (invitation["role"], invitation["email"]) == ("ADMIN", "bob@example.test")
    assert invitation["organization"]["id"] == org["id"]
    # An unregistered email is answered the same way: the invitation waits for it.
    await op(
        "AddOrganizationMember",
        {"input": {"organizationId": org["id"], "email": "nobody@example.test", "role": "MEMBER"}},
        token=alice,
        expect="OrganizationInvitation",
    )
    membership = await op(
        "AcceptInvitation", {"id": invitation["id"]}, token=bob, expect="Membership"
    )
    assert (membership["role"], membership["organization"]["id"]) == ("ADMIN", org["id"])

    organizations = await op("Organizations", token=alice)
    assert [o["slug"] for o in organizations] == ["acme"]
    assert sorted(m["user"]["email"] for m in organizations[0]["members"]) == [
        "alice@example.test",
        "bob@example.test",
    ]
    assert (await op("Viewer", token=alice))["memberships"] == [
        {"role": "OWNER", "organization": {"id": org["id"], "name": "Acme", "slug": "acme"}}
    ]

    # Gateways, in the personal scope and in the organization's.
    bot = await op(
        "CreateGateway", {"input": telegram_input(" Support bot ")}, token=alice, expect="Gateway"
    )
    assert (bot["name"], bot["status"]) == ("Support bot", "DISCONNECTED")
    assert bot["credentialInfo"]["__typename"] == "TelegramBotCredentialInfo"
    assert bot["credentialInfo"]["botTokenHint"].endswith(BOT_TOKEN[-4:])
    webhook = {
        "url": "https://hooks.example.test/in",
        "signingSecret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    }
    hook = await op(
        "CreateGateway",
        {
            "input": {
                "name": "Orders hook",
                "type": "WEBHOOK",
                "credentials": {"webhook": webhook},
                "config": {"retries": 2},
            }
        },
        token=alice,
        expect="Gateway",
    )
    assert hook["credentialInfo"] == {
        "__typename": "WebhookCredentialInfo",
        "url": "https://hooks.example.test/in",
        "hasSigningSecret": True,
    }
    assert hook["revealedSigningSecret"] is None  # the user's own secret is not echoed
    ai = await op(
        "CreateGateway",
        {
            "input": {
                "name": "Team AI",
                "type": "AI",
                "credentials": {"ai": {"provider": "OPENAI", "apiKey": OPENAI_KEY}},
            }
        },
        token=alice,
        org=org["id"],
        expect="Gateway",
    )
    assert ai["credentialInfo"]["__typename"] == "AICredentialInfo"
    assert ai["credentialInfo"]["apiKeyHint"].endswith(OPENAI_KEY[-4:])
    broken = {**telegram_input("Broken"), "credentials": {"telegramBot": {"botToken": "nope"}}}
    invalid = await op("CreateGateway", {"input": broken}, token=alice, expect="ValidationError")
    assert [e["field"] for e in invalid["fieldErrors"]] == ["credentials.telegramBot.botToken"]

    page = await op("GatewayList", {"page": 1, "pageSize": 10}, token=alice)
    assert [g["name"] for g in page["items"]] == ["Orders hook", "Support bot"]  # newest first
    assert (page["total"], page["totalPages"], page["hasNextPage"]) == (2, 1, False)
    newest = page["items"][0]
    assert newest["owner"]["email"] == "alice@example.test"
    assert newest["organization"] is None
    assert newest["circuit"] == {"state": "CLOSED"}
    assert newest["credentialInfo"]["__typename"] == "WebhookCredentialInfo"
    search = {"type": "TELEGRAM_BOT", "search": "SUPPORT"}
    filtered = await op("GatewayList", {"filter": search, "page": 1, "pageSize": 10}, token=alice)
    assert [g["id"] for g in filtered["items"]] == [bot["id"]]
    second = await op("GatewayList", {"page": 2, "pageSize": 1}, token=alice)
    assert [g["id"] for g in second["items"]] == [bot["id"]]
    assert (second["hasNextPage"], second["hasPreviousPage"], second["totalPages"]) == (
        False,
        True,
        2,
    )
    in_org = await op("GatewayList", {"page": 1, "pageSize": 10}, token=alice, org=org["id"])
    assert [g["id"] for g in in_org["items"]] == [ai["id"]]
    assert in_org["items"][0]["organization"]["slug"] == "acme"

    # Updates.
    renamed = await op(
        "UpdateGateway",
        {"id": hook["id"], "input": {"name": "Orders"}},
        token=alice,
        expect="Gateway",
    )
    assert (renamed["name"], renamed["config"]) == ("Orders", {"retries": 2})
    await op(
        "UpdateGateway",
        {"id": hook["id"], "input": {"name": "   "}},
        token=alice,
        expect="ValidationError",
    )
    failed = await op(
        "UpdateGatewayStatus",
        {"id": hook["id"], "status": "ERROR", "error": "target answered 500"},
        token=alice,
        expect="Gateway",
    )
    assert (failed["status"], failed["lastError"]) == ("ERROR", "target answered 500")
    assert failed["lastErrorAt"] is not None

    detail = await op("GatewayDetail", {"id": hook["id"]}, token=alice)
    assert (detail["name"], detail["status"], detail["config"]) == (
        "Orders",
        "ERROR",
        {"retries": 2},
    )
    assert detail["circuit"]["state"] == "CLOSED"
    assert detail["supportedActions"]
    assert {e["action"] for e in detail["auditEvents"]} >= {
        "gateway.create",
        "gateway.update",
        "gateway.status_change",
    }
    assert {e["actor"]["email"] for e in detail["auditEvents"]} == {"alice@example.test"}
    assert await op("GatewayDetail", {"id": ai["id"]}, token=alice) is None  # another scope

    # Deletion; the audit trail outlives the gateway.
    deleted = await op("DeleteGateway", {"id": hook["id"]}, token=alice, expect="DeletedGateway")
    assert deleted["id"] == hook["id"]
    await op("DeleteGateway", {"id": hook["id"]}, token=alice, expect="NotFoundError")
    assert await op("GatewayDetail", {"id": hook["id"]}, token=alice) is None
    trail = await op("AuditLog", {"gatewayId": hook["id"], "first": 50}, token=alice)
    assert trail[0]["action"] == "gateway.delete"  # newest first
    assert {e["gatewayId"] for e in trail} == {hook["id"]}
    assert trail[0]["ipAddress"] == "203.0.113.7"
    everything = await op("AuditLog", {"first": 50}, token=alice)
    assert {e["gatewayId"] for e in everything} >= {hook["id"], bot["id"]}
    assert ai["id"] not in {e["gatewayId"] for e in everything}  # the organization's scope

    # The anonymous catalogue, then logout.
    providers = await op("GatewayProviders")
    assert {p["type"] for p in providers} == {"TELEGRAM_BOT", "AI", "WEBHOOK"}
    assert "OPENAI" in next(p for p in providers if p["type"] == "AI")["aiProviders"]
    assert await op("Logout", token=alice) is True
    assert await op("Viewer", token=alice) is None

    assert BOT_TOKEN not in json.dumps([bot, page, detail])
    assert op.executed == CRUD_FLOW


async def test_gateway_lifecycle_flow(harness: Harness, upstreams: FakeUpstreams) -> None:
    upstreams.route("api.telegram.test", telegram_bot_api)
    upstreams.route("api.openai.com", openai_api)
    op = Operations(harness)
    token = await harness.register("carol@example.test")

    def telegram_calls(method: str) -> list[httpx.Request]:
        return [r for r in upstreams.to("api.telegram.test") if r.url.path.endswith(method)]

    bot = await op("CreateGateway", {"input": telegram_input("Bot")}, token=token, expect="Gateway")
    connected = await op("ConnectGateway", {"id": bot["id"]}, token=token, expect="Gateway")
    assert connected["status"] == "CONNECTED"
    assert connected["lastConnectedAt"] is not None
    (set_webhook,) = telegram_calls("setWebhook")
    assert json.loads(set_webhook.content)["url"].endswith(f"/api/webhooks/telegram/{bot['id']}")

    # Telegram delivers an update to the webhook set above; the SPA reads it back.
    update = {
        "update_id": 900_001,
        "message": {
            "message_id": 1,
            "date": 1_767_225_600,
            "chat": {"id": 9_007_199_254_740_993, "type": "private"},
            "from": {"id": 42, "is_bot": False, "first_name": "Dora"},
            "text": "/start",
        },
    }
    secret = json.loads(set_webhook.content)["secret_token"]
    delivered = await harness.client.post(
        f"/api/webhooks/telegram/{bot['id']}",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": secret},
    )
    assert delivered.status_code == 200, delivered.text
    updates = await op("TelegramUpdates", {"gatewayId": bot["id"], "first": 10}, token=token)
    assert [(u["updateId"], u["updateType"], u["text"]) for u in updates] == [
        ("900001", "message", "/start")
    ]
    assert (updates[0]["chatId"], updates[0]["fromUserId"]) == ("9007199254740993", "42")

    tested = await op("TestGateway", {"id": bot["id"]}, token=token, expect="GatewayTestResult")
    assert (tested["success"], tested["error"]) == (True, None)
    assert tested["details"]["botUsername"] == "test_bot"
    assert tested["gateway"]["status"] == "CONNECTED"

    me = await op(
        "ExecuteGatewayAction",
        {"id": bot["id"], "action": "getMe"},
        token=token,
        expect="GatewayActionResult",
    )
    assert (me["action"], me["data"]["username"]) == ("getMe", "test_bot")
    unsupported = await op(
        "ExecuteGatewayAction",
        {"id": bot["id"], "action": "selfDestruct", "params": {}},
        token=token,
        expect="UnsupportedActionError",
    )
    assert "sendMessage" in unsupported["supportedActions"]

    sent = await op(
        "SendTelegramMessage",
        {"input": {"gatewayId": bot["id"], "chatId": "42", "text": "hello"}},
        token=token,
        expect="GatewayActionResult",
    )
    assert (sent["action"], sent["data"]["messageId"], sent["data"]["chatId"]) == (
        "sendMessage",
        7,
        "42",
    )
    (message,) = telegram_calls("sendMessage")
    assert json.loads(message.content)["text"] == "hello"

    reset = await op("ResetGatewayCircuit", {"id": bot["id"]}, token=token, expect="Gateway")
    assert reset["circuit"]["state"] == "CLOSED"
    disconnected = await op("DisconnectGateway", {"id": bot["id"]}, token=token, expect="Gateway")
    assert disconnected["status"] == "DISCONNECTED"
    assert len(telegram_calls("deleteWebhook")) == 1

    ai_credentials = {"provider": "OPENAI", "apiKey": OPENAI_KEY, "model": "gpt-4o-mini"}
    ai = await op(
        "CreateGateway",
        {"input": {"name": "Assistant", "type": "AI", "credentials": {"ai": ai_credentials}}},
        token=token,
        expect="Gateway",
    )
    chat = await op(
        "AIChat",
        {
            "input": {
                "gatewayId": ai["id"],
                "messages": [{"role": "USER", "content": "Hello"}],
                "maxTokens": 16,
            }
        },
        token=token,
        expect="AIChatCompletion",
    )
    assert chat["reply"] == {"role": "ASSISTANT", "content": "Hi there!"}
    assert (chat["model"], chat["finishReason"], chat["promptTokens"]) == ("gpt-4o-mini", "stop", 5)
    completion = json.loads(upstreams.to("api.openai.com")[-1].content)
    assert completion["messages"] == [{"role": "user", "content": "Hello"}]

    assert op.executed == LIFECYCLE_FLOW


async def test_invitation_and_membership_flow(harness: Harness) -> None:
    op = Operations(harness)
    owner = await harness.register("owner@example.test", "Olga")
    org = await harness.create_org(owner, "Team", "team")

    def invite(email: str, role: str) -> dict[str, Any]:
        return {"input": {"organizationId": org, "email": email, "role": role}}

    # Invited before registering; the invitation appears once the account exists.
    sent = await op(
        "AddOrganizationMember",
        invite("dana@example.test", "ADMIN"),
        token=owner,
        expect="OrganizationInvitation",
    )
    assert sent["status"] == "PENDING"
    dana = await harness.register("dana@example.test", "Dana")
    (mine,) = await op("MyInvitations", token=dana)
    assert (mine["id"], mine["role"], mine["invitedByName"]) == (sent["id"], "ADMIN", "Olga")
    assert mine["organization"] == {"id": org, "name": "Team", "slug": "team"}
    joined = await op("AcceptInvitation", {"id": sent["id"]}, token=dana, expect="Membership")
    assert joined["organization"]["viewerRole"] == "ADMIN"
    assert await op("MyInvitations", token=dana) == []
    await op("AcceptInvitation", {"id": sent["id"]}, token=dana, expect="NotFoundError")

    # A second invitation is declined, a third revoked; the owner's list follows.
    erin = await harness.register("erin@example.test", "Erin")
    declined = await op(
        "AddOrganizationMember",
        invite("erin@example.test", "MEMBER"),
        token=dana,
        expect="OrganizationInvitation",
    )
    await op(
        "AddOrganizationMember",
        invite("frank@example.test", "OWNER"),
        token=dana,
        expect="ForbiddenError",
    )
    revoked = await op(
        "AddOrganizationMember",
        invite("frank@example.test", "OWNER"),
        token=owner,
        expect="OrganizationInvitation",
    )
    (listed,) = await op("OrganizationInvitations", token=owner)
    assert [i["id"] for i in listed["invitations"]] == [declined["id"], revoked["id"]]
    assert listed["invitations"][0]["invitedBy"]["email"] == "dana@example.test"
    result = await op("DeclineInvitation", {"id": declined["id"]}, token=erin)
    assert (result["__typename"], result["status"]) == ("OrganizationInvitation", "DECLINED")
    await op("RevokeInvitation", {"id": revoked["id"]}, token=dana, expect="ForbiddenError")
    result = await op("RevokeInvitation", {"id": revoked["id"]}, token=owner)
    assert (result["__typename"], result["status"]) == ("OrganizationInvitation", "REVOKED")
    assert (await op("OrganizationInvitations", token=owner))[0]["invitations"] == []
    await op("DeclineInvitation", {"id": revoked["id"]}, token=erin, expect="NotFoundError")

    # Roles and removal, always keeping an owner.
    dana_id = (await harness.gql("{ viewer { id } }", token=dana))["viewer"]["id"]
    owner_id = (await harness.gql("{ viewer { id } }", token=owner))["viewer"]["id"]
    demoted = await op(
        "ChangeMemberRole",
        {"input": {"organizationId": org, "userId": owner_id, "role": "ADMIN"}},
        token=owner,
        expect="ConflictError",
    )
    assert "owner" in demoted["message"]
    changed = await op(
        "ChangeMemberRole",
        {"input": {"organizationId": org, "userId": dana_id, "role": "MEMBER"}},
        token=owner,
        expect="Membership",
    )
    assert (changed["role"], changed["user"]["id"]) == ("MEMBER", dana_id)
    await op(
        "RemoveMember",
        {"input": {"organizationId": org, "userId": owner_id}},
        token=dana,
        expect="ForbiddenError",
    )
    removed = await op(
        "RemoveMember",
        {"input": {"organizationId": org, "userId": dana_id}},
        token=owner,
        expect="RemovedMember",
    )
    assert removed == {"__typename": "RemovedMember", "organizationId": org, "userId": dana_id}
    assert await op("OrganizationInvitations", token=dana) == []

    assert op.executed == MEMBERSHIP_FLOW


async def test_create_gateway_reveals_a_generated_signing_secret_once(harness: Harness) -> None:
    op = Operations(harness)
    token = await harness.register("gina@example.test", "Gina")
    webhook = {"url": "https://hooks.example.test/audit"}
    variables = {
        "input": {"name": "Audit hook", "type": "WEBHOOK", "credentials": {"webhook": webhook}}
    }

    created = await op("CreateGateway", variables, token=token, expect="Gateway")

    assert created["revealedSigningSecret"].startswith("whsec_")
    assert created["credentialInfo"]["hasSigningSecret"] is True
    read = await harness.gql(
        "query($id: ID!) { gateway(id: $id) { revealedSigningSecret } }",
        {"id": created["id"]},
        token=token,
    )
    assert read["gateway"]["revealedSigningSecret"] is None


async def test_subscription_flow(
    database_url: str, tmp_path: Path, upstreams: FakeUpstreams
) -> None:
    """The console's live status document, over graphql-transport-ws as the console sends it."""
    async with live_server(database_url, tmp_path, upstreams) as live:
        token = await live.http.register("dave@example.test")
        gateway_id = await create_gateway(live.http, token, "Live one")
        async with subscribed(live, token, OPERATIONS["GatewayStatusChanged"]) as (client, op):
            await set_status(live.http, token, gateway_id, "ERROR", "upstream answered 502")
            event = (await client.next_data(op))["gatewayStatusChanged"]
    assert (event["previousStatus"], event["status"], event["error"]) == (
        "DISCONNECTED",
        "ERROR",
        "upstream answered 502",
    )
    assert event["gateway"]["id"] == gateway_id
    assert event["gateway"]["lastError"] == "upstream answered 502"
    assert event["gateway"]["lastErrorAt"] is not None
    assert set(event["gateway"]) == {
        "id",
        "status",
        "lastError",
        "lastErrorAt",
        "lastConnectedAt",
        "updatedAt",
    }
