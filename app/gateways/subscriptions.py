"""Live gateway status over graphql-transport-ws, fed by the broker (local or Redis)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from graphql import GraphQLError

from app.core.ids import parse_uuid
from app.gateways.live import LiveSubscriber
from app.gateways.nodes import GatewaySelection
from app.gateways.status_events import (
    GatewayStatusEvent,
    LatestOnly,
    in_scope,
    in_scope_row,
    status_event_of,
)
from app.graphql.context import Info
from app.graphql.permissions import require_scope
from app.graphql.shared_execution import SharedOperation
from app.graphql.transport_ws import current_sink


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
        accept = in_scope(ctx, wanted)
        selection = GatewaySelection.of(info, ("gateway",))

        sink, operation = current_sink.get(), SharedOperation.current(info)
        if sink is not None and operation is not None:
            # On a socket of this process: the hub executes each event once for every
            # subscriber with the same document and scope, and writes the result to the socket
            # itself; this stream only waits for its end (or the error that ends it).
            subscriber = LiveSubscriber.of(info.context, ctx, accept, selection, operation, sink)
            await services.live.serve(subscriber)
            return

        # Elsewhere (a direct `schema.subscribe`), one subscriber's own stream. The filter runs
        # inside the broker's fan-out, so other tenants' events never reach its queue.
        latest = LatestOnly()
        async with services.broker.subscribe(accept=accept) as events:
            async for event in events:
                if not latest.is_current(event):
                    continue
                if not await info.context.still_authenticated():
                    # Logged out or expired since the socket opened: end the stream.
                    raise GraphQLError(
                        "Authentication expired.", extensions={"code": "UNAUTHENTICATED"}
                    )
                # Fresh loaders per event: nested fields read the current state.
                info.context.reset_loaders()
                row = await services.event_rows.gateway_for(event)
                if row is None or not in_scope_row(ctx, row):
                    continue
                yield await status_event_of(info.context, event, row, selection)
