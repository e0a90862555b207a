"""gatewayStatusChanged over graphql-transport-ws, against a real uvicorn socket.

The app runs in this process under uvicorn (its lifespan included), so the tests can watch the
broker's subscriber count; mutations go over HTTP to the same server, events come back over a
real WebSocket client.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from tortoise.backends.base.executor import EXECUTOR_CACHE

from app.events.memory import InMemoryBroker
from app.graphql.app import MAX_SUBSCRIPTIONS_PER_CONNECTION
from app.main import create_app
from tests.support import ws
from tests.support.harness import Harness, make_settings
from tests.support.server import serving
from tests.support.upstreams import FakeUpstreams

SUBSCRIPTION = """subscription($gatewayId: ID) {
  gatewayStatusChanged(gatewayId: $gatewayId) {
    previousStatus status error occurredAt gateway { id name status }
  }
}"""
CREATE = """mutation($input: CreateGatewayInput!) { createGateway(input: $input) {
  __typename ... on Gateway { id status } ... on Error { message } } }"""
SET_STATUS = """mutation($id: ID!, $status: GatewayStatus!, $error: String) {
  updateGatewayStatus(id: $id, status: $status, error: $error) {
    __typename ... on Gateway { id status } ... on Error { message } } }"""

# How long "nothing arrives" is watched for. Delivery on one process takes milliseconds, and
# every silence check is followed by an event that must arrive *first* if the filter leaked.
QUIET = 0.5


@dataclass
class Live:
    app: Starlette
    http: Harness  # GraphQL over HTTP to the same socket
    ws_url: str
    baseline: int = 0

    @property
    def broker(self) -> InMemoryBroker:
        broker = self.app.state.services.broker
        assert isinstance(broker, InMemoryBroker)
        return broker

    @property
    def subscriptions(self) -> int:
        """Client subscriptions: the status hub's, plus any on the broker beyond the app's own
        (the webhook directory and the hub itself listen there too)."""
        hub = self.app.state.services.live
        return hub.subscriber_count + self.broker.subscriber_count - self.baseline

    async def wait_subscriptions(self, count: int, *, within: float = 5.0) -> None:
        """Until exactly `count` client subscriptions are registered with the broker (that
        happens after the `subscribe` message is processed: a change made before is missed)."""
        try:
            async with asyncio.timeout(within):
                while self.subscriptions != count:  # noqa: ASYNC110 - polls a counter
                    await asyncio.sleep(0.01)
        except TimeoutError:
            raise AssertionError(
                f"{self.subscriptions} subscriptions on the broker, expected {count}"
            ) from None


@pytest.fixture
async def live(database_url: str, tmp_path: Path, upstreams: FakeUpstreams) -> AsyncIterator[Live]:
    EXECUTOR_CACHE.clear()  # see tests/support/harness.running_app
    settings = make_settings(database_url, str(tmp_path))
    app = create_app(settings, upstream_transport=upstreams.transport(), run_health_checker=False)
    async with (
        serving(app) as address,
        httpx.AsyncClient(base_url=f"http://{address}", timeout=10) as client,
    ):
        live = Live(
            app=app,
            http=Harness(app=app, client=client, settings=settings),
            ws_url=f"ws://{address}/graphql",
        )
        live.baseline = live.broker.subscriber_count
        yield live


async def create_gateway(h: Harness, token: str, name: str, org: str | None = None) -> str:
    data = {
        "name": name,
        "type": "AI",
        "credentials": {"ai": {"provider": "OPENAI", "apiKey": "sk-test-NOTREAL-1234"}},
    }
    result = (await h.gql(CREATE, {"input": data}, token=token, org=org))["createGateway"]
    assert result["__typename"] == "Gateway", result
    assert result["status"] == "DISCONNECTED"
    gateway_id: str = result["id"]
    return gateway_id


async def set_status(
    h: Harness,
    token: str,
    gateway_id: str,
    status: str,
    error: str | None = None,
    org: str | None = None,
) -> None:
    variables = {"id": gateway_id, "status": status, "error": error}
    result = (await h.gql(SET_STATUS, variables, token=token, org=org))["updateGatewayStatus"]
    assert result == {"__typename": "Gateway", "id": gateway_id, "status": status}


def event_of(data: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = data["gatewayStatusChanged"]
    return event


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
    "case",
    [
        "no payload",
        "no token",
        "not bearer",
        "bad token",
        "token not a string",
        "foreign org",
        "malformed org",
        "org not a string",
    ],
)
async def test_a_bad_token_or_scope_closes_the_socket_with_4403(live: Live, case: str) -> None:
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
        code, reason = await client.wait_closed()
        assert (code, reason) == (4403, "Forbidden")
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
