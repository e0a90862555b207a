"""GraphQL types of organizations and memberships."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry

from app.auth.types import User
from app.graphql.context import Info
from app.graphql.scalars import OrganizationRole
from app.organizations.models import Membership as MembershipRow
from app.organizations.models import Organization as OrganizationRow


@strawberry.type
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
        # Organizations are only ever resolved for members, so the membership exists.
        return membership.role if membership else OrganizationRole.MEMBER

    @strawberry.field
    async def members(self, info: Info) -> list[Membership]:
        rows = await info.context.loaders.members.load(UUID(self.id))
        return [Membership.from_row(m) for m in rows]


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


@strawberry.input
class CreateOrganizationInput:
    name: str
    slug: str | None = None


@strawberry.input
class AddOrganizationMemberInput:
    organization_id: strawberry.ID
    email: str
    role: OrganizationRole
