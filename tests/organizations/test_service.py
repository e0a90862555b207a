"""Organizations and memberships (app/organizations/service.py): roles, slugs, conflicts."""

from __future__ import annotations

from uuid import UUID

import pytest

from app.audit.models import AuditEvent
from app.core.ids import uuid7
from app.errors import ConflictError, ForbiddenError, NotFoundError, ValidationFailedError
from app.organizations import service
from app.organizations.errors import slugify
from app.organizations.models import Membership, Organization, OrganizationRole
from app.service_context import ServiceContext
from tests.support.harness import Harness

OWNER = OrganizationRole.OWNER
ADMIN = OrganizationRole.ADMIN
MEMBER = OrganizationRole.MEMBER


async def new_user(harness: Harness, email: str) -> ServiceContext:
    issued = await harness.services.auth.register(email, "correct horse battery", email[:3])
    return ServiceContext(user_id=issued.user.id)


async def org_with(
    harness: Harness, roles: dict[str, OrganizationRole]
) -> tuple[Organization, dict[str, ServiceContext]]:
    """An organization created by `owner@example.com` with the given extra members."""
    owner = await new_user(harness, "owner@example.com")
    org = await service.create_organization(owner, "Acme", None)
    people = {"owner": owner}
    for name, role in roles.items():
        people[name] = await new_user(harness, f"{name}@example.com")
        await service.add_member(owner, org.id, f"{name}@example.com", role)
    return org, people


# ---------------------------------------------------------------- create_organization


async def test_the_creator_becomes_owner(harness: Harness) -> None:
    ctx = await new_user(harness, "founder@example.com")

    org = await service.create_organization(ctx, "  Acme Robotics  ", None)

    assert org.name == "Acme Robotics"
    assert org.slug == "acme-robotics"
    assert await service.membership_role(ctx.user_id, org.id) is OWNER
    assert await Membership.filter(organization_id=org.id).count() == 1
    event = await AuditEvent.get(action="organization.create")
    assert event.organization_id == org.id
    assert event.actor_id == ctx.user_id
    assert event.metadata == {"name": "Acme Robotics", "slug": "acme-robotics"}


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Acme Robotics, Inc.", "acme-robotics-inc"),
        ("Café Zürich", "cafe-zurich"),
        ("  --Hello   World--  ", "hello-world"),
        ("ABC", "abc"),
        ("x" * 100, "x" * 64),
        ("a " * 40, ("a-" * 32).strip("-")),
    ],
)
async def test_the_slug_is_derived_from_the_name(harness: Harness, name: str, slug: str) -> None:
    ctx = await new_user(harness, "deriver@example.com")

    org = await service.create_organization(ctx, name, None)

    assert org.slug == slug
    assert slugify(name) == slug


async def test_an_explicit_slug_is_trimmed_and_lower_cased(harness: Harness) -> None:
    ctx = await new_user(harness, "explicit@example.com")

    org = await service.create_organization(ctx, "Acme", "  ACME-HQ ")

    assert org.slug == "acme-hq"


@pytest.mark.parametrize(
    "slug",
    ["ab", "-acme", "acme-", "acme_hq", "acme hq", "acmé", "a" * 65, "acme.hq"],
)
async def test_an_invalid_explicit_slug_is_refused(harness: Harness, slug: str) -> None:
    ctx = await new_user(harness, "badslug@example.com")

    with pytest.raises(ValidationFailedError) as info:
        await service.create_organization(ctx, "Acme", slug)

    assert [i.field for i in info.value.issues] == ["slug"]
    assert await Organization.all().count() == 0


@pytest.mark.parametrize(
    ("name", "fields"),
    [("", ["name"]), ("   ", ["name"]), ("n" * 101, ["name"])],
)
async def test_an_invalid_name_is_refused(harness: Harness, name: str, fields: list[str]) -> None:
    ctx = await new_user(harness, "badname@example.com")

    with pytest.raises(ValidationFailedError) as info:
        await service.create_organization(ctx, name, None)

    assert [i.field for i in info.value.issues] == fields
    assert await Organization.all().count() == 0
    assert await Membership.all().count() == 0


async def test_a_name_without_ascii_gets_a_generated_slug(harness: Harness) -> None:
    ctx = await new_user(harness, "nihon@example.com")

    org = await service.create_organization(ctx, "日本", None)

    assert org.name == "日本"
    assert org.slug.startswith("org-")
    assert len(org.slug) == len("org-") + 8


async def test_a_duplicate_slug_is_a_conflict_and_leaves_nothing_behind(
    any_harness: Harness,
) -> None:
    first = await new_user(any_harness, "first@example.com")
    second = await new_user(any_harness, "second@example.com")
    await service.create_organization(first, "Acme", None)

    with pytest.raises(ConflictError) as info:
        await service.create_organization(second, "Another Acme", "acme")

    assert "acme" in info.value.message
    assert await Organization.all().count() == 1
    assert await Membership.filter(user_id=second.user_id).count() == 0
    assert await AuditEvent.filter(action="organization.create").count() == 1


# ---------------------------------------------------------------- add_member


@pytest.mark.parametrize(
    ("caller", "added"),
    [
        (OWNER, OWNER),
        (OWNER, ADMIN),
        (OWNER, MEMBER),
        (ADMIN, ADMIN),
        (ADMIN, MEMBER),
    ],
)
async def test_owners_and_admins_add_members(
    harness: Harness, caller: OrganizationRole, added: OrganizationRole
) -> None:
    org, people = await org_with(harness, {"caller": caller} if caller is not OWNER else {})
    ctx = people.get("caller", people["owner"])
    newcomer = await new_user(harness, "newcomer@example.com")

    membership = await service.add_member(ctx, org.id, "  NewComer@Example.com ", added)

    assert membership.user_id == newcomer.user_id
    assert membership.organization_id == org.id
    assert membership.role is added
    assert await service.membership_role(newcomer.user_id, org.id) is added
    event = await AuditEvent.filter(action="organization.member_add").order_by("-created_at")
    assert event[0].organization_id == org.id
    assert event[0].actor_id == ctx.user_id
    assert event[0].metadata == {"userId": str(newcomer.user_id), "role": added.value}


async def test_a_member_may_not_add_anyone(harness: Harness) -> None:
    org, people = await org_with(harness, {"plain": MEMBER})
    await new_user(harness, "newcomer@example.com")

    with pytest.raises(ForbiddenError):
        await service.add_member(people["plain"], org.id, "newcomer@example.com", MEMBER)
    # Refused before the email is looked up: a MEMBER cannot probe which emails exist.
    with pytest.raises(ForbiddenError):
        await service.add_member(people["plain"], org.id, "nobody@example.com", MEMBER)
    assert await Membership.filter(organization_id=org.id).count() == 2


async def test_an_admin_may_not_add_an_owner(harness: Harness) -> None:
    org, people = await org_with(harness, {"admin": ADMIN})
    newcomer = await new_user(harness, "newcomer@example.com")

    with pytest.raises(ForbiddenError) as info:
        await service.add_member(people["admin"], org.id, "newcomer@example.com", OWNER)

    assert "owner" in info.value.message.lower()
    assert await service.membership_role(newcomer.user_id, org.id) is None


async def test_a_non_member_gets_not_found(harness: Harness) -> None:
    org, _ = await org_with(harness, {})
    outsider = await new_user(harness, "outsider@example.com")
    await new_user(harness, "newcomer@example.com")

    with pytest.raises(NotFoundError) as known_org:
        await service.add_member(outsider, org.id, "newcomer@example.com", MEMBER)
    with pytest.raises(NotFoundError) as unknown_org:
        await service.add_member(outsider, uuid7(), "newcomer@example.com", MEMBER)
    with pytest.raises(NotFoundError) as no_org:
        await service.add_member(outsider, None, "newcomer@example.com", MEMBER)

    # The same answer whether or not the organization exists.
    assert known_org.value.message == unknown_org.value.message == no_org.value.message
    assert await Membership.filter(organization_id=org.id).count() == 1


async def test_an_unknown_email_is_not_found(harness: Harness) -> None:
    org, people = await org_with(harness, {})

    with pytest.raises(NotFoundError) as info:
        await service.add_member(people["owner"], org.id, "nobody@example.com", MEMBER)

    assert "email" in info.value.message


async def test_adding_a_member_twice_is_a_conflict(any_harness: Harness) -> None:
    org, people = await org_with(any_harness, {"twice": MEMBER})

    with pytest.raises(ConflictError):
        await service.add_member(people["owner"], org.id, "TWICE@example.com", ADMIN)

    # The existing membership keeps its role.
    assert await service.membership_role(people["twice"].user_id, org.id) is MEMBER
    assert await Membership.filter(organization_id=org.id).count() == 2


# ---------------------------------------------------------------- lists


async def test_organizations_of_lists_memberships_with_roles(harness: Harness) -> None:
    alice = await new_user(harness, "alice@example.com")
    bob = await new_user(harness, "bob@example.com")
    await service.create_organization(alice, "First", None)
    second = await service.create_organization(bob, "Second", None)
    await service.add_member(bob, second.id, "alice@example.com", ADMIN)
    await service.create_organization(bob, "Bobs Only", None)

    rows = await service.organizations_of(alice.user_id)

    assert [(org.slug, role) for org, role in rows] == [("first", OWNER), ("second", ADMIN)]


async def test_organizations_of_a_user_without_any(harness: Harness) -> None:
    loner = await new_user(harness, "loner@example.com")

    assert await service.organizations_of(loner.user_id) == []


async def test_members_of_is_visible_to_members_only(harness: Harness) -> None:
    org, people = await org_with(harness, {"admin": ADMIN, "plain": MEMBER})
    outsider = await new_user(harness, "outsider@example.com")

    members = await service.members_of(people["plain"].user_id, org.id)

    assert [(m.user_id, m.role) for m in members] == [
        (people["owner"].user_id, OWNER),
        (people["admin"].user_id, ADMIN),
        (people["plain"].user_id, MEMBER),
    ]
    assert await service.members_of(outsider.user_id, org.id) == []


async def test_membership_role_of_a_stranger_is_none(harness: Harness) -> None:
    org, _ = await org_with(harness, {})
    stranger = await new_user(harness, "stranger@example.com")

    assert await service.membership_role(stranger.user_id, org.id) is None
    assert await service.membership_role(stranger.user_id, UUID(int=0)) is None
