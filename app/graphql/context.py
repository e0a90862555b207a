"""The per-request GraphQL context: who is calling, in which scope, with which loaders."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from app.auth.models import User
from app.errors import AuthError, ScopeForbiddenError, UnauthenticatedError
from app.organizations.models import OrganizationRole
from app.service_context import ServiceContext

REAUTH_INTERVAL = 30.0

if TYPE_CHECKING:
    from app.container import Services
    from app.graphql.loaders import Loaders


class TokenState(enum.Enum):
    LIVE = "live"
    ENDED = "ended"  # revoked, expired, or never given
    RECHECK = "recheck"  # ask the database (AuthService.live_until), then note_token_checked


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    services: Services
    user: User | None = None
    token_hash: str | None = None
    organization_id: UUID | None = None
    role: OrganizationRole | None = None
    # Set when the request named an organization it may not use; raised lazily, so operations
    # that need no scope (viewer, login) still work.
    scope_error: AuthError | None = None
    request_id: str | None = None
    # graphql-transport-ws `connection_init` payload; strawberry fills it before on_ws_connect.
    connection_params: dict[str, object] | None = None
    _loaders: Loaders | None = field(default=None, repr=False)
    _live_until: datetime | None = field(default=None, repr=False)
    _auth_checked_at: float | None = field(default=None, repr=False)

    def require_user(self) -> User:
        if self.user is None:
            raise UnauthenticatedError()
        return self.user

    @cached_property
    def _service_context(self) -> ServiceContext | AuthError:
        if self.user is None:
            return UnauthenticatedError()
        if self.scope_error is not None:
            return self.scope_error
        return self._context_for(self.user, self.organization_id, self.role)

    def _context_for(
        self, user: User, organization_id: UUID | None, role: OrganizationRole | None
    ) -> ServiceContext:
        client = self.request.client
        return ServiceContext(
            user_id=user.id,
            organization_id=organization_id,
            role=role or OrganizationRole.OWNER,
            ip_address=client.host if client else None,
            user_agent=self.request.headers.get("user-agent"),
            request_id=self.request_id,
        )

    def user_context(self) -> ServiceContext:
        """The caller acting as themselves, whatever organization the request named (for
        managing organizations, which is not scoped by the organization header)."""
        return self._context_for(self.require_user(), None, None)

    def service_context(self) -> ServiceContext:
        """The tenant-scoped context for service calls; raises the auth error otherwise."""
        ctx = self._service_context
        if isinstance(ctx, AuthError):
            raise ctx
        return ctx

    def rescope(self, role: OrganizationRole | None) -> None:
        """The caller's membership in the organization scope changed since the socket opened:
        the new role, or None when they are no longer a member (later operations are refused)."""
        if role is None:
            self.scope_error = ScopeForbiddenError(
                "You are no longer a member of this organization."
            )
        else:
            self.role = role
        self.__dict__.pop("_service_context", None)  # the cached_property, built again
        self._loaders = None

    def note_token_checked(self, live_until: datetime | None) -> None:
        """The token was just looked up: live until `live_until`, or no longer (None). The next
        database re-check is REAUTH_INTERVAL away (sockets opened at different times then
        re-check at different times, not all at once)."""
        self._live_until = live_until
        self._auth_checked_at = self.services.clock.monotonic()

    def token_state(self) -> TokenState:
        """For long-lived sockets: is the token that opened them still live?

        Answered without the database for REAUTH_INTERVAL seconds after each check (RECHECK
        once they have passed), so a logout or an expiry ends a subscription promptly without a
        query per delivered event.
        """
        if self.token_hash is None or self._live_until is None or self._auth_checked_at is None:
            return TokenState.ENDED
        clock = self.services.clock
        if clock.now() >= self._live_until:
            return TokenState.ENDED
        if clock.monotonic() - self._auth_checked_at >= REAUTH_INTERVAL:
            return TokenState.RECHECK
        return TokenState.LIVE

    def for_event(self) -> Context:
        """A copy with fresh loaders, for executing one subscription event: nested fields read
        the current state, and the connection's other operations keep their own loaders."""
        return replace(self, _loaders=None)

    def reset_loaders(self) -> None:
        """Forget cached rows: a subscription starts each event with fresh loaders."""
        self._loaders = None

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            from app.graphql.loaders import Loaders

            self._loaders = Loaders(self.require_user().id, self.service_context)
        return self._loaders


Info = StrawberryInfo[Context, None]

__all__ = ["Context", "Info", "ScopeForbiddenError"]
