"""Organization resolvers: organizations, invitations and memberships."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app import errors as domain
from app.core.ids import parse_uuid
from app.graphql.context import Info
from app.graphql.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    QuotaExceededError,
    RateLimitedError,
    ValidationError,
    to_member,
)
from app.graphql.permissions import require_user, require_user_context
from app.organizations import members, service
from app.organizations.models import OrganizationRole
from app.organizations.types import (
    AddOrganizationMemberInput,
    ChangeMemberRoleInput,
    CreateOrganizationInput,
    Membership,
    Organization,
    OrganizationInvitation,
    RemovedMember,
    RemoveMemberInput,
)

CreateOrganizationResult = Annotated[
    Organization | ValidationError | ConflictError, strawberry.union("CreateOrganizationResult")
]
# Membership stays a member for compatibility; the server answers with an invitation now.
AddOrganizationMemberResult = Annotated[
    Membership
    | OrganizationInvitation
    | ValidationError
    | NotFoundError
    | ForbiddenError
    | ConflictError
    | QuotaExceededError
    | RateLimitedError,
    strawberry.union("AddOrganizationMemberResult"),
]
AcceptInvitationResult = Annotated[
    Membership | NotFoundError | ConflictError, strawberry.union("AcceptInvitationResult")
]
DeclineInvitationResult = Annotated[
    OrganizationInvitation | NotFoundError, strawberry.union("DeclineInvitationResult")
]
RevokeInvitationResult = Annotated[
    OrganizationInvitation | NotFoundError | ForbiddenError,
    strawberry.union("RevokeInvitationResult"),
]
ChangeMemberRoleResult = Annotated[
    Membership | NotFoundError | ForbiddenError | ConflictError,
    strawberry.union("ChangeMemberRoleResult"),
]
RemoveMemberResult = Annotated[
    RemovedMember | NotFoundError | ForbiddenError | ConflictError,
    strawberry.union("RemoveMemberResult"),
]


@strawberry.type
class OrganizationQuery:
    @strawberry.field
    async def organizations(self, info: Info) -> list[Organization]:
        user = require_user(info)
        rows = await service.organizations_of(user.id)
        return [Organization.from_row(org, role) for org, role in rows]

    @strawberry.field(
        description="The viewer's own open invitations (pending, unexpired), by the viewer's "
        "email: one sent before the viewer registered appears too."
    )
    async def invitations(self, info: Info) -> list[OrganizationInvitation]:
        user = require_user(info)
        services = info.context.services
        rows = await services.invitations.pending_for(user.email)
        now = services.clock.now()
        return [OrganizationInvitation.of(i, now, for_invitee=True) for i in rows]


@strawberry.type
class OrganizationMutation:
    @strawberry.mutation
    async def create_organization(
        self, info: Info, input: CreateOrganizationInput
    ) -> CreateOrganizationResult:
        ctx = require_user_context(info)
        try:
            org = await service.create_organization(ctx, input.name, input.slug)
        except (domain.ValidationFailedError, domain.ConflictError) as exc:
            return to_member(exc)  # type: ignore[return-value]
        return Organization.from_row(org, OrganizationRole.OWNER)

    @strawberry.mutation(
        description="Invites an email (registered or not: the answer is the same) with a role "
        "up to the caller's own. The person becomes a member only by accepting."
    )
    async def add_organization_member(
        self, info: Info, input: AddOrganizationMemberInput
    ) -> AddOrganizationMemberResult:
        ctx = require_user_context(info)
        services = info.context.services
        try:
            invitation = await services.invitations.invite(
                ctx, parse_uuid(input.organization_id), input.email, input.role
            )
        except (
            domain.ValidationFailedError,
            domain.NotFoundError,
            domain.ForbiddenError,
            domain.ConflictError,
            domain.QuotaExceededError,
            domain.RateLimitedError,
        ) as exc:
            return to_member(exc)  # type: ignore[return-value]
        return OrganizationInvitation.of(invitation, services.clock.now())

    @strawberry.mutation(description="Joins the organization with the invitation's role.")
    async def accept_invitation(self, info: Info, id: strawberry.ID) -> AcceptInvitationResult:
        ctx = require_user_context(info)
        user = require_user(info)
        try:
            membership = await info.context.services.invitations.accept(
                ctx, user.email, parse_uuid(id)
            )
        except (domain.NotFoundError, domain.ConflictError) as exc:
            return to_member(exc)  # type: ignore[return-value]
        return Membership.from_row(membership)

    @strawberry.mutation
    async def decline_invitation(self, info: Info, id: strawberry.ID) -> DeclineInvitationResult:
        ctx = require_user_context(info)
        user = require_user(info)
        services = info.context.services
        try:
            invitation = await services.invitations.decline(ctx, user.email, parse_uuid(id))
        except domain.NotFoundError as exc:
            return to_member(exc)  # type: ignore[return-value]
        return OrganizationInvitation.of(invitation, services.clock.now(), for_invitee=True)

    @strawberry.mutation(
        description="OWNERs revoke any open invitation, ADMINs those offering ADMIN or MEMBER."
    )
    async def revoke_invitation(self, info: Info, id: strawberry.ID) -> RevokeInvitationResult:
        ctx = require_user_context(info)
        services = info.context.services
        try:
            invitation = await services.invitations.revoke(ctx, parse_uuid(id))
        except (domain.NotFoundError, domain.ForbiddenError) as exc:
            return to_member(exc)  # type: ignore[return-value]
        return OrganizationInvitation.of(invitation, services.clock.now())

    @strawberry.mutation(
        description="OWNERs change anyone's role; ADMINs only between ADMIN and MEMBER. The last "
        "OWNER cannot be demoted (ConflictError)."
    )
    async def change_member_role(
        self, info: Info, input: ChangeMemberRoleInput
    ) -> ChangeMemberRoleResult:
        ctx = require_user_context(info)
        try:
            membership = await members.change_role(
                ctx, parse_uuid(input.organization_id), parse_uuid(input.user_id), input.role
            )
        except (domain.NotFoundError, domain.ForbiddenError, domain.ConflictError) as exc:
            return to_member(exc)  # type: ignore[return-value]
        return Membership.from_row(membership)

    @strawberry.mutation(
        description="Removes a member, or the caller themself (leaving). OWNERs remove anyone, "
        "ADMINs ADMINs and MEMBERs; the last OWNER cannot leave (ConflictError)."
    )
    async def remove_member(self, info: Info, input: RemoveMemberInput) -> RemoveMemberResult:
        ctx = require_user_context(info)
        try:
            removed = await members.remove_member(
                ctx, parse_uuid(input.organization_id), parse_uuid(input.user_id)
            )
        except (domain.NotFoundError, domain.ForbiddenError, domain.ConflictError) as exc:
            return to_member(exc)  # type: ignore[return-value]
        return RemovedMember.of(removed)
