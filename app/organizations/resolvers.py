"""Organization resolvers."""

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
    ValidationError,
    to_member,
)
from app.graphql.permissions import require_user, require_user_context
from app.organizations import service
from app.organizations.models import OrganizationRole
from app.organizations.types import (
    AddOrganizationMemberInput,
    CreateOrganizationInput,
    Membership,
    Organization,
)

CreateOrganizationResult = Annotated[
    Organization | ValidationError | ConflictError, strawberry.union("CreateOrganizationResult")
]
AddOrganizationMemberResult = Annotated[
    Membership | ValidationError | NotFoundError | ForbiddenError | ConflictError,
    strawberry.union("AddOrganizationMemberResult"),
]


@strawberry.type
class OrganizationQuery:
    @strawberry.field
    async def organizations(self, info: Info) -> list[Organization]:
        user = require_user(info)
        rows = await service.organizations_of(user.id)
        return [Organization.from_row(org, role) for org, role in rows]


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

    @strawberry.mutation
    async def add_organization_member(
        self, info: Info, input: AddOrganizationMemberInput
    ) -> AddOrganizationMemberResult:
        ctx = require_user_context(info)
        try:
            membership = await service.add_member(
                ctx, parse_uuid(input.organization_id), input.email, input.role
            )
        except (
            domain.ValidationFailedError,
            domain.NotFoundError,
            domain.ForbiddenError,
            domain.ConflictError,
        ) as exc:
            return to_member(exc)  # type: ignore[return-value]
        return Membership.from_row(membership)
