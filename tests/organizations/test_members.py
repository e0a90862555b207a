"""Role changes and removals (app/organizations/members.py): who may, and one OWNER always stays."""

from __future__ import annotations

import asyncio

import pytest

from app.audit.models import AuditEvent
from app.core.ids import uuid7
from app.errors import AppError, ConflictError, ForbiddenError, NotFoundError
from app.organizations import members, service
from app.organizations.members import LAST_OWNER
from app.organizations.models import Membership, OrganizationRole
from tests.organizations.people import new_user, org_with
from tests.support.harness import Harness

OWNER = OrganizationRole.OWNER
ADMIN = OrganizationRole.ADMIN
MEMBER = OrganizationRole.MEMBER


# ---------------------------------------------------------------- change_role


async def test_an_owner_changes_roles_and_it_is_audited(harness: Harness) -> None:
    org, people = await org_with(harness, {"plain": MEMBER})
    target = people["plain"].user_id

    promoted = await members.change_role(people["owner"], org.id, target, OWNER)

    assert promoted.role is OWNER
    assert await service.membership_role(target, org.id) is OWNER
    (event,) = await AuditEvent.filter(action="organization.member_role_change")
    assert (event.organization_id, event.actor_id) == (org.id, people["owner"].user_id)
    assert event.metadata == {"userId": str(target), "from": "MEMBER", "to": "OWNER"}


async def test_an_unchanged_role_is_not_audited(harness: Harness) -> None:
    org, people = await org_with(harness, {"plain": MEMBER})

    same = await members.change_role(people["owner"], org.id, people["plain"].user_id, MEMBER)

    assert same.role is MEMBER
    assert await AuditEvent.filter(action="organization.member_role_change").count() == 0


@pytest.mark.parametrize(
    ("target", "role"),
    [
        ("owner", ADMIN),  # an ADMIN never touches an OWNER
        ("plain", OWNER),  # nor makes one
    ],
)
async def test_an_admin_may_not_reach_above_its_role(
    harness: Harness, target: str, role: OrganizationRole
) -> None:
    org, people = await org_with(harness, {"admin": ADMIN, "plain": MEMBER})
    before = await service.membership_role(people[target].user_id, org.id)

    with pytest.raises(ForbiddenError):
        await members.change_role(people["admin"], org.id, people[target].user_id, role)

    assert await service.membership_role(people[target].user_id, org.id) is before


async def test_an_admin_changes_admins_and_members(harness: Harness) -> None:
    org, people = await org_with(harness, {"admin": ADMIN, "plain": MEMBER, "other": ADMIN})

    await members.change_role(people["admin"], org.id, people["plain"].user_id, ADMIN)
    await members.change_role(people["admin"], org.id, people["other"].user_id, MEMBER)

    assert await service.membership_role(people["plain"].user_id, org.id) is ADMIN
    assert await service.membership_role(people["other"].user_id, org.id) is MEMBER


async def test_a_member_changes_nobody(harness: Harness) -> None:
    org, people = await org_with(harness, {"plain": MEMBER, "other": MEMBER})

    with pytest.raises(ForbiddenError):
        await members.change_role(people["plain"], org.id, people["other"].user_id, MEMBER)
    with pytest.raises(ForbiddenError):
        await members.change_role(people["plain"], org.id, people["plain"].user_id, ADMIN)


async def test_the_last_owner_cannot_be_demoted(harness: Harness) -> None:
    org, people = await org_with(harness, {"second": OWNER})
    owner = people["owner"]

    await members.change_role(owner, org.id, people["second"].user_id, ADMIN)
    with pytest.raises(ConflictError) as info:
        await members.change_role(owner, org.id, owner.user_id, ADMIN)

    assert info.value.message == LAST_OWNER
    assert await service.membership_role(owner.user_id, org.id) is OWNER


async def test_unknown_organizations_and_members_are_not_found(harness: Harness) -> None:
    org, people = await org_with(harness, {})
    outsider = await new_user(harness, "outsider@example.com")
    owner = people["owner"]

    with pytest.raises(NotFoundError) as foreign:
        await members.change_role(outsider, org.id, owner.user_id, MEMBER)
    with pytest.raises(NotFoundError) as unknown:
        await members.change_role(outsider, uuid7(), owner.user_id, MEMBER)
    with pytest.raises(NotFoundError):
        await members.change_role(owner, org.id, outsider.user_id, MEMBER)  # not a member
    with pytest.raises(NotFoundError):
        await members.remove_member(owner, org.id, None)

    assert foreign.value.message == unknown.value.message
    assert await service.membership_role(owner.user_id, org.id) is OWNER


# ---------------------------------------------------------------- remove_member


async def test_an_owner_removes_a_member_and_it_is_audited(harness: Harness) -> None:
    org, people = await org_with(harness, {"admin": ADMIN})
    target = people["admin"].user_id

    removed = await members.remove_member(people["owner"], org.id, target)

    assert (removed.organization_id, removed.user_id) == (org.id, target)
    assert await service.membership_role(target, org.id) is None
    assert await service.organizations_of(target) == []
    (event,) = await AuditEvent.filter(action="organization.member_remove")
    assert (event.organization_id, event.actor_id) == (org.id, people["owner"].user_id)
    assert event.metadata == {"userId": str(target), "role": "ADMIN"}


async def test_removal_rules_by_role(harness: Harness) -> None:
    org, people = await org_with(
        harness, {"admin": ADMIN, "admin2": ADMIN, "plain": MEMBER, "plain2": MEMBER}
    )

    with pytest.raises(ForbiddenError):
        await members.remove_member(people["plain"], org.id, people["plain2"].user_id)
    with pytest.raises(ForbiddenError):
        await members.remove_member(people["admin"], org.id, people["owner"].user_id)
    await members.remove_member(people["admin"], org.id, people["admin2"].user_id)
    await members.remove_member(people["admin"], org.id, people["plain2"].user_id)

    remaining = await Membership.filter(organization_id=org.id).values_list("role", flat=True)
    assert sorted(str(r) for r in remaining) == ["ADMIN", "MEMBER", "OWNER"]


async def test_anyone_may_leave_but_the_last_owner(harness: Harness) -> None:
    org, people = await org_with(harness, {"plain": MEMBER})

    await members.remove_member(people["plain"], org.id, people["plain"].user_id)
    with pytest.raises(ConflictError) as info:
        await members.remove_member(people["owner"], org.id, people["owner"].user_id)

    assert info.value.message == LAST_OWNER
    assert await service.membership_role(people["plain"].user_id, org.id) is None
    assert await service.membership_role(people["owner"].user_id, org.id) is OWNER
    (event,) = await AuditEvent.filter(action="organization.member_leave")
    assert event.actor_id == people["plain"].user_id


# ---------------------------------------------------------------- the race on the last owners


@pytest.mark.parametrize("how", ["demote", "remove"])
async def test_two_owners_racing_to_step_down_leave_one_owner(
    any_harness: Harness, how: str
) -> None:
    """Both owners step down (or remove each other) at the same moment. Without the lock on the
    organization's row both transactions count two owners and both commit: zero owners."""
    org, people = await org_with(any_harness, {"second": OWNER})
    first, second = people["owner"], people["second"]

    async def step_down(actor_id: int) -> None:
        actor, other = (first, second) if actor_id == 0 else (second, first)
        if how == "demote":
            await members.change_role(actor, org.id, actor.user_id, MEMBER)
        else:
            await members.remove_member(actor, org.id, other.user_id)

    for _ in range(5):
        results = await asyncio.gather(step_down(0), step_down(1), return_exceptions=True)
        owners = await Membership.filter(organization_id=org.id, role=OWNER).count()
        assert owners == 1, results
        errors = [r for r in results if isinstance(r, AppError)]
        # Demoting: the later one finds itself the last owner. Removing: the later one was
        # removed by the first, and is no longer a member at all.
        loser = ConflictError if how == "demote" else NotFoundError
        assert [type(e) for e in errors] == [loser], results
        # Put the second owner back for the next round.
        survivor = await Membership.get(organization_id=org.id, role=OWNER)
        other = second if survivor.user_id == first.user_id else first
        survivor_ctx = first if survivor.user_id == first.user_id else second
        if await service.membership_role(other.user_id, org.id) is None:
            await Membership.create(user_id=other.user_id, organization_id=org.id, role=OWNER)
        else:
            await members.change_role(survivor_ctx, org.id, other.user_id, OWNER)
