"""Who is acting, in which tenant scope, from where: the first argument of every service call."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from app.errors import ForbiddenError
from app.organizations.models import OrganizationRole


@dataclass(frozen=True, slots=True)
class ServiceContext:
    user_id: UUID
    # None = the user's personal scope, where the user is in effect the owner.
    organization_id: UUID | None = None
    role: OrganizationRole = OrganizationRole.OWNER
    ip_address: str | None = None
    user_agent: str | None = None
    request_id: str | None = None

    @property
    def can_write(self) -> bool:
        return self.role.can_write

    def require_write(self, what: str = "change gateways") -> None:
        if not self.can_write:
            raise ForbiddenError(f"Your role ({self.role.value}) may not {what} here.")
