"""What a status-change subscriber receives, and which events it may receive."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from uuid import UUID

import strawberry

from app.events.broker import EventFilter
from app.events.types import GatewayStatusChanged
from app.gateways.models import Gateway as GatewayRow
from app.gateways.nodes import GatewaySelection, build_gateway_nodes
from app.gateways.types import Gateway
from app.graphql.context import Context
from app.graphql.scalars import GatewayStatus
from app.service_context import ServiceContext


@strawberry.type
class GatewayStatusEvent:
    gateway: Gateway
    previous_status: GatewayStatus | None
    status: GatewayStatus
    error: str | None
    occurred_at: datetime


async def status_event_of(
    context: Context, event: GatewayStatusChanged, row: GatewayRow, selection: GatewaySelection
) -> GatewayStatusEvent:
    """The root value a subscription's selection is executed on for `event`."""
    (gateway,) = await build_gateway_nodes(context, [row], selection)
    return GatewayStatusEvent(
        gateway=gateway,
        previous_status=event.previous_status,
        status=event.status,
        error=event.error,
        occurred_at=event.occurred_at,
    )


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


def in_scope_row(ctx: ServiceContext, row: GatewayRow) -> bool:
    """The scope check the scoped loader would make, on the shared row (defence in depth)."""
    if ctx.organization_id is not None:
        return row.organization_id == ctx.organization_id
    return row.organization_id is None and row.owner_id == ctx.user_id


class LatestOnly:
    """Drops an event older than one already delivered for the same gateway.

    Publishing happens after the commit, so two quick changes can arrive in either order; the
    status version (bumped under the row lock) says which is newer. Events without a version
    (an older release's) always pass. Only the `limit` most recently changed gateways are
    remembered: a reordering spans milliseconds, and a process lives for months.
    """

    def __init__(self, limit: int = 10_000) -> None:
        self._limit = limit
        self._seen: OrderedDict[UUID, int] = OrderedDict()

    def is_current(self, event: GatewayStatusChanged) -> bool:
        if event.version == 0:
            return True
        if event.version <= self._seen.get(event.gateway_id, 0):
            return False
        self._seen[event.gateway_id] = event.version
        self._seen.move_to_end(event.gateway_id)
        if len(self._seen) > self._limit:
            self._seen.popitem(last=False)
        return True
