"""The `telegramUpdates` query: newest first, bounded, and scoped to the caller's tenant."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from app.core.clock import FakeClock, utcnow
from app.core.ids import uuid7
from app.webhooks.models import TelegramUpdate
from app.webhooks.service import MAX_UPDATES
from tests.support.harness import Harness

UPDATES = """query($gatewayId: ID!, $first: Int! = 50) {
  telegramUpdates(gatewayId: $gatewayId, first: $first) {
    id updateId updateType chatId fromUserId text payload receivedAt } }"""
CREATE = """mutation($input: CreateGatewayInput!) { createGateway(input: $input) {
  __typename ... on Gateway { id } ... on Error { message } } }"""
TOKEN = "123456789:AAHk-SECRET_token_value_abcdefghijklm"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=utcnow())


async def create_telegram(h: Harness, token: str, org: str | None = None) -> str:
    data = {
        "name": "Bot",
        "type": "TELEGRAM_BOT",
        "credentials": {"telegramBot": {"botToken": TOKEN}},
    }
    result = (await h.gql(CREATE, {"input": data}, token=token, org=org))["createGateway"]
    assert result["__typename"] == "Gateway", result
    gateway_id: str = result["id"]
    return gateway_id


async def add_update(
    gateway_id: str, update_id: int, received_at: datetime, **fields: Any
) -> TelegramUpdate:
    values: dict[str, Any] = {
        "update_type": "message",
        "chat_id": None,
        "from_user_id": None,
        "text": None,
        "payload": {"update_id": update_id},
        **fields,
    }
    return await TelegramUpdate.create(
        gateway_id=gateway_id, update_id=update_id, received_at=received_at, **values
    )


async def updates(
    h: Harness, token: str, gateway_id: str, first: int | None = None, org: str | None = None
) -> list[dict[str, Any]]:
    variables: dict[str, Any] = {"gatewayId": gateway_id}
    if first is not None:
        variables["first"] = first
    result: list[dict[str, Any]] = (await h.gql(UPDATES, variables, token=token, org=org))[
        "telegramUpdates"
    ]
    return result


@pytest.fixture
async def owner(any_harness: Harness) -> str:
    return await any_harness.register("owner@example.test", "Owner")


async def test_updates_are_listed_newest_first_with_their_fields(
    any_harness: Harness, owner: str, clock: FakeClock
) -> None:
    gateway_id = await create_telegram(any_harness, owner)
    now = clock.now()
    payload = {"update_id": 3, "message": {"chat": {"id": -1001234567890}, "text": "hi"}}
    newest = await add_update(
        gateway_id,
        3,
        now,
        chat_id=-1001234567890,
        from_user_id=2**40 + 7,
        text="hi",
        payload=payload,
    )
    # Received order, not update_id order, decides: update_ids restart at random after a week.
    await add_update(gateway_id, 9, now - timedelta(minutes=5), update_type="other")
    await add_update(gateway_id, 1, now - timedelta(minutes=1))

    result = await updates(any_harness, owner, gateway_id)

    assert [u["updateId"] for u in result] == ["3", "1", "9"]
    assert result[0] == {
        "id": str(newest.id),
        "updateId": "3",
        "updateType": "message",
        "chatId": "-1001234567890",  # 64-bit ids are strings
        "fromUserId": str(2**40 + 7),
        "text": "hi",
        "payload": payload,
        "receivedAt": result[0]["receivedAt"],
    }
    assert datetime.fromisoformat(result[0]["receivedAt"]) == now
    assert result[2]["updateType"] == "other"
    assert result[2]["chatId"] is None
    assert result[2]["fromUserId"] is None


async def test_updates_received_at_the_same_instant_are_ordered_by_update_id(
    any_harness: Harness, owner: str, clock: FakeClock
) -> None:
    gateway_id = await create_telegram(any_harness, owner)
    for update_id in (5, 7, 6):
        await add_update(gateway_id, update_id, clock.now())

    result = await updates(any_harness, owner, gateway_id)

    assert [u["updateId"] for u in result] == ["7", "6", "5"]


async def test_ids_beyond_32_and_53_bits_are_listed_exactly(
    any_harness: Harness, owner: str, clock: FakeClock
) -> None:
    """Telegram ids are 64-bit: an Int field failed the whole list; a JSON number loses digits."""
    gateway_id = await create_telegram(any_harness, owner)
    big = 2**63 - 1
    await add_update(gateway_id, 2**31, clock.now(), chat_id=-(2**62), from_user_id=2**53 + 1)
    await add_update(gateway_id, big, clock.now())

    result = await updates(any_harness, owner, gateway_id)

    assert [u["updateId"] for u in result] == [str(big), str(2**31)]
    assert (result[1]["chatId"], result[1]["fromUserId"]) == (str(-(2**62)), str(2**53 + 1))


async def test_first_limits_the_list_to_the_newest(
    any_harness: Harness, owner: str, clock: FakeClock
) -> None:
    gateway_id = await create_telegram(any_harness, owner)
    for update_id in range(1, 6):
        await add_update(gateway_id, update_id, clock.now() + timedelta(seconds=update_id))

    assert [u["updateId"] for u in await updates(any_harness, owner, gateway_id, 2)] == ["5", "4"]
    assert [u["updateId"] for u in await updates(any_harness, owner, gateway_id, 1)] == ["5"]
    assert len(await updates(any_harness, owner, gateway_id, 50)) == 5


@pytest.mark.parametrize("first", [0, -1, -(2**31)])
async def test_first_below_one_lists_nothing(
    any_harness: Harness, owner: str, clock: FakeClock, first: int
) -> None:
    gateway_id = await create_telegram(any_harness, owner)
    await add_update(gateway_id, 1, clock.now())

    assert await updates(any_harness, owner, gateway_id, first) == []


async def test_first_is_capped(harness: Harness, clock: FakeClock) -> None:
    token = await harness.register("owner@example.test")
    gateway_id = await create_telegram(harness, token)
    await TelegramUpdate.bulk_create(
        [
            TelegramUpdate(
                gateway_id=gateway_id,
                update_id=i,
                update_type="message",
                payload={"update_id": i},
                received_at=clock.now(),
            )
            for i in range(MAX_UPDATES + 5)
        ]
    )

    result = await updates(harness, token, gateway_id, 10_000)

    assert len(result) == MAX_UPDATES
    assert result[0]["updateId"] == str(MAX_UPDATES + 4)


async def test_default_first_is_50(harness: Harness, clock: FakeClock) -> None:
    token = await harness.register("owner@example.test")
    gateway_id = await create_telegram(harness, token)
    for i in range(55):
        await add_update(gateway_id, i, clock.now())

    assert len(await updates(harness, token, gateway_id)) == 50


async def test_only_the_requested_gateways_updates_are_listed(
    any_harness: Harness, owner: str, clock: FakeClock
) -> None:
    first = await create_telegram(any_harness, owner)
    second = await create_telegram(any_harness, owner)
    await add_update(first, 1, clock.now())
    await add_update(second, 2, clock.now())

    assert [u["updateId"] for u in await updates(any_harness, owner, first)] == ["1"]
    assert [u["updateId"] for u in await updates(any_harness, owner, second)] == ["2"]


async def test_another_users_gateway_lists_nothing(
    any_harness: Harness, owner: str, clock: FakeClock
) -> None:
    gateway_id = await create_telegram(any_harness, owner)
    await add_update(gateway_id, 1, clock.now())
    stranger = await any_harness.register("stranger@example.test", "Stranger")

    assert await updates(any_harness, stranger, gateway_id) == []
    assert len(await updates(any_harness, owner, gateway_id)) == 1


async def test_organization_scope(any_harness: Harness, owner: str, clock: FakeClock) -> None:
    h = any_harness
    org = await h.create_org(owner, "Acme")
    org_gateway = await create_telegram(h, owner, org=org)
    personal_gateway = await create_telegram(h, owner)
    await add_update(org_gateway, 1, clock.now())
    await add_update(personal_gateway, 2, clock.now())
    member = await h.register("member@example.test", "Member")
    assert await h.add_member(owner, org, "member@example.test", "MEMBER") is not None
    other_org = await h.create_org(member, "Other")

    # A member reads the organization's inbox in the organization's scope only.
    assert [u["updateId"] for u in await updates(h, member, org_gateway, org=org)] == ["1"]
    assert await updates(h, member, org_gateway) == []
    assert await updates(h, member, org_gateway, org=other_org) == []
    # The owner's personal gateway is not visible in the organization's scope, nor to members.
    assert await updates(h, owner, personal_gateway, org=org) == []
    assert await updates(h, member, personal_gateway, org=org) == []
    assert [u["updateId"] for u in await updates(h, owner, personal_gateway)] == ["2"]


async def test_an_organization_outsider_is_refused(
    any_harness: Harness, owner: str, clock: FakeClock
) -> None:
    org = await any_harness.create_org(owner, "Acme")
    gateway_id = await create_telegram(any_harness, owner, org=org)
    await add_update(gateway_id, 1, clock.now())
    outsider = await any_harness.register("outsider@example.test")

    body = await any_harness.post(UPDATES, {"gatewayId": gateway_id}, token=outsider, org=org)

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("gateway_id", ["not-a-uuid", "", "1", "../etc"])
async def test_a_malformed_gateway_id_lists_nothing(
    any_harness: Harness, owner: str, gateway_id: str
) -> None:
    assert await updates(any_harness, owner, gateway_id) == []


async def test_an_unknown_gateway_lists_nothing(any_harness: Harness, owner: str) -> None:
    assert await updates(any_harness, owner, str(uuid7())) == []


async def test_a_gateway_without_updates_lists_nothing(any_harness: Harness, owner: str) -> None:
    gateway_id = await create_telegram(any_harness, owner)

    assert await updates(any_harness, owner, gateway_id) == []


async def test_anonymous_callers_are_refused(any_harness: Harness, owner: str) -> None:
    gateway_id = await create_telegram(any_harness, owner)
    await add_update(gateway_id, 1, utcnow())

    body = await any_harness.post(UPDATES, {"gatewayId": gateway_id})

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert UUID(gateway_id)


async def test_a_payload_stored_with_nan_before_it_was_refused_is_served_as_json(
    harness: Harness, clock: FakeClock
) -> None:
    # SQLite kept NaN from bodies the route accepted before it refused them; the list served it
    # as `NaN`, which JSON.parse refuses, so the SPA lost the whole inbox.
    token = await harness.register("owner@example.test")
    gateway_id = await create_telegram(harness, token)
    row = await add_update(gateway_id, 1, clock.now())
    await TelegramUpdate._meta.db.execute_query(
        "UPDATE telegram_updates SET payload = ? WHERE id = ?",
        ['{"update_id":1,"x":NaN,"y":[Infinity,2.5]}', str(row.id)],
    )

    response = await harness.client.post(
        "/graphql",
        json={"query": UPDATES, "variables": {"gatewayId": gateway_id}},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 200
    body = json.loads(response.content, parse_constant=_no_constants)
    [listed] = body["data"]["telegramUpdates"]
    assert listed["payload"] == {"update_id": 1, "x": None, "y": [None, 2.5]}


def _no_constants(name: str) -> Any:
    raise AssertionError(f"the response contains {name}")


async def test_ids_past_2_53_are_exact_in_the_fields_and_in_the_served_payload(
    any_harness: Harness, owner: str, clock: FakeClock
) -> None:
    # The columns are BIGINT and the id fields strings; the payload keeps Telegram's numbers
    # digit for digit on both databases (JSON text on SQLite, jsonb numeric on PostgreSQL).
    gateway_id = await create_telegram(any_harness, owner)
    update_id, chat, sender = 2**62 + 1, -(2**53) - 3, 2**53 + 1
    payload = {"update_id": update_id, "message": {"chat": {"id": chat}, "from": {"id": sender}}}
    await add_update(
        gateway_id, update_id, clock.now(), chat_id=chat, from_user_id=sender, payload=payload
    )

    response = await any_harness.client.post(
        "/graphql",
        json={"query": UPDATES, "variables": {"gatewayId": gateway_id}},
        headers={"Authorization": f"Bearer {owner}"},
    )

    [listed] = response.json()["data"]["telegramUpdates"]
    assert (listed["updateId"], listed["chatId"], listed["fromUserId"]) == (
        "4611686018427387905",
        "-9007199254740995",
        "9007199254740993",
    )
    for digits in (b"4611686018427387905", b"-9007199254740995", b"9007199254740993"):
        assert response.content.count(digits) == 2  # the field and the payload
