"""The GraphQL ASGI view: builds the typed per-request context (auth and tenant scope), and
answers GraphQL over HTTP as clients send it (POST, or GET for queries) with GraphQL errors."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import timedelta
from uuid import uuid4

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UnsetType

from app.auth.tokens import parse_bearer
from app.container import Services
from app.core import strict_json
from app.core.db_outage import is_database_unavailable
from app.core.ids import parse_uuid
from app.errors import ScopeForbiddenError
from app.graphql import request as graphql_request
from app.graphql.context import Context
from app.graphql.errors import UNAVAILABLE_MESSAGE
from app.graphql.request import RequestError
from app.graphql.responses import (
    GRAPHQL_RESPONSE_JSON,
    error_response,
    is_request_error,
    response_media_type,
)
from app.graphql.transport_ws import TransportWSHandler, WebSocketRefusal
from app.organizations.service import membership_role

MAX_SUBSCRIPTIONS_PER_CONNECTION = 20
# Where a browser that opens /graphql is sent: the console's explorer, served from this origin.
EXPLORER_PATH = "/explorer"
# RFC 6455 "Try Again Later": graphql-ws clients reconnect on it (4xxx codes are fatal to them).
WS_TRY_AGAIN_LATER = 1013

log = logging.getLogger("app.graphql")


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

    def __init__(self, schema: BaseSchema) -> None:
        super().__init__(
            schema,
            # strawberry's GraphiQL loads its scripts from a CDN; the console's /explorer
            # bundles its own, so nothing is fetched from another origin at run time.
            graphql_ide=None,
            allow_queries_via_get=True,
            # The legacy graphql-ws protocol had an auth-bypass CVE: graphql-transport-ws only.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            # A socket that never authenticates is closed (4408) instead of holding a slot.
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
        )

    # ------------------------------------------------------------------ HTTP

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        media_type = response_media_type(request.headers.get("accept"))
        response: Response
        try:
            response = await self._serve(request)
        except RequestError as exc:
            log.info(
                "graphql.request.refused",
                extra={"status": exc.status, "reason": exc.message, "method": request.method},
            )
            response = error_response(
                exc.status, exc.message, code=exc.code, media_type=media_type, headers=exc.headers
            )
        except HTTPException as exc:  # strawberry's own refusals, which we have not pre-empted
            log.info("graphql.request.refused", extra={"status": exc.status_code})
            not_allowed = exc.status_code == 405  # a method other than GET or POST
            response = error_response(
                exc.status_code,
                exc.reason,
                code="METHOD_NOT_ALLOWED" if not_allowed else "BAD_REQUEST",
                media_type=media_type,
                headers={"Allow": "GET, POST"} if not_allowed else None,
            )
        except Exception as exc:
            # Authentication reads the database before any GraphQL runs: during an outage
            # that is a 503 the client can retry, not a plain-text 500 with a traceback.
            if not is_database_unavailable(exc):
                raise
            log.warning("graphql.request.unavailable", extra={"error": type(exc).__name__})
            response = error_response(
                503,
                UNAVAILABLE_MESSAGE,
                code="SERVICE_UNAVAILABLE",
                media_type=media_type,
                headers={"Retry-After": "5"},
            )
        await response(scope, receive, send)

    async def _serve(self, request: Request) -> Response:
        if (
            request.method == "GET"
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        ):
            # A browser opening the endpoint: the explorer is where a person runs queries.
            return RedirectResponse(request.scope.get("root_path", "") + EXPLORER_PATH, 302)
        return await self.run(request)

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        return False  # never strawberry's CDN-loaded GraphiQL; see _serve for browsers

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "GET":
            return graphql_request.from_query_params(request.query_params)  # type: ignore[arg-type]
        content_type = (request.content_type or "").partition(";")[0].strip().lower()
        if content_type != "application/json":
            raise RequestError(
                415, "Send the request as application/json.", headers={"Accept": "application/json"}
            )
        return graphql_request.from_body(await request.get_body())

    def decode_json(self, data: str | bytes) -> object:
        """WebSocket messages: strict JSON, bounded depth (a `subscribe` payload's variables
        sit two levels down). strawberry closes the socket with 4400 on a decode error."""
        try:
            return graphql_request.decode_json(data, max_depth=graphql_request.MAX_JSON_DEPTH + 2)
        except RequestError as exc:
            raise json.JSONDecodeError(exc.message, "", 0) from None

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        method = request_adapter.method
        # GET runs queries only; AppSchema refuses subscriptions over HTTP either way. The
        # operation's type is taken from the operation `operationName` selects, so a
        # multi-operation document cannot smuggle a mutation through GET.
        allowed = {OperationType.QUERY} if method == "GET" else set(OperationType)
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except CannotGetOperationTypeError as exc:
            raise RequestError(400, exc.as_http_error_reason()) from None
        except InvalidOperationTypeError as exc:
            if exc.operation_type is OperationType.MUTATION:
                # GraphQL over HTTP: 405, so that a GET (cacheable, no CORS preflight, kept in
                # logs and history) can never change anything.
                raise RequestError(
                    405,
                    "Mutations are only accepted over POST.",
                    code="METHOD_NOT_ALLOWED",
                    headers={"Allow": "POST"},
                ) from None
            raise RequestError(
                400, "Subscriptions are served over the WebSocket (graphql-transport-ws)."
            ) from None
        except MissingQueryError:
            raise RequestError(400, "The request has no GraphQL query.") from None

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        if is_request_error(result.data, result.errors) and (
            response_media_type(request.headers.get("accept")) == GRAPHQL_RESPONSE_JSON
        ):
            # Not executed: with this media type the response has no `data` (and is a 400).
            response.pop("data", None)
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        media_type = sub_response.media_type or "application/json"
        response.headers["content-type"] = media_type
        if isinstance(response_data, Mapping) and "data" not in response_data:
            response.status_code = 400  # only ever without `data` for graphql-response+json
        return response

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = response_media_type(request.headers.get("accept"))
        return sub_response

    def encode_json(self, data: object) -> str:
        # The JSON scalar already refuses non-finite values; this is the last line.
        return strict_json.compact(data)

    # ------------------------------------------------------------------ WebSocket

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate the socket from the `connection_init` payload.

        Refusals keep graphql-transport-ws's 4403 but say why; a database outage closes with
        1013 (try again later) instead of crashing the connection."""
        params = context.connection_params or {}
        authorization = params.get("authorization")
        organization = params.get("organizationId")
        if not isinstance(authorization, str | None) or not isinstance(organization, str | None):
            # A scope that is present but not an id is a bad scope, not "no scope": silently
            # falling back to the personal scope would show the client the wrong tenant's events.
            raise WebSocketRefusal(4403, "Forbidden: malformed payload")
        if not authorization:
            raise WebSocketRefusal(4403, "Forbidden: no token")
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise WebSocketRefusal(4403, "Forbidden: malformed payload")
        try:
            await resolve_auth(context, authorization, organization)
        except Exception as exc:
            if not is_database_unavailable(exc):
                raise
            log.warning("graphql.ws.unavailable", extra={"error": type(exc).__name__})
            raise WebSocketRefusal(
                WS_TRY_AGAIN_LATER, "Service unavailable: try again later"
            ) from None
        if context.user is None:
            raise WebSocketRefusal(4403, "Forbidden: invalid or expired token")
        if context.scope_error is not None:
            raise WebSocketRefusal(4403, "Forbidden: not a member of the organization")
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
