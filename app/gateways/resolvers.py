"""Gateway queries and CRUD mutations. Thin: scope, convert, one service call, map the result."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app import errors as domain
from app.core.ids import parse_uuid
from app.gateways.input_types import CreateGatewayInput, GatewayFilter, UpdateGatewayInput
from app.gateways.nodes import gateway_node, gateway_nodes
from app.gateways.service import Saved
from app.gateways.types import DeletedGateway, Gateway, GatewayAction, GatewayPage, ProviderInfo
from app.graphql.context import Info
from app.graphql.errors import (
    ForbiddenError,
    NotFoundError,
    QuotaExceededError,
    ValidationError,
    bad_arguments,
    to_member,
)
from app.graphql.permissions import require_scope
from app.graphql.scalars import GatewayStatus

CreateGatewayResult = Annotated[
    Gateway | ValidationError | ForbiddenError | QuotaExceededError,
    strawberry.union("CreateGatewayResult"),
]
UpdateGatewayResult = Annotated[
    Gateway | ValidationError | NotFoundError | ForbiddenError,
    strawberry.union("UpdateGatewayResult"),
]
UpdateGatewayStatusResult = Annotated[
    Gateway | ValidationError | NotFoundError | ForbiddenError,
    strawberry.union("UpdateGatewayStatusResult"),
]
DeleteGatewayResult = Annotated[
    DeletedGateway | NotFoundError | ForbiddenError, strawberry.union("DeleteGatewayResult")
]

_WRITE_ERRORS = (
    domain.ValidationFailedError,
    domain.NotFoundError,
    domain.ForbiddenError,
    domain.QuotaExceededError,
)


@strawberry.type
class GatewayQuery:
    @strawberry.field(
        description="Gateways of the current scope (personal, or the organization in "
        "X-Organization-Id)."
    )
    async def gateways(
        self,
        info: Info,
        filter: GatewayFilter | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> GatewayPage:
        ctx = require_scope(info)
        service_filter = filter.to_service() if filter else GatewayFilter().to_service()
        try:
            result = await info.context.services.gateways.list(ctx, service_filter, page, page_size)
        except domain.ValidationFailedError as exc:
            raise bad_arguments(exc) from None
        return GatewayPage(
            items=await gateway_nodes(info, result.items, at=("items",)),
            total=result.total,
            page=result.page,
            page_size=result.page_size,
        )

    @strawberry.field(
        description="Null when it does not exist or belongs to another scope (no existence leak)."
    )
    async def gateway(self, info: Info, id: strawberry.ID) -> Gateway | None:
        ctx = require_scope(info)
        row = await info.context.services.gateways.get(ctx, parse_uuid(id))
        return await gateway_node(info, row) if row else None

    @strawberry.field
    def gateway_providers(self, info: Info) -> list[ProviderInfo]:
        return [
            ProviderInfo(
                type=p.type,
                name=p.name,
                description=p.description,
                actions=[GatewayAction.from_spec(a) for a in p.actions],
                ai_providers=list(p.ai_providers),
            )
            for p in info.context.services.providers.all()
        ]


@strawberry.type
class GatewayMutation:
    @strawberry.mutation
    async def create_gateway(self, info: Info, input: CreateGatewayInput) -> CreateGatewayResult:
        ctx = require_scope(info)
        try:
            saved = await info.context.services.gateways.create_revealing(ctx, input.to_service())
        except _WRITE_ERRORS as exc:
            return to_member(exc)  # type: ignore[return-value]
        return await _revealing_node(info, saved)

    @strawberry.mutation
    async def update_gateway(
        self, info: Info, id: strawberry.ID, input: UpdateGatewayInput
    ) -> UpdateGatewayResult:
        ctx = require_scope(info)
        try:
            saved = await info.context.services.gateways.update_revealing(
                ctx, parse_uuid(id), input.to_service()
            )
        except _WRITE_ERRORS as exc:
            return to_member(exc)  # type: ignore[return-value]
        return await _revealing_node(info, saved)

    @strawberry.mutation(
        description="Replace a webhook gateway's signing secret with a newly generated one. "
        "The response's revealedSigningSecret is the only place it is ever shown."
    )
    async def rotate_webhook_signing_secret(
        self, info: Info, id: strawberry.ID
    ) -> UpdateGatewayResult:
        ctx = require_scope(info)
        try:
            saved = await info.context.services.gateways.rotate_signing_secret(ctx, parse_uuid(id))
        except _WRITE_ERRORS as exc:
            return to_member(exc)  # type: ignore[return-value]
        return await _revealing_node(info, saved)

    @strawberry.mutation
    async def update_gateway_status(
        self, info: Info, id: strawberry.ID, status: GatewayStatus, error: str | None = None
    ) -> UpdateGatewayStatusResult:
        ctx = require_scope(info)
        try:
            row = await info.context.services.gateways.set_status(
                ctx, parse_uuid(id), status, error
            )
        except _WRITE_ERRORS as exc:
            return to_member(exc)  # type: ignore[return-value]
        return await gateway_node(info, row)

    @strawberry.mutation
    async def delete_gateway(self, info: Info, id: strawberry.ID) -> DeleteGatewayResult:
        ctx = require_scope(info)
        try:
            deleted_id = await info.context.services.lifecycle.delete(ctx, parse_uuid(id))
        except _WRITE_ERRORS as exc:
            return to_member(exc)  # type: ignore[return-value]
        return DeletedGateway(id=strawberry.ID(str(deleted_id)))


async def _revealing_node(info: Info, saved: Saved) -> Gateway:
    """The saved gateway's node, carrying the secret this mutation generated (if it did)."""
    node = await gateway_node(info, saved.row)
    node.revealed_signing_secret = saved.revealed_signing_secret
    return node
