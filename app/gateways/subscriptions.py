"""Live gateway status over graphql-transport-ws, fed by the broker (local or Redis)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from graphql import GraphQLError

from app.core.ids import parse_uuid
from app.gateways.nodes import GatewaySelection
from app.gateways.status_events import GatewayStatusEvent, in_scope
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
        if sink is None or operation is None:
            # Over HTTP strawberry refuses subscriptions before any resolver runs (see
            # AppSchema.execute); this is a direct `schema.subscribe` with no socket to write to.
            raise GraphQLError(
                "Subscriptions are served over WebSocket (graphql-transport-ws) only.",
                extensions={"code": "BAD_REQUEST"},
            )
        # The hub executes each event once for every subscriber with the same document and
        # scope, and writes the result to the socket itself; this stream only waits for its end
        # (normal, or the error that ends it).
        live = services.live
        await live.serve(live.subscriber(info.context, ctx, accept, selection, operation, sink))
        return
        yield  # an async generator, as strawberry expects of a subscription resolver
