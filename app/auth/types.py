"""GraphQL types of the auth domain."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from app.auth.models import User as UserRow
from app.graphql.context import Info

if TYPE_CHECKING:
    from app.organizations.types import Membership


@strawberry.type
class User:
    id: strawberry.ID
    email: str
    name: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: UserRow) -> User:
        return cls(
            id=strawberry.ID(str(row.id)), email=row.email, name=row.name, created_at=row.created_at
        )

    @strawberry.field
    async def memberships(
        self, info: Info
    ) -> list[Annotated[Membership, strawberry.lazy("app.organizations.types")]]:
        from uuid import UUID

        from app.organizations.types import Membership

        rows = await info.context.loaders.memberships_of_user.load(UUID(self.id))
        return [Membership.from_row(m) for m in rows]


@strawberry.type
class AuthPayload:
    token: str = strawberry.field(
        description="Opaque bearer token; only its hash is stored by the server."
    )
    expires_at: datetime
    user: User


@strawberry.input
class RegisterInput:
    email: str
    password: str
    name: str


@strawberry.input
class LoginInput:
    email: str
    password: str
