"""Live gateway status over graphql-transport-ws, fed by the broker (local or Redis)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from uuid import UUID

import strawberry
from graphql import GraphQLError

from app.core.ids import parse_uuid
from app.events.broker import EventFilter
from app.events.types import GatewayStatusChanged
from app.gateways.models import Gateway as GatewayRow
from app.gateways.nodes import GatewaySelection, gateway_node
from app.gateways.types import Gateway
from app.graphql.context import Info
from app.graphql.permissions import require_scope
from app.graphql.scalars import GatewayStatus
from app.service_context import ServiceContext


@strawberry.type
class GatewayStatusEvent:
    gateway: Gateway
    previous_status: GatewayStatus | None
    status: GatewayStatus
    error: str | None
    occurred_at: datetime


def in_scope(ctx: ServiceContext, gateway_id: UUID | None) -> EventFilter:
    """The events one subscriber may receive: its scope's, optionally one gateway's."""
    org_id, user_id = ctx.organization_id, ctx.user_id

    def accept(event: GatewayStatusChanged) -> bool:
        if gateway_id is not None and event.gateway_id != gateway_id:
            return False
        if org_id is not None:
            return event.organization_id == org_id
        return event.organization_id is None and event.owner_id == user_id

    return accept


class LatestOnly:
    """Drops an event older than one already delivered for the same gateway.

    Publishing happens after the commit, so two quick changes can arrive in either order; the
    status version (bumped under the row lock) says which is newer. Events without a version
    (an older release's) always pass.
    """

    def __init__(self) -> None:
        self._seen: dict[UUID, int] = {}

    def is_current(self, event: GatewayStatusChanged) -> bool:
        if event.version == 0:
            return True
        if event.version <= self._seen.get(event.gateway_id, 0):
            return False
        self._seen[event.gateway_id] = event.version
        return True


def _in_scope_row(ctx: ServiceContext, row: GatewayRow) -> bool:
    """The scope check the scoped loader would make, on the shared row (defence in depth)."""
    if ctx.organization_id is not None:
        return row.organization_id == ctx.organization_id
    return row.organization_id is None and row.owner_id == ctx.user_id


@strawberry.type
class GatewaySubscription:
    @strawberry.subscription(
        description="Status changes of the gateways in the connection's scope; one gateway when "
        "gatewayId is given."
    )
    async def gateway_status_changed(
        self, info: Info, gateway_id: strawberry.ID | None = None
    ) -> AsyncGenerator[GatewayStatusEvent, None]:
        ctx = require_scope(info)
        wanted = parse_uuid(gateway_id) if gateway_id is not None else None
        services = info.context.services
        if gateway_id is not None and await services.gateways.get(ctx, wanted) is None:
            raise GraphQLError("Gateway not found.", extensions={"code": "NOT_FOUND"})
        # The filter runs inside the broker's fan-out, so other tenants' events never even
        # reach this subscriber's queue.
        latest = LatestOnly()
        selection = GatewaySelection.of(info, ("gateway",))
        async with services.broker.subscribe(accept=in_scope(ctx, wanted)) as events:
            async for event in events:
                if not latest.is_current(event):
                    continue
                if not await info.context.still_authenticated():
                    # Logged out or expired since the socket opened: end the stream.
                    raise GraphQLError(
                        "Authentication expired.", extensions={"code": "UNAUTHENTICATED"}
                    )
                # Fresh loaders per event (nested fields read the current state), and the
                # gateway itself read once for all local subscribers of this event.
                info.context.reset_loaders()
                row = await services.event_rows.gateway_for(event)
                if row is None or not _in_scope_row(ctx, row):
                    continue
                yield GatewayStatusEvent(
                    gateway=await gateway_node(info, row, selection=selection),
                    previous_status=event.previous_status,
                    status=event.status,
                    error=event.error,
                    occurred_at=event.occurred_at,
                )
