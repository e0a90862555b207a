"""The bare Starlette routes that every ratio is measured against.

They run in the same process as the real app, on the same Tortoise connection, and do the same
database work with as little framework as possible:

- `bare_gateways`: the same authentication and membership queries, the same scoped page query
  (`GatewayService.list`), the same tenant-bound loaders for owners and organizations, the same
  decryption for the hints — serialized with `json.dumps`, no GraphQL.
- `bare_webhook`: the same single `INSERT ... ON CONFLICT DO NOTHING` into `telegram_updates`
  (the statement and values Tortoise's `bulk_create(ignore_conflicts=True)` sends), as one
  parameterised `execute_query` on the connection, no ORM, no secret check, no cache lookup.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from tortoise.connection import get_connection

from app.auth.tokens import parse_bearer
from app.container import Services
from app.core.ids import parse_uuid, uuid7
from app.gateways.credentials import AICredentials, TelegramBotCredentials, WebhookCredentials
from app.gateways.service import GatewayFilter
from app.graphql.loaders import Loaders
from app.organizations.service import membership_role
from app.service_context import ServiceContext
from app.webhooks.inbox import MalformedUpdateError, parse_update

_COLUMNS = (
    '"id","update_id","update_type","chat_id","from_user_id","text","payload",'
    '"received_at","processed_at","gateway_id"'
)
# Constant text (no input is ever formatted into it); the values travel as parameters.
_INSERT = {
    "sqlite": f'INSERT INTO "telegram_updates" ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?) '  # noqa: S608
    "ON CONFLICT DO NOTHING",
    "postgres": f'INSERT INTO "telegram_updates" ({_COLUMNS}) '  # noqa: S608
    "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT DO NOTHING",
}


_SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


def _json(data: Any, status_code: int = 200) -> Response:
    return Response(json.dumps(data), status_code=status_code, media_type="application/json")


async def _service_context(request: Request, services: Services) -> ServiceContext | Response:
    token = parse_bearer(request.headers.get("authorization"))
    found = await services.auth.authenticate(token) if token else None
    if found is None:
        return _json({"error": "UNAUTHENTICATED"}, 401)
    user = found.user
    org_header = request.headers.get("x-organization-id")
    if not org_header:
        return ServiceContext(user_id=user.id)
    org_id = parse_uuid(org_header)
    role = await membership_role(user.id, org_id) if org_id else None
    if org_id is None or role is None:
        return _json({"error": "FORBIDDEN"}, 403)
    return ServiceContext(user_id=user.id, organization_id=org_id, role=role)


async def bare_gateways(request: Request) -> Response:
    """The data of `gateways(pageSize: N) { items { id name type status owner { id email }
    organization { id name } credentialInfo { __typename ... on TelegramBotCredentialInfo
    { botTokenHint } } } }`, in the same JSON shape."""
    services: Services = request.app.state.services
    body = json.loads(await request.body() or b"{}")
    page_size = int(body.get("pageSize", 20))
    ctx = await _service_context(request, services)
    if isinstance(ctx, Response):
        return ctx
    page = await services.gateways.list(ctx, GatewayFilter(), 1, page_size)
    loaders = Loaders(ctx.user_id, lambda: ctx)
    owners = await loaders.users.load_many([row.owner_id for row in page.items])
    org_ids = [row.organization_id for row in page.items if row.organization_id is not None]
    orgs = {o.id: o for o in await loaders.organizations.load_many(org_ids) if o is not None}
    items = []
    for row, owner in zip(page.items, owners, strict=True):
        credentials = services.gateways.vault.try_open(row)
        info: dict[str, Any]
        match credentials:
            case TelegramBotCredentials():
                info = {
                    "__typename": "TelegramBotCredentialInfo",
                    "botTokenHint": credentials.hint(),
                }
            case AICredentials():
                info = {"__typename": "AICredentialInfo"}
            case WebhookCredentials():
                info = {"__typename": "WebhookCredentialInfo"}
            case None:
                info = {"__typename": "UndecryptableCredentialInfo"}
        org = orgs.get(row.organization_id) if row.organization_id else None
        items.append(
            {
                "id": str(row.id),
                "name": row.name,
                "type": row.type.value,
                "status": row.status.value,
                "owner": {"id": str(owner.id), "email": owner.email} if owner else None,
                "organization": {"id": str(org.id), "name": org.name} if org else None,
                "credentialInfo": info,
            }
        )
    return _json({"data": {"gateways": {"items": items}}})


async def bare_webhook(request: Request) -> Response:
    """One parameterised INSERT of the update, as the real route stores it."""
    services: Services = request.app.state.services
    gateway_id = parse_uuid(request.path_params["gateway_id"])
    if gateway_id is None:
        return PlainTextResponse("Unknown gateway.", status_code=404)
    try:
        update = parse_update(json.loads(await request.body()))
    except (ValueError, MalformedUpdateError) as exc:
        return PlainTextResponse(f"Malformed update: {exc}", status_code=400)
    connection = get_connection("default")
    await connection.execute_query(
        _INSERT[connection.capabilities.dialect],
        [
            str(uuid7()),
            update.update_id,
            update.update_type,
            update.chat_id,
            update.from_user_id,
            update.text,
            json.dumps(update.payload, separators=(",", ":")),
            services.clock.now(),
            None,
            str(gateway_id),
        ],
    )
    return Response(status_code=200)


async def hello(request: Request) -> Response:
    """ARCHITECTURE.md's "bare Starlette JSON hello": calibrates the machine, not the app."""
    return JSONResponse({"hello": "world"})


async def stats(request: Request) -> JSONResponse:
    """Bench bookkeeping (not measured): live subscriptions and stored updates."""
    services: Services = request.app.state.services
    # Socket subscriptions are the status hub's; the broker has the hub and the app's own.
    subscribers = services.live.subscriber_count + getattr(services.broker, "subscriber_count", 0)
    connection = get_connection("default")
    _, rows = await connection.execute_query('SELECT COUNT(*) AS n FROM "telegram_updates"')
    data: dict[str, Any] = {"subscribers": subscribers, "telegram_updates": int(rows[0]["n"])}
    if connection.capabilities.dialect == "sqlite":
        _, mode = await connection.execute_query("PRAGMA synchronous")
        data["sqlite_synchronous"] = _SYNCHRONOUS.get(int(mode[0][0]), str(mode[0][0]))
    return JSONResponse(data)


ROUTES = [
    Route("/bench/bare/gateways", bare_gateways, methods=["POST"]),
    Route("/bench/bare/webhook/{gateway_id}", bare_webhook, methods=["POST"]),
    Route("/bench/bare/hello", hello, methods=["GET"]),
    Route("/bench/stats", stats, methods=["GET"]),
]
