"""Webhook signing secrets through GraphQL: generated when none is given, shown exactly once."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

import pytest

from app.gateways.credentials import WebhookCredentials
from app.gateways.models import Gateway as GatewayRow
from app.providers.webhook.signing import secret_problem
from tests.gateways.test_resolvers import API_KEY, SIGNING, ai_input, webhook_input
from tests.support.harness import Harness

FIELDS = """
  __typename
  ... on Gateway { id revealedSigningSecret credentialInfo {
    ... on WebhookCredentialInfo { url hasSigningSecret } } }
  ... on Error { message }
  ... on ValidationError { fieldErrors { field message } }
"""
CREATE = "mutation($input: CreateGatewayInput!) { createGateway(input: $input) {" + FIELDS + "} }"
UPDATE = (
    "mutation($id: ID!, $input: UpdateGatewayInput!) { updateGateway(id: $id, input: $input) {"
    + FIELDS
    + "} }"
)
ROTATE = "mutation($id: ID!) { rotateWebhookSigningSecret(id: $id) {" + FIELDS + "} }"
GET = "query($id: ID!) { gateway(id: $id) { revealedSigningSecret } }"
LIST = "{ gateways { items { revealedSigningSecret } } }"


async def stored_secret(h: Harness, gateway_id: str) -> str | None:
    row = await GatewayRow.get(id=UUID(gateway_id))
    credentials = h.services.gateways.vault.open(row)
    assert isinstance(credentials, WebhookCredentials)
    return credentials.signing_secret


async def create(h: Harness, token: str, data: dict[str, Any]) -> Any:
    return (await h.gql(CREATE, {"input": data}, token=token))["createGateway"]


@pytest.fixture
async def alice(harness: Harness) -> str:
    return await harness.register("alice@example.com")


async def test_a_generated_secret_is_revealed_once_and_stored_encrypted(
    harness: Harness, alice: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = await create(harness, alice, webhook_input(signing_secret=None))
    secret = created["revealedSigningSecret"]
    assert secret_problem(secret) is None  # whsec_ + base64 of a random key
    assert created["credentialInfo"]["hasSigningSecret"] is True
    assert await stored_secret(harness, created["id"]) == secret
    row = await GatewayRow.get(id=UUID(created["id"]))
    assert secret.encode() not in row.credentials_ciphertext

    # Null on every later read.
    read = await harness.gql(GET, {"id": created["id"]}, token=alice)
    assert read["gateway"] == {"revealedSigningSecret": None}
    listed = await harness.gql(LIST, token=alice)
    assert listed["gateways"]["items"] == [{"revealedSigningSecret": None}]
    assert secret not in caplog.text


async def test_a_given_secret_is_never_revealed(harness: Harness, alice: str) -> None:
    created = await create(harness, alice, webhook_input(signing_secret=SIGNING))
    assert created["revealedSigningSecret"] is None
    assert await stored_secret(harness, created["id"]) == SIGNING


async def test_a_secret_in_another_format_is_a_field_error(harness: Harness, alice: str) -> None:
    result = await create(harness, alice, webhook_input(signing_secret="my-old-secret-1234567"))
    assert result["__typename"] == "ValidationError"
    [error] = result["fieldErrors"]
    assert error["field"] == "credentials.webhook.signingSecret"
    assert "whsec_" in error["message"]


async def test_new_credentials_without_a_secret_keep_the_stored_one(
    harness: Harness, alice: str
) -> None:
    created = await create(harness, alice, webhook_input(signing_secret=None))
    secret = created["revealedSigningSecret"]
    moved = {"credentials": {"webhook": {"url": "https://hooks.example.com/moved"}}}
    updated = (await harness.gql(UPDATE, {"id": created["id"], "input": moved}, token=alice))[
        "updateGateway"
    ]
    assert updated["revealedSigningSecret"] is None
    assert updated["credentialInfo"]["url"] == "https://hooks.example.com/moved"
    assert await stored_secret(harness, created["id"]) == secret


async def test_rotation_generates_reveals_and_replaces(harness: Harness, alice: str) -> None:
    created = await create(harness, alice, webhook_input(signing_secret=SIGNING))
    rotated = (await harness.gql(ROTATE, {"id": created["id"]}, token=alice))[
        "rotateWebhookSigningSecret"
    ]
    assert rotated["__typename"] == "Gateway"
    new_secret = rotated["revealedSigningSecret"]
    assert secret_problem(new_secret) is None
    assert new_secret != SIGNING
    assert await stored_secret(harness, created["id"]) == new_secret
    read = await harness.gql(GET, {"id": created["id"]}, token=alice)
    assert read["gateway"] == {"revealedSigningSecret": None}


async def test_rotation_is_for_webhook_gateways_of_ones_own_scope(
    harness: Harness, alice: str
) -> None:
    ai = await create(harness, alice, ai_input())
    refused = (await harness.gql(ROTATE, {"id": ai["id"]}, token=alice))[
        "rotateWebhookSigningSecret"
    ]
    assert refused["__typename"] == "ValidationError"
    assert API_KEY not in str(refused)

    hook = await create(harness, alice, webhook_input())
    mallory = await harness.register("mallory@example.com")
    other = (await harness.gql(ROTATE, {"id": hook["id"]}, token=mallory))[
        "rotateWebhookSigningSecret"
    ]
    assert other["__typename"] == "NotFoundError"
    assert await stored_secret(harness, hook["id"]) == SIGNING


async def test_a_member_may_not_rotate(harness: Harness, alice: str) -> None:
    org = await harness.create_org(alice, "Acme", "acme")
    bob = await harness.register("bob@example.com")
    await harness.add_member(alice, org, "bob@example.com", "MEMBER")
    created = (
        await harness.gql(
            CREATE, {"input": webhook_input(signing_secret=None)}, token=alice, org=org
        )
    )["createGateway"]
    result = (await harness.gql(ROTATE, {"id": created["id"]}, token=bob, org=org))[
        "rotateWebhookSigningSecret"
    ]
    assert result["__typename"] == "ForbiddenError"
    assert await stored_secret(harness, created["id"]) == created["revealedSigningSecret"]
