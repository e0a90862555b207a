"""gatewayStatusChanged over graphql-transport-ws, against a real uvicorn socket.

The app runs in this process under uvicorn (its lifespan included), so the tests can watch its
subscriber count; mutations go over HTTP to the same server, events come back over a
real WebSocket client.
"""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.requests import Request
from strawberry.types import ExecutionResult

from app.graphql.app import MAX_SUBSCRIPTIONS_PER_CONNECTION
from app.graphql.context import Context
from app.graphql.schema import build_schema
from tests.support import ws
from tests.support.harness import Harness
from tests.support.live import QUIET, SUBSCRIPTION, Live, create_gateway, event_of, set_status

# ---------------------------------------------------------------- authentication


async def test_a_valid_token_is_acknowledged(live: Live) -> None:
    token = await live.http.register("alice@example.com")
    org = await live.http.create_org(token, "Acme")

    async with ws.connect(live.ws_url) as client:
        assert client.subprotocol == ws.PROTOCOL
        ack = await client.init(ws.auth_payload(token))
        assert ack == {"type": "connection_ack"}
    async with ws.connect(live.ws_url) as client:
        await client.init(ws.auth_payload(token, org))


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("no payload", "Forbidden: no token"),
        ("no token", "Forbidden: no token"),
        ("not bearer", "Forbidden: malformed payload"),
        ("bad token", "Forbidden: invalid or expired token"),
        ("token not a string", "Forbidden: malformed payload"),
        ("foreign org", "Forbidden: not a member of the organization"),
        ("malformed org", "Forbidden: not a member of the organization"),
        ("org not a string", "Forbidden: malformed payload"),
    ],
)
async def test_a_bad_token_or_scope_closes_the_socket_with_4403(
    live: Live, case: str, reason: str
) -> None:
    alice = await live.http.register("alice@example.com")
    bob = await live.http.register("bob@example.com")
    bobs_org = await live.http.create_org(bob, "Bob Corp")
    payloads: dict[str, dict[str, Any] | None] = {
        "no payload": None,
        "no token": {"organizationId": bobs_org},
        "not bearer": {"authorization": alice},
        "bad token": ws.auth_payload("not-a-real-token"),
        "foreign org": ws.auth_payload(alice, bobs_org),
        "malformed org": ws.auth_payload(alice, "not-an-id"),
        # Present but not a string: refused, not read as "no organization" (personal scope).
        "org not a string": {"authorization": f"Bearer {alice}", "organizationId": 42},
        "token not a string": {"authorization": ["Bearer", alice]},
    }

    async with ws.connect(live.ws_url) as client:
        message: dict[str, Any] = {"type": "connection_init"}
        if payloads[case] is not None:
            message["payload"] = payloads[case]
        await client.send(message)
        # The code stays graphql-transport-ws's 4403; the reason says which part was refused.
        assert await client.wait_closed() == (4403, reason)
        assert client.unread == []  # no connection_ack before the close


async def test_subscribing_before_connection_init_closes_the_socket_with_4401(live: Live) -> None:
    async with ws.connect(live.ws_url) as client:
        await client.subscribe(SUBSCRIPTION)
        code, _ = await client.wait_closed()
        assert code == 4401
    assert live.subscriptions == 0


async def test_the_legacy_graphql_ws_protocol_is_refused(live: Live) -> None:
    token = await live.http.register("alice@example.com")

    async with ws.connect(live.ws_url, subprotocols=[ws.LEGACY_PROTOCOL]) as client:
        assert client.subprotocol is None  # not negotiated
        code, reason = await client.wait_closed()
        assert (code, reason) == (4406, "Subprotocol not acceptable")
    # A valid connection_init changes nothing: the socket goes away without an ack.
    async with ws.connect(live.ws_url, subprotocols=[ws.LEGACY_PROTOCOL]) as client:
        with contextlib.suppress(ws.Closed):  # it may be closed before the message is sent
            await client.send({"type": "connection_init", "payload": ws.auth_payload(token)})
        code, _ = await client.wait_closed()
        assert code == 4406
        assert client.unread == []


async def test_a_socket_that_never_sends_connection_init_is_closed_with_4408(live: Live) -> None:
    # GraphQLApp's connection-init timeout is 10 s and not configurable: this test waits it out.
    started = time.monotonic()
    async with ws.connect(live.ws_url) as client:
        code, reason = await client.wait_closed(within=12)
    elapsed = time.monotonic() - started
    assert (code, reason) == (4408, "Connection initialisation timeout")
    assert 9 <= elapsed < 12


# ---------------------------------------------------------------- delivery


async def test_a_status_change_reaches_the_subscriber(live: Live) -> None:
    token = await live.http.register("alice@example.com")
    gateway_id = await create_gateway(live.http, token, "Assistant")

    async with ws.connect(live.ws_url) as client:
        await client.init(ws.auth_payload(token))
        op = await client.subscribe(SUBSCRIPTION)
        await live.wait_subscriptions(1)
        before = datetime.now(UTC)

        await set_status(live.http, token, gateway_id, "ERROR", error="Upstream said no")
        event = event_of(await client.next_data(op))

        occurred_at = datetime.fromisoformat(event.pop("occurredAt"))
        assert occurred_at.utcoffset() is not None
        assert before <= occurred_at <= datetime.now(UTC)
        assert event == {
            "previousStatus": "DISCONNECTED",
            "status": "ERROR",
            "error": "Upstream said no",
            "gateway": {"id": gateway_id, "name": "Assistant", "status": "ERROR"},
        }

        await set_status(live.http, token, gateway_id, "CONNECTING")
        event = event_of(await client.next_data(op))
        assert (event["previousStatus"], event["status"], event["error"]) == (
            "ERROR",
            "CONNECTING",
            None,
        )
        # The gateway is read afresh for each event, not cached from the first one.
        assert event["gateway"]["status"] == "CONNECTING"
        await client.assert_silent(op, within=QUIET)  # one change, one event


async def test_events_of_another_tenant_are_never_delivered(live: Live) -> None:
    alice = await live.http.register("alice@example.com")
    bob = await live.http.register("bob@example.com")
    alices = await create_gateway(live.http, alice, "Alice's")
    bobs = await create_gateway(live.http, bob, "Bob's")
    bobs_org = await live.http.create_org(bob, "Bob Corp")
    bobs_org_gateway = await create_gateway(live.http, bob, "Bob Corp's", org=bobs_org)

    async with ws.connect(live.ws_url) as client:
        await client.init(ws.auth_payload(alice))
        op = await client.subscribe(SUBSCRIPTION)
        await live.wait_subscriptions(1)

        await set_status(live.http, bob, bobs, "CONNECTING")
        await set_status(live.http, bob, bobs_org_gateway, "CONNECTING", org=bobs_org)
        await client.assert_silent(within=QUIET)

        # The stream works: Alice's own change arrives, and it is the first thing that does.
        await set_status(live.http, alice, alices, "CONNECTING")
        event = event_of(await client.next_data(op))
        assert event["gateway"]["id"] == alices
        await client.assert_silent(within=QUIET)


async def test_the_organization_scope(live: Live) -> None:
    owner = await live.http.register("owner@example.com")
    member = await live.http.register("member@example.com")
    org = await live.http.create_org(owner, "Acme")
    assert await live.http.add_member(owner, org, "member@example.com", "MEMBER") == {
        "__typename": "Membership"
    }
    org_gateway = await create_gateway(live.http, owner, "Acme bot", org=org)
    owners_personal = await create_gateway(live.http, owner, "Owner's own")
    members_personal = await create_gateway(live.http, member, "Member's own")

    async with ws.connect(live.ws_url) as in_org, ws.connect(live.ws_url) as personal:
        await in_org.init(ws.auth_payload(member, org))
        await personal.init(ws.auth_payload(member))
        org_op = await in_org.subscribe(SUBSCRIPTION)
        personal_op = await personal.subscribe(SUBSCRIPTION)
        await live.wait_subscriptions(2)

        await set_status(live.http, owner, owners_personal, "CONNECTING")
        await set_status(live.http, member, members_personal, "CONNECTING")
        await set_status(live.http, owner, org_gateway, "CONNECTING", org=org)

        # The organization subscriber gets the organization's gateway only...
        event = event_of(await in_org.next_data(org_op))
        assert event["gateway"] == {"id": org_gateway, "name": "Acme bot", "status": "CONNECTING"}
        await in_org.assert_silent(within=QUIET)
        # ... and the same member in the personal scope gets their personal gateway only.
        event = event_of(await personal.next_data(personal_op))
        assert event["gateway"]["id"] == members_personal
        await personal.assert_silent(within=QUIET)


# ---------------------------------------------------------------- the gatewayId filter


async def test_the_gateway_id_filter(live: Live) -> None:
    token = await live.http.register("alice@example.com")
    wanted = await create_gateway(live.http, token, "Wanted")
    other = await create_gateway(live.http, token, "Other")

    async with ws.connect(live.ws_url) as client:
        await client.init(ws.auth_payload(token))
        op = await client.subscribe(SUBSCRIPTION, {"gatewayId": wanted})
        await live.wait_subscriptions(1)

        await set_status(live.http, token, other, "CONNECTING")
        await set_status(live.http, token, wanted, "CONNECTED")

        event = event_of(await client.next_data(op))
        assert event["gateway"]["id"] == wanted
        assert (event["previousStatus"], event["status"]) == ("DISCONNECTED", "CONNECTED")
        await client.assert_silent(within=QUIET)


@pytest.mark.parametrize("whose", ["another user's", "another organization's", "unknown", "bad"])
async def test_a_gateway_id_outside_the_scope_is_an_error(live: Live, whose: str) -> None:
    alice = await live.http.register("alice@example.com")
    bob = await live.http.register("bob@example.com")
    bobs_org = await live.http.create_org(bob, "Bob Corp")
    ids = {
        "another user's": await create_gateway(live.http, bob, "Bob's"),
        "another organization's": await create_gateway(live.http, bob, "Corp's", org=bobs_org),
        "unknown": "01900000-0000-7000-8000-000000000000",
        "bad": "not-an-id",
    }
    target = ids[whose]

    async with ws.connect(live.ws_url) as client:
        await client.init(ws.auth_payload(alice))
        op = await client.subscribe(SUBSCRIPTION, {"gatewayId": target})

        message = await client.receive(op)
        assert message["type"] in {"next", "error"}, message
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert [e["message"] for e in errors] == ["Gateway not found."]
        if message["type"] == "next":
            assert message["payload"]["data"] is None
            assert await client.receive(op) == {"id": op, "type": "complete"}
        assert live.subscriptions == 0

        if whose.startswith("another"):
            org = bobs_org if whose == "another organization's" else None
            await set_status(live.http, bob, target, "CONNECTING", org=org)
            await client.assert_silent(within=QUIET)


# ---------------------------------------------------------------- resources


async def test_subscriptions_are_released_when_the_client_goes_away(live: Live) -> None:
    token = await live.http.register("alice@example.com")
    gateway_id = await create_gateway(live.http, token, "Assistant")

    async with ws.connect(live.ws_url) as client:
        await client.init(ws.auth_payload(token))
        first = await client.subscribe(SUBSCRIPTION)
        await client.subscribe(SUBSCRIPTION, {"gatewayId": gateway_id})
        await client.subscribe(SUBSCRIPTION)
        await live.wait_subscriptions(3)

        # `complete` from the client ends one subscription...
        await client.complete(first)
        await live.wait_subscriptions(2)
    # ... and closing the socket ends the others.
    await live.wait_subscriptions(0)

    # A client that vanishes without a close handshake is cleaned up as well.
    async with ws.connect(live.ws_url) as client:
        await client.init(ws.auth_payload(token))
        await client.subscribe(SUBSCRIPTION)
        await live.wait_subscriptions(1)
        client.ws.transport.abort()
    await live.wait_subscriptions(0)


async def test_subscriptions_per_connection_are_capped(live: Live) -> None:
    token = await live.http.register("alice@example.com")
    gateway_id = await create_gateway(live.http, token, "Assistant")
    cap = MAX_SUBSCRIPTIONS_PER_CONNECTION

    async with ws.connect(live.ws_url) as client:
        await client.init(ws.auth_payload(token))
        ops = [await client.subscribe(SUBSCRIPTION) for _ in range(cap)]
        await live.wait_subscriptions(cap)

        extra = await client.subscribe(SUBSCRIPTION)
        message = await client.receive(extra)
        assert message["type"] == "error", message
        assert [e["message"] for e in message["payload"]] == ["Subscription limit reached"]
        assert live.subscriptions == cap

        # The subscriptions under the cap still work, and a freed slot can be used again.
        await set_status(live.http, token, gateway_id, "CONNECTING")
        for op in ops:
            assert event_of(await client.next_data(op))["status"] == "CONNECTING"
        await client.complete(ops[0])
        await live.wait_subscriptions(cap - 1)
        again = await client.subscribe(SUBSCRIPTION)
        await live.wait_subscriptions(cap)
        await set_status(live.http, token, gateway_id, "CONNECTED")
        assert event_of(await client.next_data(again))["status"] == "CONNECTED"

    # Another connection has its own allowance.
    async with ws.connect(live.ws_url) as other:
        await other.init(ws.auth_payload(token))
        await other.subscribe(SUBSCRIPTION)
        await live.wait_subscriptions(1)


# ---------------------------------------------------------------- token lifetime


async def test_a_logout_ends_the_open_subscription(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Re-check the token at every event instead of every REAUTH_INTERVAL seconds.
    monkeypatch.setattr("app.graphql.context.REAUTH_INTERVAL", 0.0)
    token = await live.http.register("alice@example.com")
    other = await live.http.register("alice2@example.com")
    gateway_id = await create_gateway(live.http, token, "Assistant")

    async with ws.connect(live.ws_url) as client:
        await client.init(ws.auth_payload(token))
        op = await client.subscribe(SUBSCRIPTION)
        await live.wait_subscriptions(1)
        await set_status(live.http, token, gateway_id, "CONNECTING")
        assert event_of(await client.next_data(op))["status"] == "CONNECTING"

        logged_out = await live.http.gql("mutation { logout }", token=token)
        assert logged_out == {"logout": True}
        # The change is made by a fresh session of the same user; the old socket must not see it.
        again = await live.http.gql(
            'mutation { login(input: {email: "alice@example.com", '
            'password: "correct horse battery"}) { ... on AuthPayload { token } } }'
        )
        await set_status(live.http, again["login"]["token"], gateway_id, "ERROR", error="x")

        message = await client.receive(op)
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert [e["message"] for e in errors] == ["Authentication expired."]
        await live.wait_subscriptions(0)
        assert other  # a second account exists, untouched by the first one's logout


# ---------------------------------------------------------------- membership


REMOVE_MEMBER = """mutation($input: RemoveMemberInput!) { removeMember(input: $input) {
  __typename ... on Error { message } } }"""


async def test_a_removed_member_stops_receiving_the_organizations_events(live: Live) -> None:
    owner = await live.http.register("owner@example.com")
    member = await live.http.register("member@example.com")
    org = await live.http.create_org(owner, "Acme")
    assert (await live.http.add_member(owner, org, "member@example.com", "MEMBER"))[
        "__typename"
    ] == "Membership"
    gateway_id = await create_gateway(live.http, owner, "Acme bot", org=org)
    viewer = await live.http.gql("{ viewer { id } }", token=member)

    async with ws.connect(live.ws_url) as removed, ws.connect(live.ws_url) as staying:
        await removed.init(ws.auth_payload(member, org))
        await staying.init(ws.auth_payload(owner, org))
        removed_op = await removed.subscribe(SUBSCRIPTION)
        staying_op = await staying.subscribe(SUBSCRIPTION)
        await live.wait_subscriptions(2)
        await set_status(live.http, owner, gateway_id, "CONNECTING", org=org)
        assert event_of(await removed.next_data(removed_op))["status"] == "CONNECTING"
        assert event_of(await staying.next_data(staying_op))["status"] == "CONNECTING"

        result = await live.http.gql(
            REMOVE_MEMBER,
            {"input": {"organizationId": org, "userId": viewer["viewer"]["id"]}},
            token=owner,
        )
        assert result["removeMember"] == {"__typename": "RemovedMember"}
        await set_status(live.http, owner, gateway_id, "ERROR", error="down", org=org)

        # The next event is not delivered to the removed member: their stream ends instead.
        message = await removed.receive(removed_op)
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert [(e["message"], e["extensions"]["code"]) for e in errors] == [
            ("You are no longer a member of this organization.", "FORBIDDEN")
        ]
        assert message["type"] == "error" or message["payload"]["data"] is None
        assert event_of(await staying.next_data(staying_op))["status"] == "ERROR"
        await live.wait_subscriptions(1)


async def test_operations_on_an_open_socket_follow_membership_changes(live: Live) -> None:
    """The scope is chosen at connection_init, but a demotion or a removal applies to the
    socket's next operation, as it does to the next HTTP request."""
    owner = await live.http.register("owner@example.com")
    admin = await live.http.register("admin@example.com")
    org = await live.http.create_org(owner, "Acme")
    await live.http.add_member(owner, org, "admin@example.com", "ADMIN")
    admin_id = (await live.http.gql("{ viewer { id } }", token=admin))["viewer"]["id"]
    create = """mutation { createGateway(input: {name: "Hook", type: WEBHOOK,
      credentials: {webhook: {url: "https://hooks.example.com/in"}}}) { __typename } }"""
    change = """mutation($input: ChangeMemberRoleInput!) { changeMemberRole(input: $input) {
      __typename } }"""

    async with ws.connect(live.ws_url) as client:
        await client.init(ws.auth_payload(admin, org))
        created = await client.next_data(await client.subscribe(create))
        assert created == {"createGateway": {"__typename": "Gateway"}}

        demotion = {"organizationId": org, "userId": admin_id, "role": "MEMBER"}
        await live.http.gql(change, {"input": demotion}, token=owner)
        refused = await client.next_data(await client.subscribe(create))
        assert refused == {"createGateway": {"__typename": "ForbiddenError"}}

        removal = {"organizationId": org, "userId": admin_id}
        await live.http.gql(REMOVE_MEMBER, {"input": removal}, token=owner)
        message = await client.receive(await client.subscribe("{ gateways { total } }"))
        assert message["type"] == "next", message
        assert [e["extensions"]["code"] for e in message["payload"]["errors"]] == ["FORBIDDEN"]


# ---------------------------------------------------------------- transport


async def test_a_subscription_over_http_is_refused(harness: Harness) -> None:
    token = await harness.register("alice@example.com")
    response = await harness.client.post(
        "/graphql",
        json={"query": "subscription { gatewayStatusChanged { status } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "message": "Subscriptions are served over the WebSocket (graphql-transport-ws).",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ]
    }


async def test_a_subscription_without_a_socket_is_refused(harness: Harness) -> None:
    token = await harness.register("alice@example.com")
    found = await harness.services.auth.authenticate(token)
    assert found is not None
    request = Request({"type": "http", "headers": [], "client": ("127.0.0.1", 5000)})
    context = Context(request=request, response=None, services=harness.services, user=found.user)
    stream = await build_schema().subscribe(
        "subscription { gatewayStatusChanged { status } }", context_value=context
    )
    assert not isinstance(stream, ExecutionResult)
    result = await anext(stream)
    assert result.errors is not None
    assert [(e.message, e.extensions) for e in result.errors] == [
        (
            "Subscriptions are served over WebSocket (graphql-transport-ws) only.",
            {"code": "BAD_REQUEST"},
        )
    ]
