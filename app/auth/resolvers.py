"""Auth resolvers: register, login, logout, viewer."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app import errors as domain
from app.auth.service import IssuedToken
from app.auth.types import AuthPayload, LoginInput, RegisterInput, User
from app.core.client_address import client_host
from app.graphql.context import Info
from app.graphql.errors import (
    ConflictError,
    InvalidCredentialsError,
    RateLimitedError,
    ValidationError,
    to_member,
)
from app.graphql.permissions import require_user

RegisterResult = Annotated[
    AuthPayload | ValidationError | ConflictError, strawberry.union("RegisterResult")
]
LoginResult = Annotated[
    AuthPayload | InvalidCredentialsError | RateLimitedError, strawberry.union("LoginResult")
]


def _payload(issued: IssuedToken) -> AuthPayload:
    return AuthPayload(
        token=issued.token, expires_at=issued.expires_at, user=User.from_row(issued.user)
    )


@strawberry.type
class AuthQuery:
    @strawberry.field(description="Null when the request carries no valid token.")
    def viewer(self, info: Info) -> User | None:
        user = info.context.user
        return User.from_row(user) if user else None


@strawberry.type
class AuthMutation:
    @strawberry.mutation
    async def register(self, info: Info, input: RegisterInput) -> RegisterResult:
        try:
            issued = await info.context.services.auth.register(
                input.email, input.password, input.name
            )
        except (domain.ValidationFailedError, domain.ConflictError) as exc:
            return to_member(exc)  # type: ignore[return-value]
        return _payload(issued)

    @strawberry.mutation
    async def login(self, info: Info, input: LoginInput) -> LoginResult:
        try:
            issued = await info.context.services.auth.login(
                input.email, input.password, client_host=client_host(info.context.request)
            )
        except (domain.InvalidCredentialsError, domain.RateLimitedError) as exc:
            return to_member(exc)  # type: ignore[return-value]
        return _payload(issued)

    @strawberry.mutation(description="Revokes the token that made the call.")
    async def logout(self, info: Info) -> bool:
        require_user(info)
        token_hash = info.context.token_hash
        assert token_hash is not None
        return await info.context.services.auth.logout(token_hash)
