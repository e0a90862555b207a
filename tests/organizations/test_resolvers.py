"""Organizations through GraphQL, and the organization scope chosen by X-Organization-Id."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.ids import uuid7
from tests.support.harness import Harness

CREATE_ORG = """
mutation($input: CreateOrganizationInput!) {
  createOrganization(input: $input) {
    __typename
    ... on Organization {
      id name slug createdAt viewerRole
      members { role user { email } organization { id } }
    }
    ... on ValidationError { message fieldErrors { field message } }
    ... on ConflictError { message }
  }
}"""

ORGANIZATIONS = """
query {
  organizations {
    id name slug viewerRole
    members { role user { email } organization { slug } }
  }
}"""

GATEWAYS = "query { gateways { total items { id name organization { id } } } }"

CREATE_GATEWAY = """
mutation($name: String!) {
  createGateway(input: {name: $name, type: WEBHOOK,
                        credentials: {webhook: {url: "https://hooks.example.com/in"}}}) {
    __typename
    ... on Gateway { id name organization { id slug } owner { email } }
    ... on Error { message }
  }
}"""


async def create_org(
    harness: Harness, token: str, name: str, slug: str | None = None
) -> dict[str, Any]:
    data = await harness.gql(CREATE_ORG, {"input": {"name": name, "slug": slug}}, token=token)
    result: dict[str, Any] = data["createOrganization"]
    return result


@pytest.fixture
async def team(harness: Harness) -> dict[str, str]:
    """Org "Acme" with an owner, an admin and a member; plus an outsider. Tokens by name."""
    tokens = {
        name: await harness.register(f"{name}@example.com")
        for name in ("owner", "admin", "member", "outsider")
    }
    org_id = await harness.create_org(tokens["owner"], "Acme")
    assert (await harness.add_member(tokens["owner"], org_id, "admin@example.com", "ADMIN"))[
        "__typename"
    ] == "Membership"
    assert (await harness.add_member(tokens["owner"], org_id, "member@example.com", "MEMBER"))[
        "__typename"
    ] == "Membership"
    return {**tokens, "org": org_id}


# ---------------------------------------------------------------- createOrganization


async def test_create_organization_makes_the_viewer_owner(harness: Harness) -> None:
    token = await harness.register("founder@example.com")

    org = await create_org(harness, token, "Acme Robotics")

    assert org["__typename"] == "Organization"
    assert org["name"] == "Acme Robotics"
    assert org["slug"] == "acme-robotics"
    assert org["viewerRole"] == "OWNER"
    assert org["createdAt"]
    assert org["members"] == [
        {
            "role": "OWNER",
            "user": {"email": "founder@example.com"},
            "organization": {"id": org["id"]},
        }
    ]


async def test_create_organization_with_an_explicit_slug(harness: Harness) -> None:
    token = await harness.register("founder@example.com")

    org = await create_org(harness, token, "Acme", "ACME-hq")

    assert org["slug"] == "acme-hq"


async def test_create_organization_reports_invalid_input(harness: Harness) -> None:
    token = await harness.register("founder@example.com")

    result = await create_org(harness, token, "", "x")

    assert result["__typename"] == "ValidationError"
    assert [e["field"] for e in result["fieldErrors"]] == ["name", "slug"]
    assert (await harness.gql("{ organizations { id } }", token=token))["organizations"] == []


async def test_create_organization_with_a_taken_slug_is_a_conflict(any_harness: Harness) -> None:
    first = await any_harness.register("first@example.com")
    second = await any_harness.register("second@example.com")
    await create_org(any_harness, first, "Acme")

    result = await create_org(any_harness, second, "Acme")

    assert result["__typename"] == "ConflictError"
    assert "acme" in result["message"]
    data = await any_harness.gql("{ organizations { id } }", token=second)
    assert data["organizations"] == []


async def test_create_organization_ignores_a_foreign_organization_header(
    harness: Harness, team: dict[str, str]
) -> None:
    # Organization management acts as the user; a stray header must not block it.
    data = await harness.gql(
        CREATE_ORG, {"input": {"name": "Own Thing"}}, token=team["outsider"], org=team["org"]
    )

    assert data["createOrganization"]["viewerRole"] == "OWNER"


# ---------------------------------------------------------------- addOrganizationMember


# addOrganizationMember, invitations, role changes and removals: test_invitation_resolvers.py


# ---------------------------------------------------------------- organizations, members, viewer


async def test_organizations_lists_only_the_callers(harness: Harness, team: dict[str, str]) -> None:
    await create_org(harness, team["outsider"], "Elsewhere")

    data = await harness.gql(ORGANIZATIONS, token=team["member"])

    assert len(data["organizations"]) == 1
    org = data["organizations"][0]
    assert (org["id"], org["slug"], org["viewerRole"]) == (team["org"], "acme", "MEMBER")
    assert [(m["user"]["email"], m["role"]) for m in org["members"]] == [
        ("owner@example.com", "OWNER"),
        ("admin@example.com", "ADMIN"),
        ("member@example.com", "MEMBER"),
    ]
    assert {m["organization"]["slug"] for m in org["members"]} == {"acme"}
    outsider = await harness.gql(ORGANIZATIONS, token=team["outsider"])
    assert [o["slug"] for o in outsider["organizations"]] == ["elsewhere"]


async def test_viewer_memberships(harness: Harness, team: dict[str, str]) -> None:
    second = await create_org(harness, team["admin"], "Second")

    data = await harness.gql(
        """{ viewer { email memberships { role createdAt
              organization { id slug viewerRole } user { email } } } }""",
        token=team["admin"],
    )

    memberships = data["viewer"]["memberships"]
    assert [(m["organization"]["slug"], m["role"]) for m in memberships] == [
        ("acme", "ADMIN"),
        ("second", "OWNER"),
    ]
    assert memberships[1]["organization"]["id"] == second["id"]
    assert [m["organization"]["viewerRole"] for m in memberships] == ["ADMIN", "OWNER"]
    assert {m["user"]["email"] for m in memberships} == {"admin@example.com"}


async def test_a_co_members_memberships_show_only_shared_organizations(
    harness: Harness, team: dict[str, str]
) -> None:
    # The admin also owns an organization the plain member does not belong to.
    await create_org(harness, team["admin"], "Admins Side Project")

    data = await harness.gql(
        """{ organizations { members { user { email
              memberships { organization { slug } } } } } }""",
        token=team["member"],
    )

    admin = next(
        m["user"]
        for m in data["organizations"][0]["members"]
        if m["user"]["email"] == "admin@example.com"
    )
    assert [m["organization"]["slug"] for m in admin["memberships"]] == ["acme"]


# ---------------------------------------------------------------- scope


@pytest.mark.parametrize(
    "query",
    [
        GATEWAYS,
        f'query {{ gateway(id: "{uuid7()}") {{ id }} }}',
        "query { auditEvents { id } }",
    ],
    ids=["gateways", "gateway", "auditEvents"],
)
async def test_a_non_members_organization_header_is_forbidden(
    harness: Harness, team: dict[str, str], query: str
) -> None:
    body = await harness.post(query, token=team["outsider"], org=team["org"])

    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["message"] == "You are not a member of this organization."


@pytest.mark.parametrize("org", ["not-a-uuid", "0" * 36, str(uuid7()), " "])
async def test_a_malformed_or_unknown_organization_id_is_forbidden(
    harness: Harness, team: dict[str, str], org: str
) -> None:
    body = await harness.post(GATEWAYS, token=team["owner"], org=org)

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_non_member_cannot_write_through_the_header(
    harness: Harness, team: dict[str, str]
) -> None:
    body = await harness.post(
        CREATE_GATEWAY, {"name": "intruder"}, token=team["outsider"], org=team["org"]
    )

    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    data = await harness.gql(GATEWAYS, token=team["owner"], org=team["org"])
    assert data["gateways"]["total"] == 0


async def test_scope_free_fields_still_work_with_a_forbidden_header(
    harness: Harness, team: dict[str, str]
) -> None:
    data = await harness.gql(
        "{ viewer { email } organizations { id } gatewayProviders { type } }",
        token=team["outsider"],
        org=team["org"],
    )

    assert data["viewer"]["email"] == "outsider@example.com"
    assert data["organizations"] == []
    assert data["gatewayProviders"]


async def test_members_read_the_organizations_gateways_and_only_admins_write(
    harness: Harness, team: dict[str, str]
) -> None:
    created = await harness.gql(
        CREATE_GATEWAY, {"name": "Shared hook"}, token=team["admin"], org=team["org"]
    )
    gateway = created["createGateway"]
    assert gateway["__typename"] == "Gateway"
    assert gateway["organization"] == {"id": team["org"], "slug": "acme"}
    assert gateway["owner"] == {"email": "admin@example.com"}

    listed = await harness.gql(GATEWAYS, token=team["member"], org=team["org"])
    assert listed["gateways"]["total"] == 1
    assert listed["gateways"]["items"][0]["id"] == gateway["id"]
    one = await harness.gql(
        f'{{ gateway(id: "{gateway["id"]}") {{ name }} }}', token=team["member"], org=team["org"]
    )
    assert one["gateway"] == {"name": "Shared hook"}

    refused = await harness.gql(
        CREATE_GATEWAY, {"name": "Mine"}, token=team["member"], org=team["org"]
    )
    assert refused["createGateway"]["__typename"] == "ForbiddenError"
    listed = await harness.gql(GATEWAYS, token=team["owner"], org=team["org"])
    assert listed["gateways"]["total"] == 1


async def test_without_the_header_the_scope_is_personal(
    harness: Harness, team: dict[str, str]
) -> None:
    await harness.gql(CREATE_GATEWAY, {"name": "Org hook"}, token=team["owner"], org=team["org"])
    personal = await harness.gql(CREATE_GATEWAY, {"name": "My hook"}, token=team["owner"])
    assert personal["createGateway"]["organization"] is None

    mine = await harness.gql(GATEWAYS, token=team["owner"])
    theirs = await harness.gql(GATEWAYS, token=team["member"])
    org = await harness.gql(GATEWAYS, token=team["member"], org=team["org"])

    assert [g["name"] for g in mine["gateways"]["items"]] == ["My hook"]
    assert theirs["gateways"]["total"] == 0
    assert [g["name"] for g in org["gateways"]["items"]] == ["Org hook"]


async def test_a_new_member_gains_the_scope_at_once(harness: Harness, team: dict[str, str]) -> None:
    before = await harness.post(GATEWAYS, token=team["outsider"], org=team["org"])
    assert before["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    await harness.add_member(team["owner"], team["org"], "outsider@example.com", "MEMBER")

    after = await harness.gql(GATEWAYS, token=team["outsider"], org=team["org"])
    assert after["gateways"]["total"] == 0
