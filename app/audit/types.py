"""GraphQL type of an audit event."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from app.audit.models import AuditEvent as AuditEventRow
from app.auth.types import User
from app.graphql.context import Info


@strawberry.type
class AuditEvent:
    id: strawberry.ID
    action: str = strawberry.field(
        description="e.g. gateway.create, gateway.update, gateway.delete, gateway.status_change, "
        "gateway.test, gateway.connect, organization.invitation_create, "
        "organization.invitation_accept, organization.invitation_decline, "
        "organization.invitation_revoke, organization.member_role_change, "
        "organization.member_remove, organization.member_leave"
    )
    gateway_id: strawberry.ID | None
    metadata: JSON
    ip_address: str | None
    user_agent: str | None
    created_at: datetime
    actor_id: strawberry.Private[UUID | None]

    @classmethod
    def from_row(cls, row: AuditEventRow) -> AuditEvent:
        metadata: Any = row.metadata
        return cls(
            id=strawberry.ID(str(row.id)),
            action=row.action,
            gateway_id=strawberry.ID(str(row.gateway_id)) if row.gateway_id else None,
            metadata=metadata,
            ip_address=row.ip_address,
            user_agent=row.user_agent,
            created_at=row.created_at,
            actor_id=row.actor_id,
        )

    @strawberry.field
    async def actor(self, info: Info) -> User | None:
        if self.actor_id is None:
            return None
        row = await info.context.loaders.users.load(self.actor_id)
        return User.from_row(row) if row else None
