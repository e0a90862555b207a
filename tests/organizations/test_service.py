"""Organizations and memberships (app/organizations/service.py): roles, slugs, conflicts."""

from __future__ import annotations

from uuid import UUID

import pytest

from app.audit.models import AuditEvent
from app.errors import ConflictError, ValidationFailedError
from app.organizations import service
from app.organizations.errors import slugify
from app.organizations.models import Membership, Organization, OrganizationRole
from tests.organizations.people import join, new_user, org_with
from tests.support.harness import Harness

OWNER = OrganizationRole.OWNER
ADMIN = OrganizationRole.ADMIN
MEMBER = OrganizationRole.MEMBER


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


# ---------------------------------------------------------------- lists


async def test_organizations_of_lists_memberships_with_roles(harness: Harness) -> None:
    alice = await new_user(harness, "alice@example.com")
    bob = await new_user(harness, "bob@example.com")
    await service.create_organization(alice, "First", None)
    second = await service.create_organization(bob, "Second", None)
    await join(harness, bob, second.id, "alice@example.com", ADMIN, alice)
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
