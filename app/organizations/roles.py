"""Role rules shared by invitations and membership changes."""

from __future__ import annotations

from uuid import UUID

from app.organizations.models import Organization, OrganizationRole

_RANK = {OrganizationRole.MEMBER: 0, OrganizationRole.ADMIN: 1, OrganizationRole.OWNER: 2}


def can_grant(granter: OrganizationRole, role: OrganizationRole) -> bool:
    """A role grants (invites to, promotes to, revokes or removes) up to its own, no higher."""
    return _RANK[role] <= _RANK[granter]


async def lock_organization(organization_id: UUID) -> Organization | None:
    """Lock the organization's row until the surrounding transaction ends.

    Every change to who belongs to an organization with which role takes this lock first, so
    checks such as "one OWNER remains" or "fewer than N open invitations" hold for the write that
    follows them, even when two requests race (two owners demoting each other). NO KEY UPDATE,
    like the gateway quota check: it does not block inserts that merely reference the row.
    SQLite has no row locks; its single writer serialises these transactions instead.
    """
    org: Organization | None = await Organization.select_for_update(no_key=True).get_or_none(
        id=organization_id
    )
    return org
