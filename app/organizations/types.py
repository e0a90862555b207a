"""GraphQL types of organizations and memberships."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry

from app.auth.types import User
from app.graphql.context import Info
from app.graphql.scalars import InvitationStatus, OrganizationRole
from app.organizations.invitations import Invitation
from app.organizations.members import RemovedMember as RemovedMemberValue
from app.organizations.models import Membership as MembershipRow
from app.organizations.models import Organization as OrganizationRow


@strawberry.type(
    description="invitations: the open ones (pending, unexpired), oldest first, for OWNERs and "
    "ADMINs; empty for anyone else. members: empty for a viewer who is not a member (an invitee)."
)
class Organization:
    id: strawberry.ID
    name: str
    slug: str
    created_at: datetime
    # Known when the caller's role came with the row (organizations query); loaded otherwise.
    known_role: strawberry.Private[OrganizationRole | None] = None

    @classmethod
    def from_row(cls, row: OrganizationRow, role: OrganizationRole | None = None) -> Organization:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            slug=row.slug,
            created_at=row.created_at,
            known_role=role,
        )

    @strawberry.field
    async def viewer_role(self, info: Info) -> OrganizationRole:
        if self.known_role is not None:
            return self.known_role
        membership = await info.context.loaders.roles.load(UUID(self.id))
        # Organizations are only resolved for members, or with the invitation's role as known.
        return membership.role if membership else OrganizationRole.MEMBER

    @strawberry.field
    async def members(self, info: Info) -> list[Membership]:
        rows = await info.context.loaders.members.load(UUID(self.id))
        return [Membership.from_row(m) for m in rows]

    @strawberry.field
    async def invitations(self, info: Info) -> list[OrganizationInvitation]:
        user = info.context.require_user()
        rows = await info.context.services.invitations.pending_of_organization(
            user.id, UUID(self.id)
        )
        now = info.context.services.clock.now()
        return [OrganizationInvitation.of(i, now) for i in rows]


@strawberry.type
class Membership:
    role: OrganizationRole
    created_at: datetime
    user_id: strawberry.Private[UUID]
    organization_id: strawberry.Private[UUID]

    @classmethod
    def from_row(cls, row: MembershipRow) -> Membership:
        return cls(
            role=row.role,
            created_at=row.created_at,
            user_id=row.user_id,
            organization_id=row.organization_id,
        )

    @strawberry.field
    async def user(self, info: Info) -> User:
        row = await info.context.loaders.users.load(self.user_id)
        if row is None:  # cannot happen for a membership the caller may see
            raise LookupError("member not visible")
        return User.from_row(row)

    @strawberry.field
    async def organization(self, info: Info) -> Organization:
        row = await info.context.loaders.organizations.load(self.organization_id)
        if row is None:
            raise LookupError("organization not visible")
        return Organization.from_row(row)


@strawberry.type(
    description="An offer of a role in an organization to an email; the person becomes a member "
    "only by accepting it. invitedBy is visible to viewers who share an organization with the "
    "inviter (null to an invitee, who sees invitedByName). The organization's viewerRole is, for "
    "an invitee, the role offered."
)
class OrganizationInvitation:
    id: strawberry.ID
    organization: Organization = strawberry.field(
        description="To an invitee who is not a member, only id, name and slug say anything: "
        "its members and invitations are empty."
    )
    email: str
    role: OrganizationRole
    status: InvitationStatus = strawberry.field(
        description="EXPIRED when still unanswered past expiresAt."
    )
    invited_by_name: str | None = strawberry.field(
        description="The inviter's display name (null once their account is gone)."
    )
    created_at: datetime
    expires_at: datetime
    invited_by_id: strawberry.Private[UUID | None]

    @classmethod
    def of(
        cls, invitation: Invitation, now: datetime, *, for_invitee: bool = False
    ) -> OrganizationInvitation:
        row = invitation.row
        status = row.status
        if status is InvitationStatus.PENDING and row.expires_at <= now:
            status = InvitationStatus.EXPIRED
        return cls(
            id=strawberry.ID(str(row.id)),
            # The invitee is not a member yet: their "role" there is the one offered.
            organization=Organization.from_row(
                invitation.organization, row.role if for_invitee else None
            ),
            email=row.email,
            role=row.role,
            status=status,
            invited_by_name=invitation.inviter_name,
            created_at=row.created_at,
            expires_at=row.expires_at,
            invited_by_id=row.invited_by_id,
        )

    @strawberry.field
    async def invited_by(self, info: Info) -> User | None:
        if self.invited_by_id is None:
            return None
        row = await info.context.loaders.users.load(self.invited_by_id)
        return User.from_row(row) if row else None


@strawberry.type(description="Who left or was removed from which organization.")
class RemovedMember:
    organization_id: strawberry.ID
    user_id: strawberry.ID

    @classmethod
    def of(cls, value: RemovedMemberValue) -> RemovedMember:
        return cls(
            organization_id=strawberry.ID(str(value.organization_id)),
            user_id=strawberry.ID(str(value.user_id)),
        )


@strawberry.input
class ChangeMemberRoleInput:
    organization_id: strawberry.ID
    user_id: strawberry.ID
    role: OrganizationRole


@strawberry.input
class RemoveMemberInput:
    organization_id: strawberry.ID
    user_id: strawberry.ID


@strawberry.input
class CreateOrganizationInput:
    name: str
    slug: str | None = None


@strawberry.input
class AddOrganizationMemberInput:
    organization_id: strawberry.ID
    email: str
    role: OrganizationRole
