"""Audit trail query."""

from __future__ import annotations

import strawberry

from app.audit import service
from app.audit.types import AuditEvent
from app.core.ids import parse_uuid
from app.graphql.context import Info
from app.graphql.permissions import require_scope


@strawberry.type
class AuditQuery:
    @strawberry.field
    async def audit_events(
        self, info: Info, gateway_id: strawberry.ID | None = None, first: int = 50
    ) -> list[AuditEvent]:
        ctx = require_scope(info)
        parsed = parse_uuid(gateway_id) if gateway_id is not None else None
        if gateway_id is not None and parsed is None:
            return []  # a malformed id matches nothing, like an id of another scope
        rows = await service.list_events(ctx, gateway_id=parsed, first=first)
        return [AuditEvent.from_row(r) for r in rows]
