"""Invitations and membership changes through GraphQL: what each party sees, and at once."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.core.ids import uuid7
from tests.support.harness import Harness, make_settings, running_app

INVITE = """
mutation($input: AddOrganizationMemberInput!) {
  addOrganizationMember(input: $input) {
    __typename
    ... on OrganizationInvitation {
      id email role status invitedByName createdAt expiresAt
      organization { id name slug }
      invitedBy { email }
    }
    ... on ValidationError { message fieldErrors { field } }
    ... on QuotaExceededError { message limit }
    ... on Error { message }
  }
}"""

MY_INVITATIONS = """
query {
  invitations {
    id email role status invitedByName invitedBy { email }
    organization { id name slug viewerRole members { role } invitations { id } }
  }
}"""

ORG_INVITATIONS = "query { organizations { id invitations { id email invitedBy { email } } } }"

ACCEPT = """mutation($id: ID!) { acceptInvitation(id: $id) {
  __typename ... on Membership { role user { email } organization { id viewerRole } }
  ... on Error { message } } }"""
DECLINE = """mutation($id: ID!) { declineInvitation(id: $id) {
  __typename ... on OrganizationInvitation { id status } ... on Error { message } } }"""
REVOKE = """mutation($id: ID!) { revokeInvitation(id: $id) {
  __typename ... on OrganizationInvitation { id status } ... on Error { message } } }"""
CHANGE_ROLE = """mutation($input: ChangeMemberRoleInput!) { changeMemberRole(input: $input) {
  __typename ... on Membership { role user { email } } ... on Error { message } } }"""
REMOVE = """mutation($input: RemoveMemberInput!) { removeMember(input: $input) {
  __typename ... on RemovedMember { organizationId userId } ... on Error { message } } }"""
GATEWAYS = "query { gateways { total items { name owner { email } } } }"
CREATE_GATEWAY = """mutation { createGateway(input: {name: "Hook", type: WEBHOOK,
  credentials: {webhook: {url: "https://hooks.example.com/in"}}}) {
  __typename ... on Error { message } } }"""


@pytest.fixture
async def team(harness: Harness) -> dict[str, str]:
    """Org "Acme" with an owner, an admin and a member; plus an outsider. Tokens and user ids."""
    people: dict[str, str] = {}
    for name in ("owner", "admin", "member", "outsider"):
        token = await harness.register(f"{name}@example.com", name.title())
        people[name] = token
        people[f"{name}_id"] = (await harness.gql("{ viewer { id } }", token=token))["viewer"]["id"]
    people["org"] = await harness.create_org(people["owner"], "Acme", "acme")
    for name, role in (("admin", "ADMIN"), ("member", "MEMBER")):
        added = await harness.add_member(
            people["owner"], people["org"], f"{name}@example.com", role
        )
        assert added == {"__typename": "Membership"}
    return people


async def invite(
    h: Harness, token: str, org: str, email: str, role: str = "MEMBER"
) -> dict[str, Any]:
    variables = {"input": {"organizationId": org, "email": email, "role": role}}
    result: dict[str, Any] = (await h.gql(INVITE, variables, token=token))["addOrganizationMember"]
    return result


async def call(h: Harness, document: str, variables: dict[str, Any], token: str) -> Any:
    (value,) = (await h.gql(document, variables, token=token)).values()
    return value


# ---------------------------------------------------------------- inviting


async def test_registered_and_unregistered_emails_are_answered_alike(
    harness: Harness, team: dict[str, str]
) -> None:
    known = await invite(harness, team["owner"], team["org"], "outsider@example.com")
    unknown = await invite(harness, team["owner"], team["org"], "nobody@example.com")

    def shape(result: dict[str, Any]) -> dict[str, Any]:
        return {
            k: v for k, v in result.items() if k not in ("id", "email", "createdAt", "expiresAt")
        }

    assert known["__typename"] == "OrganizationInvitation"
    assert shape(known) == shape(unknown)
    assert known["status"] == "PENDING"
    for result in (known, unknown):  # INVITATION_TTL_DAYS, 7 by default
        lifetime = datetime.fromisoformat(result["expiresAt"]) - datetime.fromisoformat(
            result["createdAt"]
        )
        assert lifetime == timedelta(days=7)
    assert known["invitedByName"] == "Owner"
    assert known["invitedBy"] == {"email": "owner@example.com"}
    assert known["organization"] == {"id": team["org"], "name": "Acme", "slug": "acme"}
    # Not a member before accepting: no scope, no organization in their list.
    refused = await harness.post(GATEWAYS, token=team["outsider"], org=team["org"])
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await harness.gql("{ organizations { id } }", token=team["outsider"])) == {
        "organizations": []
    }


@pytest.mark.parametrize(
    ("caller", "org_key", "email", "role", "typename"),
    [
        ("member", "org", "newcomer@example.com", "MEMBER", "ForbiddenError"),
        ("admin", "org", "newcomer@example.com", "OWNER", "ForbiddenError"),
        ("outsider", "org", "newcomer@example.com", "MEMBER", "NotFoundError"),
        ("outsider", "unknown", "newcomer@example.com", "MEMBER", "NotFoundError"),
        ("owner", "malformed", "newcomer@example.com", "MEMBER", "NotFoundError"),
        ("owner", "org", "not an email", "MEMBER", "ValidationError"),
        ("owner", "org", "Member@Example.com", "ADMIN", "ConflictError"),
    ],
)
async def test_invitation_failures(
    harness: Harness,
    team: dict[str, str],
    caller: str,
    org_key: str,
    email: str,
    role: str,
    typename: str,
) -> None:
    org_id = {"org": team["org"], "unknown": str(uuid7()), "malformed": "not-a-uuid"}[org_key]

    result = await invite(harness, team[caller], org_id, email, role)

    assert result["__typename"] == typename
    assert result["message"]
    listed = await harness.gql(ORG_INVITATIONS, token=team["owner"])
    assert listed["organizations"][0]["invitations"] == []


# ---------------------------------------------------------------- the invitee


async def test_an_invitee_sees_the_invitation_and_joins_by_accepting(
    harness: Harness, team: dict[str, str]
) -> None:
    sent = await invite(harness, team["admin"], team["org"], "later@example.com", "ADMIN")
    later = await harness.register("later@example.com")  # registers after the invitation

    (seen,) = (await harness.gql(MY_INVITATIONS, token=later))["invitations"]
    assert seen == {
        "id": sent["id"],
        "email": "later@example.com",
        "role": "ADMIN",
        "status": "PENDING",
        "invitedByName": "Admin",
        # Nothing of the organization but its name: no people, no emails.
        "invitedBy": None,
        "organization": {
            "id": team["org"],
            "name": "Acme",
            "slug": "acme",
            "viewerRole": "ADMIN",
            "members": [],
            "invitations": [],
        },
    }
    assert (await harness.gql(MY_INVITATIONS, token=team["outsider"]))["invitations"] == []

    accepted = await call(harness, ACCEPT, {"id": sent["id"]}, later)

    assert accepted == {
        "__typename": "Membership",
        "role": "ADMIN",
        "user": {"email": "later@example.com"},
        "organization": {"id": team["org"], "viewerRole": "ADMIN"},
    }
    assert (await harness.gql(MY_INVITATIONS, token=later))["invitations"] == []
    assert (await harness.gql(GATEWAYS, token=later, org=team["org"]))["gateways"]["total"] == 0
    again = await call(harness, ACCEPT, {"id": sent["id"]}, later)
    assert again["__typename"] == "NotFoundError"


async def test_declining_keeps_the_invitee_out(harness: Harness, team: dict[str, str]) -> None:
    sent = await invite(harness, team["owner"], team["org"], "outsider@example.com")

    declined = await call(harness, DECLINE, {"id": sent["id"]}, team["outsider"])

    assert declined == {
        "__typename": "OrganizationInvitation",
        "id": sent["id"],
        "status": "DECLINED",
    }
    accept = await call(harness, ACCEPT, {"id": sent["id"]}, team["outsider"])
    assert accept["__typename"] == "NotFoundError"
    refused = await harness.post(GATEWAYS, token=team["outsider"], org=team["org"])
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("document", [ACCEPT, DECLINE, REVOKE])
async def test_someone_elses_invitation_answers_like_an_unknown_id(
    harness: Harness, team: dict[str, str], document: str
) -> None:
    """The outsider may not accept or decline another person's invitation, nor (as the owner
    of a rival organization) revoke Acme's: all answered like an unknown or malformed id."""
    sent = await invite(harness, team["owner"], team["org"], "invitee@example.com")
    await harness.create_org(team["outsider"], "Rival")

    answers = [
        await call(harness, document, {"id": invitation_id}, team["outsider"])
        for invitation_id in (sent["id"], str(uuid7()), "not-an-id")
    ]

    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["__typename"] == "NotFoundError"
    listed = await harness.gql(ORG_INVITATIONS, token=team["owner"])
    assert [i["id"] for i in listed["organizations"][0]["invitations"]] == [sent["id"]]


# ---------------------------------------------------------------- an organization's invitations


async def test_owners_and_admins_list_and_revoke_invitations(
    harness: Harness, team: dict[str, str]
) -> None:
    to_owner = await invite(harness, team["owner"], team["org"], "boss@example.com", "OWNER")
    to_member = await invite(harness, team["admin"], team["org"], "helper@example.com")

    for who in ("owner", "admin"):
        listed = await harness.gql(ORG_INVITATIONS, token=team[who])
        assert listed["organizations"][0]["invitations"] == [
            {
                "id": to_owner["id"],
                "email": "boss@example.com",
                "invitedBy": {"email": "owner@example.com"},
            },
            {
                "id": to_member["id"],
                "email": "helper@example.com",
                "invitedBy": {"email": "admin@example.com"},
            },
        ]
    as_member = await harness.gql(ORG_INVITATIONS, token=team["member"])
    assert as_member["organizations"][0]["invitations"] == []

    assert (await call(harness, REVOKE, {"id": to_member["id"]}, team["member"]))[
        "__typename"
    ] == "ForbiddenError"
    assert (await call(harness, REVOKE, {"id": to_owner["id"]}, team["admin"]))[
        "__typename"
    ] == "ForbiddenError"
    revoked = await call(harness, REVOKE, {"id": to_member["id"]}, team["admin"])
    assert revoked == {
        "__typename": "OrganizationInvitation",
        "id": to_member["id"],
        "status": "REVOKED",
    }
    listed = await harness.gql(ORG_INVITATIONS, token=team["owner"])
    assert [i["id"] for i in listed["organizations"][0]["invitations"]] == [to_owner["id"]]


async def test_the_organizations_audit_trail_shows_membership_changes(
    harness: Harness, team: dict[str, str]
) -> None:
    sent = await invite(harness, team["owner"], team["org"], "outsider@example.com")
    await call(harness, DECLINE, {"id": sent["id"]}, team["outsider"])
    change = {"organizationId": team["org"], "userId": team["member_id"], "role": "ADMIN"}
    await call(harness, CHANGE_ROLE, {"input": change}, team["owner"])

    trail = await harness.gql(
        "query { auditEvents(first: 50) { action metadata } }",
        token=team["member"],
        org=team["org"],
    )
    actions = [e["action"] for e in trail["auditEvents"]]
    assert actions[:3] == [
        "organization.member_role_change",
        "organization.invitation_decline",
        "organization.invitation_create",
    ]
    assert "outsider@example.com" not in str(trail)
    personal = await harness.gql("query { auditEvents { action } }", token=team["outsider"])
    assert personal["auditEvents"] == []


# ---------------------------------------------------------------- roles and removal


async def test_a_demotion_takes_effect_on_the_next_request(
    harness: Harness, team: dict[str, str]
) -> None:
    assert (await harness.gql(CREATE_GATEWAY, token=team["admin"], org=team["org"]))[
        "createGateway"
    ]["__typename"] == "Gateway"
    change = {"organizationId": team["org"], "userId": team["admin_id"], "role": "MEMBER"}

    changed = await call(harness, CHANGE_ROLE, {"input": change}, team["owner"])

    assert changed == {
        "__typename": "Membership",
        "role": "MEMBER",
        "user": {"email": "admin@example.com"},
    }
    refused = await harness.gql(CREATE_GATEWAY, token=team["admin"], org=team["org"])
    assert refused["createGateway"]["__typename"] == "ForbiddenError"


async def test_a_removal_takes_effect_on_the_next_request(
    harness: Harness, team: dict[str, str]
) -> None:
    assert (await harness.gql(CREATE_GATEWAY, token=team["member"], org=team["org"]))[
        "createGateway"
    ]["__typename"] == "ForbiddenError"
    await harness.gql(CREATE_GATEWAY, token=team["admin"], org=team["org"])
    removal = {"organizationId": team["org"], "userId": team["admin_id"]}

    removed = await call(harness, REMOVE, {"input": removal}, team["owner"])

    assert removed == {"__typename": "RemovedMember", **removal}
    refused = await harness.post(GATEWAYS, token=team["admin"], org=team["org"])
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # The gateway the removed admin created stays the organization's, with its owner shown.
    listed = await harness.gql(GATEWAYS, token=team["member"], org=team["org"])
    assert listed["gateways"]["items"] == [
        {"name": "Hook", "owner": {"email": "admin@example.com"}}
    ]


async def test_the_last_owner_stays(harness: Harness, team: dict[str, str]) -> None:
    leave = {"organizationId": team["org"], "userId": team["owner_id"]}
    demote = {**leave, "role": "ADMIN"}

    assert (await call(harness, REMOVE, {"input": leave}, team["owner"]))[
        "__typename"
    ] == "ConflictError"
    assert (await call(harness, CHANGE_ROLE, {"input": demote}, team["owner"]))[
        "__typename"
    ] == "ConflictError"
    # Once another owner exists, the first may leave.
    promote = {"organizationId": team["org"], "userId": team["admin_id"], "role": "OWNER"}
    assert (await call(harness, CHANGE_ROLE, {"input": promote}, team["owner"]))["role"] == "OWNER"
    left = await call(harness, REMOVE, {"input": leave}, team["owner"])
    assert left["__typename"] == "RemovedMember"
    assert (await harness.gql("{ organizations { id } }", token=team["owner"])) == {
        "organizations": []
    }


@pytest.mark.parametrize(
    ("caller", "target", "role", "typename"),
    [
        ("member", "admin_id", "MEMBER", "ForbiddenError"),
        ("admin", "owner_id", "MEMBER", "ForbiddenError"),
        ("admin", "member_id", "OWNER", "ForbiddenError"),
        ("outsider", "member_id", "ADMIN", "NotFoundError"),
        ("owner", "outsider_id", "ADMIN", "NotFoundError"),
    ],
)
async def test_role_change_and_removal_refusals(
    harness: Harness, team: dict[str, str], caller: str, target: str, role: str, typename: str
) -> None:
    removal = {"organizationId": team["org"], "userId": team[target]}

    changed = await call(harness, CHANGE_ROLE, {"input": {**removal, "role": role}}, team[caller])

    assert changed["__typename"] == typename
    if role != "OWNER":  # the removal counterpart of the same refusal
        removed = await call(harness, REMOVE, {"input": removal}, team[caller])
        assert removed["__typename"] == typename
    members = await harness.gql(
        "{ organizations { members { role user { email } } } }", token=team["owner"]
    )
    assert sorted(
        (m["user"]["email"], m["role"]) for m in members["organizations"][0]["members"]
    ) == [
        ("admin@example.com", "ADMIN"),
        ("member@example.com", "MEMBER"),
        ("owner@example.com", "OWNER"),
    ]


NIL = "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize(
    ("field", "query"),
    [
        ("invitations", "query { invitations { id } }"),
        ("acceptInvitation", f'mutation {{ acceptInvitation(id: "{NIL}") {{ __typename }} }}'),
        ("declineInvitation", f'mutation {{ declineInvitation(id: "{NIL}") {{ __typename }} }}'),
        ("revokeInvitation", f'mutation {{ revokeInvitation(id: "{NIL}") {{ __typename }} }}'),
        (
            "changeMemberRole",
            f'mutation {{ changeMemberRole(input: {{organizationId: "{NIL}", userId: "{NIL}", '
            "role: OWNER}) { __typename } }",
        ),
        (
            "removeMember",
            f'mutation {{ removeMember(input: {{organizationId: "{NIL}", userId: "{NIL}"}}) '
            "{ __typename } }",
        ),
    ],
)
async def test_every_new_operation_needs_a_token(harness: Harness, field: str, query: str) -> None:
    body = await harness.post(query)

    assert body["data"] is None
    assert [(e["extensions"]["code"], e["path"]) for e in body["errors"]] == [
        ("UNAUTHENTICATED", [field])
    ]


async def test_the_invitation_cap_is_a_clear_error(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, str(tmp_path), max_pending_invitations=2)
    async with running_app(settings) as h:
        owner = await h.register("owner@example.com")
        org = await h.create_org(owner, "Acme")
        for i in range(2):
            sent = await invite(h, owner, org, f"spam{i}@example.com")
            assert sent["__typename"] == "OrganizationInvitation"

        refused = await invite(h, owner, org, "spam2@example.com")

        assert refused["__typename"] == "QuotaExceededError"
        assert refused["limit"] == 2
        assert "2 open invitations" in refused["message"]
