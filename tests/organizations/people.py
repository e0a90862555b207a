"""Service-level helpers: people with accounts, and organizations they joined by invitation."""

from __future__ import annotations

from uuid import UUID

from app.organizations import service
from app.organizations.models import Membership, Organization, OrganizationRole
from app.service_context import ServiceContext
from tests.support.harness import Harness


async def new_user(harness: Harness, email: str) -> ServiceContext:
    issued = await harness.services.auth.register(email, "correct horse battery", email[:3])
    return ServiceContext(user_id=issued.user.id)


async def join(
    harness: Harness,
    inviter: ServiceContext,
    organization_id: UUID,
    email: str,
    role: OrganizationRole,
    invitee: ServiceContext,
) -> Membership:
    """Invite `email` and accept as `invitee`: the way anyone joins an organization."""
    invitations = harness.services.invitations
    invitation = await invitations.invite(inviter, organization_id, email, role)
    return await invitations.accept(invitee, email, invitation.row.id)


async def org_with(
    harness: Harness, roles: dict[str, OrganizationRole]
) -> tuple[Organization, dict[str, ServiceContext]]:
    """An organization created by `owner@example.com` with the given extra members."""
    owner = await new_user(harness, "owner@example.com")
    org = await service.create_organization(owner, "Acme", None)
    people = {"owner": owner}
    for name, role in roles.items():
        people[name] = await new_user(harness, f"{name}@example.com")
        await join(harness, owner, org.id, f"{name}@example.com", role, people[name])
    return org, people
