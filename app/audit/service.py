"""Recording and reading the audit trail; every query is scoped to the caller's tenant."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from tortoise.queryset import QuerySet

from app.audit.models import AuditEvent
from app.service_context import ServiceContext

MAX_EVENTS = 200


async def audit(
    ctx: ServiceContext | None,
    action: str,
    *,
    gateway_id: UUID | None = None,
    organization_id: UUID | None = None,
    scope_user_id: UUID | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Record one event. `ctx` None means the system acted (health checker, breaker).

    Callers put non-secret facts only in `metadata`; it is shown to every member of the scope.
    The scope defaults to the context's: its organization, or the actor's personal scope.
    """
    if ctx is not None and organization_id is None and scope_user_id is None:
        organization_id = ctx.organization_id
        scope_user_id = ctx.user_id if ctx.organization_id is None else None
    return await AuditEvent.create(
        actor_id=ctx.user_id if ctx else None,
        organization_id=organization_id,
        scope_user_id=scope_user_id,
        gateway_id=gateway_id,
        action=action,
        metadata=dict(metadata or {}),
        ip_address=ctx.ip_address if ctx else None,
        user_agent=ctx.user_agent[:512] if ctx and ctx.user_agent else None,
        request_id=ctx.request_id if ctx else None,
    )


def scoped_events(ctx: ServiceContext) -> QuerySet[AuditEvent]:
    if ctx.organization_id is not None:
        return AuditEvent.filter(organization_id=ctx.organization_id)
    return AuditEvent.filter(organization_id=None, scope_user_id=ctx.user_id)


async def list_events(
    ctx: ServiceContext, *, gateway_id: UUID | None = None, first: int = 50
) -> list[AuditEvent]:
    """Newest first; `first` is clamped to 1..MAX_EVENTS."""
    query = scoped_events(ctx)
    if gateway_id is not None:
        query = query.filter(gateway_id=gateway_id)
    limit = max(1, min(first, MAX_EVENTS))
    return await query.order_by("-created_at", "-id").limit(limit)
