"""The isolation matrix: every gateway query and mutation, aimed across tenant scopes and roles.

Users: A (owner of personal gateway GA, OWNER of organization X which holds GX), B (another
user), M (MEMBER of X) and N (not a member of X). A refused call leaves the database exactly as
it was (gateway rows, audit trail, breakers) and never reaches an upstream.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import httpx
import pytest

from app.audit.models import AuditEvent
from app.gateways.models import Gateway as GatewayRow
from tests.support.harness import Harness
from tests.support.upstreams import FakeUpstreams

TOKEN = "123456789:AAHk-SECRET_token_value_abcdefXXXX"
ERROR = "... on Error { __typename message }"


class Kind(Enum):
    READ = "read"  # MEMBER may do it
    TEST = "test"  # MEMBER may do it, and it calls the upstream
    WRITE = "write"  # ADMIN or OWNER only


@dataclass(frozen=True)
class Op:
    name: str
    kind: Kind
    query: str
    variables: Callable[[str], dict[str, Any]]


OPS = [
    Op(
        "gateway",
        Kind.READ,
        "query($id: ID!) { gateway(id: $id) { id name } }",
        lambda gid: {"id": gid},
    ),
    Op(
        "gateways",
        Kind.READ,
        "query { gateways(pageSize: 100) { total items { id } } }",
        lambda gid: {},
    ),
    Op(
        "auditEvents",
        Kind.READ,
        "query($id: ID) { auditEvents(gatewayId: $id) { id action gatewayId } }",
        lambda gid: {"id": gid},
    ),
    Op(
        "updateGateway",
        Kind.WRITE,
        "mutation($id: ID!, $input: UpdateGatewayInput!) {"
        f" updateGateway(id: $id, input: $input) {{ __typename {ERROR} }} }}",
        lambda gid: {
            "id": gid,
            "input": {
                "name": "pwned",
                "config": {"owned": True},
                "credentials": {"telegramBot": {"botToken": "555555:" + "Z" * 40}},
            },
        },
    ),
    Op(
        "updateGatewayStatus",
        Kind.WRITE,
        'mutation($id: ID!) { updateGatewayStatus(id: $id, status: ERROR, error: "x") {'
        f" __typename {ERROR} }} }}",
        lambda gid: {"id": gid},
    ),
    Op(
        "deleteGateway",
        Kind.WRITE,
        f"mutation($id: ID!) {{ deleteGateway(id: $id) {{ __typename {ERROR} }} }}",
        lambda gid: {"id": gid},
    ),
    Op(
        "connectGateway",
        Kind.WRITE,
        f"mutation($id: ID!) {{ connectGateway(id: $id) {{ __typename {ERROR} }} }}",
        lambda gid: {"id": gid},
    ),
    Op(
        "disconnectGateway",
        Kind.WRITE,
        f"mutation($id: ID!) {{ disconnectGateway(id: $id) {{ __typename {ERROR} }} }}",
        lambda gid: {"id": gid},
    ),
    Op(
        "testGateway",
        Kind.TEST,
        "mutation($id: ID!) { testGateway(id: $id) { __typename"
        f" ... on GatewayTestResult {{ success gateway {{ id status }} }} {ERROR} }} }}",
        lambda gid: {"id": gid},
    ),
    Op(
        "executeGatewayAction",
        Kind.WRITE,
        'mutation($id: ID!) { executeGatewayAction(id: $id, action: "getMe", params: {}) {'
        f" __typename {ERROR} }} }}",
        lambda gid: {"id": gid},
    ),
    Op(
        "sendTelegramMessage",
        Kind.WRITE,
        "mutation($input: SendTelegramMessageInput!) { sendTelegramMessage(input: $input) {"
        f" __typename {ERROR} }} }}",
        lambda gid: {"input": {"gatewayId": gid, "chatId": "42", "text": "hello"}},
    ),
    Op(
        "aiChat",
        Kind.WRITE,
        f"mutation($input: AIChatInput!) {{ aiChat(input: $input) {{ __typename {ERROR} }} }}",
        lambda gid: {"input": {"gatewayId": gid, "messages": [{"role": "USER", "content": "hi"}]}},
    ),
    Op(
        "resetGatewayCircuit",
        Kind.WRITE,
        f"mutation($id: ID!) {{ resetGatewayCircuit(id: $id) {{ __typename {ERROR} }} }}",
        lambda gid: {"id": gid},
    ),
]


class Expect(Enum):
    HIDDEN = "hidden"  # null / empty / NotFoundError: no existence leak
    FORBIDDEN_SCOPE = "forbidden scope"  # top-level error, extensions.code FORBIDDEN
    ROLE = "role"  # MEMBER: reads and tests allowed, writes ForbiddenError


@dataclass(frozen=True)
class Case:
    label: str
    actor: str
    in_org: bool  # sends X-Organization-Id: X
    target: str  # "personal" (GA) or "org" (GX)
    expect: Expect


CASES = [
    Case("B on A's personal gateway", "B", False, "personal", Expect.HIDDEN),
    Case("B on X's gateway", "B", False, "org", Expect.HIDDEN),
    Case("N claiming X, on X's gateway", "N", True, "org", Expect.FORBIDDEN_SCOPE),
    Case("N claiming X, on A's personal gateway", "N", True, "personal", Expect.FORBIDDEN_SCOPE),
    Case("B claiming X, on X's gateway", "B", True, "org", Expect.FORBIDDEN_SCOPE),
    Case("N personal, on X's gateway", "N", False, "org", Expect.HIDDEN),
    Case("M member of X, on X's gateway", "M", True, "org", Expect.ROLE),
    Case("M member of X, on A's personal gateway", "M", True, "personal", Expect.HIDDEN),
    Case("M personal, on X's gateway", "M", False, "org", Expect.HIDDEN),
    Case("A in X's scope, on A's personal gateway", "A", True, "personal", Expect.HIDDEN),
    Case("A personal, on X's gateway", "A", False, "org", Expect.HIDDEN),
]


@dataclass
class World:
    h: Harness
    tokens: dict[str, str]
    org: str
    gateways: dict[str, str]  # "personal" -> GA id, "org" -> GX id


CREATE = """mutation($input: CreateGatewayInput!) { createGateway(input: $input) {
  __typename ... on Gateway { id } } }"""


async def create_gateway(h: Harness, token: str, name: str, org: str | None = None) -> str:
    data = {
        "name": name,
        "type": "TELEGRAM_BOT",
        "credentials": {"telegramBot": {"botToken": TOKEN}},
        "config": {"keep": name},
    }
    result = (await h.gql(CREATE, {"input": data}, token=token, org=org))["createGateway"]
    assert result["__typename"] == "Gateway"
    gateway_id: str = result["id"]
    return gateway_id


@pytest.fixture
async def world(any_harness: Harness) -> World:
    h = any_harness
    tokens = {who: await h.register(f"{who.lower()}@example.com", who) for who in "ABMN"}
    org = await h.create_org(tokens["A"], "X Corp", "x-corp")
    added = await h.add_member(tokens["A"], org, "m@example.com", "MEMBER")
    assert added["__typename"] == "Membership"
    gateways = {
        "personal": await create_gateway(h, tokens["A"], "GA"),
        "org": await create_gateway(h, tokens["A"], "GX", org=org),
    }
    return World(h=h, tokens=tokens, org=org, gateways=gateways)


async def snapshot(h: Harness) -> dict[str, Any]:
    rows = await GatewayRow.all().order_by("id").values()
    breakers = {str(r["id"]): h.services.breakers.peek(str(r["id"])) for r in rows}
    return {
        # Every column, the ciphertext and timestamps included.
        "gateways": json.loads(json.dumps(rows, default=repr)),
        "audit": await AuditEvent.all().count(),
        "breakers": {k: v is not None for k, v in breakers.items()},
    }


def telegram_ok(request: httpx.Request) -> httpx.Response:
    method = request.url.path.rsplit("/", 1)[-1]
    results = {
        "getMe": {"id": 123456789, "is_bot": True, "first_name": "Bot", "username": "x_bot"},
        "getWebhookInfo": {"url": "", "pending_update_count": 0},
    }
    return httpx.Response(200, json={"ok": True, "result": results[method]})


def typename(body: dict[str, Any], op: Op) -> str:
    assert "errors" not in body, body
    name: str = body["data"][op.name]["__typename"]
    return name


def assert_hidden(body: dict[str, Any], op: Op, gateway_id: str) -> None:
    assert "errors" not in body, body
    data = body["data"][op.name]
    if op.name == "gateway":
        assert data is None
    elif op.name == "gateways":
        assert gateway_id not in [g["id"] for g in data["items"]]
    elif op.name == "auditEvents":
        assert data == []
    else:
        assert data["__typename"] == "NotFoundError"
        assert data["message"] == "Gateway not found."


def assert_member_result(body: dict[str, Any], op: Op, gateway_id: str) -> None:
    assert "errors" not in body, body
    data = body["data"][op.name]
    if op.kind is Kind.WRITE:
        assert data["__typename"] == "ForbiddenError"
        assert "MEMBER" in data["message"]
    elif op.name == "gateway":
        assert data == {"id": gateway_id, "name": "GX"}
    elif op.name == "gateways":
        assert [g["id"] for g in data["items"]] == [gateway_id]
    elif op.name == "auditEvents":
        assert [e["action"] for e in data] == ["gateway.create"]
        assert data[0]["gatewayId"] == gateway_id
    else:  # testGateway
        assert data["__typename"] == "GatewayTestResult"
        assert data["success"] is True
        assert data["gateway"] == {"id": gateway_id, "status": "DISCONNECTED"}


async def check(world: World, upstreams: FakeUpstreams, op: Op, case: Case) -> None:
    h = world.h
    gateway_id = world.gateways[case.target]
    upstreams.requests.clear()
    before = await snapshot(h)
    member_tests_upstream = case.expect is Expect.ROLE and op.kind is Kind.TEST
    if member_tests_upstream:
        upstreams.route("api.telegram.test", telegram_ok)

    body = await h.post(
        op.query,
        op.variables(gateway_id),
        token=world.tokens[case.actor],
        org=world.org if case.in_org else None,
    )

    match case.expect:
        case Expect.HIDDEN:
            assert_hidden(body, op, gateway_id)
        case Expect.FORBIDDEN_SCOPE:
            # The nullable `gateway` field leaves {"gateway": null}; the others null all data.
            assert not body.get("data") or set(body["data"].values()) == {None}
            [error] = body["errors"]
            assert error["extensions"]["code"] == "FORBIDDEN"
            assert error["message"] == "You are not a member of this organization."
        case Expect.ROLE:
            assert_member_result(body, op, gateway_id)

    after = await snapshot(h)
    if member_tests_upstream:
        # A MEMBER may test: the check ran upstream and left exactly one audit record.
        assert [r.url.path.rsplit("/", 1)[-1] for r in upstreams.requests] == [
            "getMe",
            "getWebhookInfo",
        ]
        assert after["gateways"] == before["gateways"]
        assert after["audit"] == before["audit"] + 1
        [event] = await AuditEvent.filter(action="gateway.test").values("gateway_id", "actor_id")
        assert str(event["gateway_id"]) == gateway_id
    else:
        assert upstreams.requests == []
        assert after == before


@pytest.mark.parametrize("op", OPS, ids=lambda o: o.name)
async def test_isolation(world: World, upstreams: FakeUpstreams, op: Op) -> None:
    # One world per operation, every case against it: each case compares its own snapshots.
    for case in CASES:
        try:
            await check(world, upstreams, op, case)
        except AssertionError as exc:
            raise AssertionError(f"{op.name}, {case.label}: {exc}") from exc


async def test_the_owner_sees_both_gateways_in_their_own_scopes(world: World) -> None:
    """The matrix is not vacuous: in the right scope, A reaches each gateway."""
    query = "query($id: ID!) { gateway(id: $id) { id name } }"
    a = world.tokens["A"]
    personal = await world.h.gql(query, {"id": world.gateways["personal"]}, token=a)
    in_org = await world.h.gql(query, {"id": world.gateways["org"]}, token=a, org=world.org)
    assert personal["gateway"]["name"] == "GA"
    assert in_org["gateway"]["name"] == "GX"


async def test_an_admin_may_write_in_the_organization(world: World) -> None:
    """ADMIN is not refused like MEMBER: the role, not membership alone, decides."""
    h = world.h
    token = await h.register("admin@example.com")
    added = await h.add_member(world.tokens["A"], world.org, "admin@example.com", "ADMIN")
    assert added["__typename"] == "Membership"
    update = OPS[3]
    body = await h.post(
        update.query, update.variables(world.gateways["org"]), token=token, org=world.org
    )
    assert typename(body, update) == "Gateway"
    row = await GatewayRow.get(id=world.gateways["org"])
    assert row.name == "pwned"
