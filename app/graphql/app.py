"""The GraphQL ASGI view: builds the typed per-request context (auth and tenant scope)."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.schema.base import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from app.auth.tokens import parse_bearer
from app.container import Services
from app.core import strict_json
from app.core.ids import parse_uuid
from app.errors import ScopeForbiddenError
from app.graphql.context import Context
from app.graphql.transport_ws import TransportWSHandler
from app.organizations.service import membership_role

MAX_SUBSCRIPTIONS_PER_CONNECTION = 20


async def resolve_auth(ctx: Context, authorization: str | None, organization: str | None) -> None:
    """Fill the context's user and scope from a bearer token and an organization id."""
    token = parse_bearer(authorization)
    if token is None:
        return
    found = await ctx.services.auth.authenticate(token)
    if found is None:
        return
    ctx.user, ctx.token_hash = found.user, found.token_hash
    ctx.note_token_checked(found.expires_at)
    if not organization:
        return
    org_id = parse_uuid(organization)
    role = await membership_role(ctx.user.id, org_id) if org_id else None
    if org_id is None or role is None:
        ctx.scope_error = ScopeForbiddenError()
        return
    ctx.organization_id, ctx.role = org_id, role


class GraphQLApp(GraphQL[Context, None]):
    # Lets the gateway status hub write shared results straight to a subscription's socket.
    graphql_transport_ws_handler_class = TransportWSHandler

    def __init__(self, schema: BaseSchema, *, graphiql: bool) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            allow_queries_via_get=False,
            # The legacy graphql-ws protocol had an auth-bypass CVE: graphql-transport-ws only.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            # A socket that never authenticates is closed (4408) instead of holding a slot.
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
        )

    def decode_json(self, data: str | bytes) -> object:
        """Request bodies and WebSocket messages: NaN and Infinity are refused like any other
        malformed JSON (400 over HTTP), rather than reaching a JSON column or an upstream."""
        return strict_json.loads(data)

    def encode_json(self, data: object) -> str:
        # The JSON scalar already refuses non-finite values; this is the last line.
        return strict_json.compact(data)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate the socket from the `connection_init` payload; refuse with 4403."""
        params = context.connection_params or {}
        authorization = params.get("authorization")
        organization = params.get("organizationId")
        if organization is not None and not isinstance(organization, str):
            # A scope that is present but not an id is a bad scope, not "no scope": silently
            # falling back to the personal scope would show the client the wrong tenant's events.
            raise ConnectionRejectionError()
        await resolve_auth(
            context,
            authorization if isinstance(authorization, str) else None,
            organization,
        )
        if context.user is None or context.scope_error is not None:
            raise ConnectionRejectionError()
        return await super().on_ws_connect(context)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        services: Services = request.app.state.services
        ctx = Context(
            request=request,
            response=response,
            services=services,
            request_id=request.headers.get("x-request-id", "")[:64] or uuid4().hex,
        )
        if isinstance(request, Request):
            await resolve_auth(
                ctx, request.headers.get("authorization"), request.headers.get("x-organization-id")
            )
        return ctx
