"""The gateway service's refusal messages and log events, exactly.

A MEMBER of an organization reads but may not write; the message says which write was refused.
The success log events carry the gateway id. Found unasserted by a mutation run (the isolation
tests check only that the role is named).
"""

from __future__ import annotations

import logging
from uuid import UUID

import pytest

from app.auth.models import User
from app.errors import ForbiddenError
from app.gateways.models import Gateway
from app.organizations.models import OrganizationRole
from app.service_context import ServiceContext
from tests.support.harness import Harness

TOKEN = "123456789:" + "A" * 35
GATEWAY = {
    "name": "bot",
    "type": "TELEGRAM_BOT",
    "credentials": {"telegramBot": {"botToken": TOKEN}},
}
ERROR = "... on Error { message } ... on Gateway { id }"
CREATE = f"mutation($input: CreateGatewayInput!) {{ createGateway(input: $input) {{ {ERROR} }} }}"
UPDATE = 'mutation($id: ID!) { updateGateway(id: $id, input: {name: "x"}) { ' + ERROR + " } }"
SET_STATUS = (
    "mutation($id: ID!) { updateGatewayStatus(id: $id, status: CONNECTED) { " + ERROR + " } }"
)
DELETE = (
    "mutation($id: ID!) { deleteGateway(id: $id) { ... on Error { message } "
    "... on DeletedGateway { id } } }"
)


async def org_with_member(h: Harness) -> tuple[str, str, str, str]:
    """(owner token, member token, organization id, an organization gateway id)."""
    owner = await h.register("owner@example.com")
    member = await h.register("member@example.com")
    org = await h.create_org(owner, "Acme")
    assert (await h.add_member(owner, org, "member@example.com", "MEMBER")) == {
        "__typename": "Membership"
    }
    created = await h.gql(CREATE, {"input": GATEWAY}, token=owner, org=org)
    return owner, member, org, created["createGateway"]["id"]


@pytest.mark.parametrize(
    ("mutation", "field", "what"),
    [
        (CREATE, "createGateway", "create gateways"),
        (UPDATE, "updateGateway", "change gateways"),
        (SET_STATUS, "updateGatewayStatus", "change gateway status"),
        (DELETE, "deleteGateway", "delete gateways"),
    ],
)
async def test_a_member_is_told_which_write_is_refused(
    harness: Harness, mutation: str, field: str, what: str
) -> None:
    _, member, org, gateway_id = await org_with_member(harness)
    variables = {"input": GATEWAY} if field == "createGateway" else {"id": gateway_id}

    result = (await harness.gql(mutation, variables, token=member, org=org))[field]

    assert result == {"message": f"Your role (MEMBER) may not {what} here."}


async def test_create_and_delete_are_logged_with_the_gateway_id(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    token = await harness.register("owner@example.com")
    with caplog.at_level(logging.INFO, logger="app.gateways"):
        gateway_id = (await harness.gql(CREATE, {"input": GATEWAY}, token=token))["createGateway"][
            "id"
        ]
        deleted = await harness.gql(DELETE, {"id": gateway_id}, token=token)

    assert deleted["deleteGateway"] == {"id": gateway_id}
    logged = {
        r.getMessage(): r.__dict__.get("gateway_id")
        for r in caplog.records
        if r.getMessage().startswith("gateway.")
    }
    assert logged["gateway.create.succeeded"] == gateway_id
    assert logged["gateway.delete.succeeded"] == gateway_id


async def test_the_service_itself_refuses_a_member_delete(harness: Harness) -> None:
    # GraphQL goes through the lifecycle, which checks first; the service keeps its own check
    # for every other caller (CLI, background jobs).
    _, _, org, gateway_id = await org_with_member(harness)
    ctx = ServiceContext(
        user_id=(await User.get(email="member@example.com")).id,
        organization_id=UUID(org),
        role=OrganizationRole.MEMBER,
    )

    with pytest.raises(ForbiddenError) as info:
        await harness.services.gateways.delete(ctx, UUID(gateway_id))

    assert str(info.value) == "Your role (MEMBER) may not delete gateways here."
    assert await Gateway.filter(id=gateway_id).count() == 1
