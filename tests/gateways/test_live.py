"""StatusHub: one execution per event for each group of identical subscriptions, the result put
on every socket of the group, and nothing shared that depends on who is looking.

Over real sockets against a server in this process (tests/support/live.py).
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from typing import Any

import pytest
from graphql import (
    GraphQLError,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLUnionType,
    get_named_type,
)

from app.events.types import GatewayStatusChanged
from app.gateways import live as live_module
from app.gateways.enums import GatewayStatus
from app.gateways.live import LiveSubscriber
from app.gateways.live_fields import SCOPE_SHARED_FIELDS
from app.gateways.models import Gateway
from app.graphql import context as context_module
from app.graphql.schema import build_schema
from app.graphql.shared_execution import SharedOperation
from app.graphql.transport_ws import OperationSink
from tests.support import ws
from tests.support.live import (
    QUIET,
    SUBSCRIPTION,
    Live,
    create_gateway,
    event_of,
    set_status,
    subscribed,
)

STATUS_ONLY = "subscription { gatewayStatusChanged { status gateway { id } } }"
WITH_ROLE = """subscription { gatewayStatusChanged {
  status gateway { id organization { id viewerRole } } } }"""
RICH_SELECTION = """id name type status config lastError createdAt updatedAt
  owner { id email name } organization { id name slug }
  credentialInfo { __typename ... on AICredentialInfo { provider apiKeyHint baseUrl model } }
  circuit { state failures } supportedActions { name }"""


@pytest.fixture
def executions(monkeypatch: pytest.MonkeyPatch) -> list[Hashable]:
    """The document key of every shared execution, in order."""
    keys: list[Hashable] = []
    execute = SharedOperation.execute

    async def counted(self: SharedOperation, root: object, context: Any) -> str:
        keys.append(self.document_key)
        return await execute(self, root, context)

    monkeypatch.setattr(SharedOperation, "execute", counted)
    return keys


async def org_with_member(live: Live) -> tuple[str, str, str]:
    """An organization with an OWNER and a MEMBER; their tokens and its id."""
    owner = await live.http.register("owner@example.com")
    member = await live.http.register("member@example.com")
    org = await live.http.create_org(owner, "Acme")
    await live.http.add_member(owner, org, "member@example.com", "MEMBER")
    return owner, member, org


# ---------------------------------------------------------------- sharing


async def test_identical_subscriptions_share_one_execution_per_event(
    live: Live, executions: list[Hashable]
) -> None:
    owner, member, org = await org_with_member(live)
    gateway_id = await create_gateway(live.http, owner, "Acme bot", org=org)
    outsider = await live.http.register("outsider@example.com")
    other_org = await live.http.create_org(outsider, "Other")

    async with (
        ws.connect(live.ws_url) as a,
        ws.connect(live.ws_url) as b,
        ws.connect(live.ws_url) as c,
        ws.connect(live.ws_url) as elsewhere,
    ):
        await a.init(ws.auth_payload(owner, org))
        await b.init(ws.auth_payload(member, org))
        await c.init(ws.auth_payload(member, org))
        await elsewhere.init(ws.auth_payload(outsider, other_org))
        same = [(a, await a.subscribe(SUBSCRIPTION)), (a, await a.subscribe(SUBSCRIPTION))]
        same.append((b, await b.subscribe(SUBSCRIPTION)))  # another user, same scope
        status_only = await c.subscribe(STATUS_ONLY)
        foreign = await elsewhere.subscribe(SUBSCRIPTION)  # same document, another tenant
        await live.wait_subscriptions(5)

        await set_status(live.http, owner, gateway_id, "CONNECTING", org=org)
        received = [await client.next_data(op) for client, op in same]
        assert all(data == received[0] for data in received)
        assert event_of(received[0])["gateway"]["id"] == gateway_id
        assert await c.next_data(status_only) == {
            "gatewayStatusChanged": {"status": "CONNECTING", "gateway": {"id": gateway_id}}
        }
        await elsewhere.assert_silent(foreign, within=QUIET)

    # One execution per document, whatever the number of subscribers; none for other tenants.
    assert len(executions) == 2
    assert len(set(executions)) == 2


async def test_viewer_dependent_fields_are_executed_per_viewer(
    live: Live, executions: list[Hashable]
) -> None:
    owner, member, org = await org_with_member(live)
    gateway_id = await create_gateway(live.http, owner, "Acme bot", org=org)

    async with ws.connect(live.ws_url) as as_owner, ws.connect(live.ws_url) as as_member:
        await as_owner.init(ws.auth_payload(owner, org))
        await as_member.init(ws.auth_payload(member, org))
        owner_op = await as_owner.subscribe(WITH_ROLE)
        member_op = await as_member.subscribe(WITH_ROLE)
        await live.wait_subscriptions(2)

        await set_status(live.http, owner, gateway_id, "CONNECTING", org=org)
        seen_by_owner = event_of(await as_owner.next_data(owner_op))["gateway"]["organization"]
        seen_by_member = event_of(await as_member.next_data(member_op))["gateway"]["organization"]

    assert seen_by_owner == {"id": org, "viewerRole": "OWNER"}
    assert seen_by_member == {"id": org, "viewerRole": "MEMBER"}
    assert len(executions) == 2


async def test_an_event_carries_what_a_query_for_the_gateway_returns(live: Live) -> None:
    owner, _, org = await org_with_member(live)
    gateway_id = await create_gateway(live.http, owner, "Acme bot", org=org)
    subscription = f"subscription {{ gatewayStatusChanged {{ gateway {{ {RICH_SELECTION} }} }} }}"
    query = f"query($id: ID!) {{ gateway(id: $id) {{ {RICH_SELECTION} }} }}"

    async with subscribed(live, owner, subscription, org=org) as (client, op):
        await set_status(live.http, owner, gateway_id, "ERROR", error="upstream down", org=org)
        pushed = event_of(await client.next_data(op))["gateway"]

    queried = (await live.http.gql(query, {"id": gateway_id}, token=owner, org=org))["gateway"]
    assert pushed == queried
    assert pushed["credentialInfo"]["apiKeyHint"].endswith("1234")  # masked, never the key
    assert "sk-test" not in str(pushed)


def test_every_field_a_shared_document_can_reach_is_classified() -> None:
    """A field added to a type below GatewayStatusEvent must be put on one side or the other:
    SCOPE_SHARED_FIELDS (same value for everyone in the scope), or here."""
    per_viewer = {
        ("Organization", "viewerRole"),  # the viewer's own role
        ("Organization", "members"),  # read through the viewer's memberships
        ("Organization", "invitations"),  # OWNERs and ADMINs only
        ("User", "memberships"),  # limited to the viewer's organizations
        ("Gateway", "auditEvents"),  # resolved from the request context: not vetted for sharing
    }
    schema = build_schema()._schema
    unclassified: set[tuple[str, str]] = set()
    seen: set[str] = set()
    todo: list[GraphQLNamedType] = [schema.subscription_type] if schema.subscription_type else []
    while todo:
        named = todo.pop()
        if named.name in seen:
            continue
        seen.add(named.name)
        if isinstance(named, GraphQLUnionType):
            todo.extend(named.types)
            continue
        if not isinstance(named, GraphQLObjectType):
            continue
        for name, field in named.fields.items():
            shared = name in SCOPE_SHARED_FIELDS.get(named.name, frozenset())
            if shared:
                todo.append(get_named_type(field.type))
            elif (named.name, name) not in per_viewer:
                unclassified.add((named.name, name))
    assert unclassified == set()
    # And nothing listed as shared is a typo for a field that does not exist.
    for type_name, names in SCOPE_SHARED_FIELDS.items():
        type_ = schema.get_type(type_name)
        assert isinstance(type_, GraphQLObjectType), type_name
        assert names <= set(type_.fields), (type_name, names - set(type_.fields))


# ---------------------------------------------------------------- failures


async def test_a_failed_execution_ends_the_groups_streams_with_a_masked_error(
    live: Live, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    token = await live.http.register("alice@example.com")
    gateway_id = await create_gateway(live.http, token, "Assistant")

    async def broken(*args: object) -> None:
        raise RuntimeError("database password is hunter2")

    async with ws.connect(live.ws_url) as first, ws.connect(live.ws_url) as second:
        await first.init(ws.auth_payload(token))
        await second.init(ws.auth_payload(token))
        ops = [
            (first, await first.subscribe(SUBSCRIPTION)),
            (second, await second.subscribe(SUBSCRIPTION)),
        ]
        await live.wait_subscriptions(2)
        monkeypatch.setattr(live_module, "status_event_of", broken)

        with caplog.at_level(logging.ERROR, logger="app.gateways.live"):
            await set_status(live.http, token, gateway_id, "CONNECTING")
            for client, op in ops:
                message = await client.receive(op)
                assert message["type"] == "next", message
                assert [e["message"] for e in message["payload"]["errors"]] == ["Unexpected error."]
                assert "hunter2" not in str(message)
                assert await client.receive(op) == {"id": op, "type": "complete"}
        await live.wait_subscriptions(0)

    # Logged once for the group, with the cause; not once per subscriber.
    failures = [r for r in caplog.records if r.getMessage() == "gateways.live.delivery_failed"]
    assert len(failures) == 1
    assert failures[0].exc_info is not None


async def test_a_field_error_reaches_the_client_masked_and_the_stream_goes_on(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await live.http.register("alice@example.com")
    gateway_id = await create_gateway(live.http, token, "Assistant")
    with_audit = "subscription { gatewayStatusChanged { status gateway { auditEvents { id } } } }"

    async def failing(*args: object, **kwargs: object) -> None:
        raise RuntimeError("audit store unavailable")

    async with subscribed(live, token, with_audit) as (client, op):
        monkeypatch.setattr("app.gateways.types.audit_service.list_events", failing)
        await set_status(live.http, token, gateway_id, "CONNECTING")
        message = await client.receive(op)
        assert message["type"] == "next", message
        assert message["payload"]["data"] is None  # a non-null field failed all the way up
        errors = message["payload"]["errors"]
        assert [(e["message"], e["path"]) for e in errors] == [
            ("Unexpected error.", ["gatewayStatusChanged", "gateway", "auditEvents"])
        ]

        monkeypatch.undo()
        await set_status(live.http, token, gateway_id, "CONNECTED")
        assert event_of(await client.next_data(op))["status"] == "CONNECTED"


async def test_a_failed_token_check_ends_the_stream_masked(
    live: Live, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    token = await live.http.register("alice@example.com")
    gateway_id = await create_gateway(live.http, token, "Assistant")

    async def unreachable(token_hashes: object) -> None:
        raise ConnectionError("database unreachable")

    async with subscribed(live, token) as (client, op):
        monkeypatch.setattr(context_module, "REAUTH_INTERVAL", 0.0)
        monkeypatch.setattr(live.app.state.services.auth, "live_until", unreachable)

        with caplog.at_level(logging.ERROR, logger="app.gateways.live"):
            await set_status(live.http, token, gateway_id, "CONNECTING")
            message = await client.receive(op)
        assert [e["message"] for e in message["payload"]["errors"]] == ["Unexpected error."]
        assert await client.receive(op) == {"id": op, "type": "complete"}
    (record,) = caplog.records
    assert (record.getMessage(), record.__dict__["step"]) == (
        "gateways.live.delivery_failed",
        "token re-check",
    )


# ---------------------------------------------------------------- the end of a stream


async def test_a_completed_operation_is_sent_nothing_more(live: Live) -> None:
    token = await live.http.register("alice@example.com")
    gateway_id = await create_gateway(live.http, token, "Assistant")

    async with ws.connect(live.ws_url) as client:
        await client.init(ws.auth_payload(token))
        stopped = await client.subscribe(SUBSCRIPTION)
        running = await client.subscribe(SUBSCRIPTION)
        await live.wait_subscriptions(2)

        await client.complete(stopped)
        # Straight away: the change may reach the hub before the operation's task has ended.
        await set_status(live.http, token, gateway_id, "CONNECTING")
        assert event_of(await client.next_data(running))["status"] == "CONNECTING"
        await client.assert_silent(stopped, within=QUIET)


async def test_stopping_the_hub_completes_every_stream(live: Live) -> None:
    token = await live.http.register("alice@example.com")

    async with subscribed(live, token) as (client, op):
        await live.hub.close()
        assert await client.receive(op) == {"id": op, "type": "complete"}
        await live.wait_subscriptions(0)

        # A subscription opened afterwards ends at once rather than waiting for nothing.
        late = await client.subscribe(SUBSCRIPTION)
        assert await client.receive(late) == {"id": late, "type": "complete"}


async def test_results_put_before_the_end_go_out_before_it(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stream ended right after an event was put on its socket: `next`, then the error."""
    token = await live.http.register("alice@example.com")
    gateway_id = await create_gateway(live.http, token, "Assistant")

    async with subscribed(live, token) as (client, op):
        (subscriber,) = live.hub._subscribers
        original = OperationSink.send_next

        def then_end(self: OperationSink, payload_json: str) -> None:
            original(self, payload_json)
            subscriber.end(live_module.auth_expired())

        monkeypatch.setattr(OperationSink, "send_next", then_end)
        await set_status(live.http, token, gateway_id, "CONNECTING")
        assert event_of(await client.next_data(op))["status"] == "CONNECTING"
        message = await client.receive(op)
        assert [e["message"] for e in message["payload"]["errors"]] == ["Authentication expired."]
        assert await client.receive(op) == {"id": op, "type": "complete"}


async def test_a_token_re_check_is_one_query_for_every_socket_that_is_due(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await live.http.register("alice@example.com")
    second_session = await live.http.gql(
        'mutation { login(input: {email: "alice@example.com", '
        'password: "correct horse battery"}) { ... on AuthPayload { token } } }'
    )
    tokens = [alice, second_session["login"]["token"]]
    gateway_id = await create_gateway(live.http, alice, "Assistant")
    auth = live.app.state.services.auth
    lookups: list[set[str]] = []
    live_until = auth.live_until

    async def counted(token_hashes: set[str]) -> Any:
        lookups.append(set(token_hashes))
        return await live_until(token_hashes)

    async with ws.connect(live.ws_url) as a, ws.connect(live.ws_url) as b:
        ops = []
        for client, token in zip((a, b), tokens, strict=True):
            await client.init(ws.auth_payload(token))
            ops.append((client, await client.subscribe(SUBSCRIPTION)))
        await live.wait_subscriptions(2)
        monkeypatch.setattr(context_module, "REAUTH_INTERVAL", 0.0)
        monkeypatch.setattr(auth, "live_until", counted)

        await set_status(live.http, alice, gateway_id, "CONNECTING")
        for client, op in ops:
            assert event_of(await client.next_data(op))["status"] == "CONNECTING"
    assert [len(hashes) for hashes in lookups] == [2]  # both sockets' tokens, one query


async def test_a_stream_ended_by_the_hub_is_sent_nothing_after_its_end(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await live.http.register("alice@example.com")
    gateway_id = await create_gateway(live.http, token, "Assistant")
    row = await Gateway.get(id=gateway_id)
    build = live_module.status_event_of
    calls = 0

    async def fails_once(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("transient")
        return await build(*args)

    def event(status: GatewayStatus) -> GatewayStatusChanged:
        return GatewayStatusChanged(
            gateway_id=row.id,
            owner_id=row.owner_id,
            organization_id=None,
            previous_status=None,
            status=status,
            error=None,
        )

    async with subscribed(live, token) as (client, op):
        monkeypatch.setattr(live_module, "status_event_of", fails_once)
        # Both queued for the hub at once: the second is dispatched right after the first one's
        # failure ended the stream, before the stream's own task has even run.
        broker = live.app.state.services.broker
        await broker.publish(event(GatewayStatus.CONNECTING))
        await broker.publish(event(GatewayStatus.CONNECTED))
        message = await client.receive(op)
        assert [e["message"] for e in message["payload"]["errors"]] == ["Unexpected error."]
        assert await client.receive(op) == {"id": op, "type": "complete"}
        await client.assert_silent(within=QUIET)
    assert calls == 1  # the second event found nobody left to execute it for


async def test_an_ended_subscriber_is_out_of_every_later_audience() -> None:
    """The hub may dispatch another event before an ended stream's task has left the hub."""

    class Sink:
        def active(self) -> bool:
            return True

    unused: Any = None
    subscriber = LiveSubscriber(unused, unused, unused, unused, unused, Sink(), "key")  # type: ignore[arg-type]
    assert subscriber.receiving
    subscriber.end(live_module.masked())
    assert not subscriber.receiving
    subscriber.end()  # a second end changes nothing
    assert isinstance(subscriber.ended.exception(), GraphQLError)


async def test_the_hub_survives_a_failure_while_dispatching_an_event(
    live: Live, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    token = await live.http.register("alice@example.com")
    gateway_id = await create_gateway(live.http, token, "Assistant")
    check = live_module.in_scope_row
    calls = 0

    def fails_once(*args: Any) -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("a bug")
        return check(*args)

    async with subscribed(live, token) as (client, op):
        monkeypatch.setattr(live_module, "in_scope_row", fails_once)
        with caplog.at_level(logging.ERROR, logger="app.gateways.live"):
            await set_status(live.http, token, gateway_id, "CONNECTING")
            await client.assert_silent(op, within=QUIET)  # that event is lost, and logged
            await set_status(live.http, token, gateway_id, "CONNECTED")
            assert event_of(await client.next_data(op))["status"] == "CONNECTED"
    assert [r.getMessage() for r in caplog.records] == ["gateways.live.dispatch_failed"]


async def test_the_owner_is_shared_with_every_member_of_the_scope(
    live: Live, executions: list[Hashable]
) -> None:
    """`owner` is in SCOPE_SHARED_FIELDS: whoever's loaders execute it, each member of the
    organization gets the owner (see the note in app/gateways/live_fields.py)."""
    owner, member, org = await org_with_member(live)
    gateway_id = await create_gateway(live.http, owner, "Acme bot", org=org)
    with_owner = "subscription { gatewayStatusChanged { gateway { owner { email } } } }"

    async with ws.connect(live.ws_url) as as_member, ws.connect(live.ws_url) as as_owner:
        # The member subscribes first, so the member's loaders are the ones that execute.
        await as_member.init(ws.auth_payload(member, org))
        member_op = await as_member.subscribe(with_owner)
        await live.wait_subscriptions(1)
        await as_owner.init(ws.auth_payload(owner, org))
        owner_op = await as_owner.subscribe(with_owner)
        await live.wait_subscriptions(2)

        await set_status(live.http, owner, gateway_id, "CONNECTING", org=org)
        expected = {"gatewayStatusChanged": {"gateway": {"owner": {"email": "owner@example.com"}}}}
        assert await as_member.next_data(member_op) == expected
        assert await as_owner.next_data(owner_op) == expected
    assert len(executions) == 1
