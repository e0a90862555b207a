"""A gateway deleted between the service's scoped read and its write answers NotFoundError.

Both `set_status` and `update` read the gateway (scope and role checks) and then write it in a
later statement; a concurrent delete in between must give the caller "not found", never a
response about a row that no longer exists. Found unguarded by a mutation run.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from app.gateways.models import Gateway
from app.gateways.service import GatewayService
from tests.support.harness import Harness

TOKEN = "123456789:" + "A" * 35
CREATE = """mutation($input: CreateGatewayInput!) { createGateway(input: $input) {
  __typename ... on Gateway { id } } }"""
SET_STATUS = """mutation($id: ID!) { updateGatewayStatus(id: $id, status: CONNECTED) {
  __typename ... on Error { message } } }"""
UPDATE = """mutation($id: ID!) { updateGateway(id: $id, input: {name: "renamed"}) {
  __typename ... on Error { message } } }"""


async def new_gateway(h: Harness) -> tuple[str, str]:
    token = await h.register("owner@example.com")
    data = {
        "name": "bot",
        "type": "TELEGRAM_BOT",
        "credentials": {"telegramBot": {"botToken": TOKEN}},
    }
    result = (await h.gql(CREATE, {"input": data}, token=token))["createGateway"]
    assert result["__typename"] == "Gateway"
    return token, str(result["id"])


async def test_status_change_of_a_gateway_deleted_meanwhile_is_not_found(
    any_harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, gateway_id = await new_gateway(any_harness)
    changer = any_harness.services.gateways.status
    original = changer.change

    async def delete_first(gateway_uuid: UUID, *args: Any, **kwargs: Any) -> Any:
        await Gateway.filter(id=gateway_uuid).delete()  # lands after the service's read
        return await original(gateway_uuid, *args, **kwargs)

    monkeypatch.setattr(changer, "change", delete_first)
    result = (await any_harness.gql(SET_STATUS, {"id": gateway_id}, token=token))[
        "updateGatewayStatus"
    ]

    assert result == {"__typename": "NotFoundError", "message": "Gateway not found."}


async def test_update_of_a_gateway_deleted_meanwhile_is_not_found(
    any_harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, gateway_id = await new_gateway(any_harness)
    original = GatewayService.require

    async def read_then_delete(self: GatewayService, *args: Any, **kwargs: Any) -> Gateway:
        gateway = await original(self, *args, **kwargs)
        await Gateway.filter(id=gateway.id).delete()  # before the locked re-read
        return gateway

    monkeypatch.setattr(GatewayService, "require", read_then_delete)
    result = (await any_harness.gql(UPDATE, {"id": gateway_id}, token=token))["updateGateway"]

    assert result == {"__typename": "NotFoundError", "message": "Gateway not found."}
    assert await Gateway.filter(id=gateway_id).count() == 0
