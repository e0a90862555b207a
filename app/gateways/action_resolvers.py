"""Lifecycle mutations: connect, disconnect, test, actions, Telegram messages, AI chat, reset."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from app import errors as domain
from app.core.circuit_breaker import CircuitOpenError as BreakerOpen
from app.core.ids import parse_uuid
from app.gateways.action_types import (
    AIChatCompletion,
    AIChatInput,
    GatewayActionResult,
    GatewayTestResult,
    SendTelegramMessageInput,
)
from app.gateways.enums import GatewayType
from app.gateways.nodes import gateway_node
from app.gateways.types import Gateway
from app.graphql.context import Info
from app.graphql.errors import (
    CircuitOpenError,
    ForbiddenError,
    NotFoundError,
    ProviderError,
    UnsupportedActionError,
    ValidationError,
    to_member,
    validation_error,
)
from app.graphql.permissions import require_scope
from app.providers import base as providers

ConnectGatewayResult = Annotated[
    Gateway | NotFoundError | ForbiddenError | ProviderError | CircuitOpenError,
    strawberry.union("ConnectGatewayResult"),
]
TestGatewayResult = Annotated[
    GatewayTestResult | NotFoundError | ForbiddenError, strawberry.union("TestGatewayResult")
]
ExecuteGatewayActionResult = Annotated[
    GatewayActionResult
    | ValidationError
    | NotFoundError
    | ForbiddenError
    | UnsupportedActionError
    | ProviderError
    | CircuitOpenError,
    strawberry.union("ExecuteGatewayActionResult"),
]
AIChatResult = Annotated[
    AIChatCompletion
    | ValidationError
    | NotFoundError
    | ForbiddenError
    | ProviderError
    | CircuitOpenError,
    strawberry.union("AIChatResult"),
]
SendTelegramMessageResult = Annotated[
    GatewayActionResult
    | ValidationError
    | NotFoundError
    | ForbiddenError
    | ProviderError
    | CircuitOpenError,
    strawberry.union("SendTelegramMessageResult"),
]
ResetGatewayCircuitResult = Annotated[
    Gateway | NotFoundError | ForbiddenError, strawberry.union("ResetGatewayCircuitResult")
]

_LIFECYCLE_ERRORS = (
    domain.ValidationFailedError,
    domain.NotFoundError,
    domain.ForbiddenError,
    providers.ProviderError,
    providers.UnsupportedActionError,
    providers.ActionParamsError,
    BreakerOpen,
)


@strawberry.type
class GatewayActionMutation:
    @strawberry.mutation(
        description="Validates credentials upstream and brings the gateway up (Telegram: "
        "setWebhook with a fresh secret)."
    )
    async def connect_gateway(self, info: Info, id: strawberry.ID) -> ConnectGatewayResult:
        ctx = require_scope(info)
        try:
            row = await info.context.services.lifecycle.connect(ctx, parse_uuid(id))
        except _LIFECYCLE_ERRORS as exc:
            return to_member(exc)  # type: ignore[return-value]
        return await gateway_node(info, row)

    @strawberry.mutation(description="Takes the gateway down (Telegram: deleteWebhook).")
    async def disconnect_gateway(self, info: Info, id: strawberry.ID) -> ConnectGatewayResult:
        ctx = require_scope(info)
        try:
            row = await info.context.services.lifecycle.disconnect(ctx, parse_uuid(id))
        except _LIFECYCLE_ERRORS as exc:
            return to_member(exc)  # type: ignore[return-value]
        return await gateway_node(info, row)

    @strawberry.mutation(
        description="Runs the provider's cheapest authenticated check and records the outcome "
        "on the gateway."
    )
    async def test_gateway(self, info: Info, id: strawberry.ID) -> TestGatewayResult:
        ctx = require_scope(info)
        try:
            outcome = await info.context.services.lifecycle.test(ctx, parse_uuid(id))
        except (domain.NotFoundError, domain.ForbiddenError) as exc:
            return to_member(exc)  # type: ignore[return-value]
        details: Any = outcome.details
        return GatewayTestResult(
            success=outcome.success,
            latency_ms=outcome.latency_ms,
            error=outcome.error,
            details=details,
            tested_at=outcome.tested_at,
            gateway=await gateway_node(info, outcome.gateway, at=("gateway",)),
        )

    @strawberry.mutation
    async def execute_gateway_action(
        self, info: Info, id: strawberry.ID, action: str, params: JSON | None = None
    ) -> ExecuteGatewayActionResult:
        ctx = require_scope(info)
        if params is not None and not isinstance(params, dict):
            return validation_error(
                [domain.FieldIssue("params", "Must be a JSON object.")], "Invalid input."
            )
        try:
            data, row = await info.context.services.lifecycle.execute(
                ctx, parse_uuid(id), action, params or {}
            )
        except _LIFECYCLE_ERRORS as exc:
            return to_member(exc)  # type: ignore[return-value]
        payload: Any = data
        return GatewayActionResult(
            action=action, data=payload, gateway=await gateway_node(info, row, at=("gateway",))
        )

    @strawberry.mutation
    async def send_telegram_message(
        self, info: Info, input: SendTelegramMessageInput
    ) -> SendTelegramMessageResult:
        ctx = require_scope(info)
        try:
            data, row = await info.context.services.lifecycle.execute(
                ctx,
                parse_uuid(input.gateway_id),
                "sendMessage",
                input.to_params(),
                expect_type=GatewayType.TELEGRAM_BOT,
            )
        except _LIFECYCLE_ERRORS as exc:
            return to_member(exc)  # type: ignore[return-value]
        payload: Any = data
        return GatewayActionResult(
            action="sendMessage",
            data=payload,
            gateway=await gateway_node(info, row, at=("gateway",)),
        )

    @strawberry.mutation
    async def ai_chat(self, info: Info, input: AIChatInput) -> AIChatResult:
        ctx = require_scope(info)
        try:
            data, _ = await info.context.services.lifecycle.execute(
                ctx,
                parse_uuid(input.gateway_id),
                "chat",
                input.to_params(),
                expect_type=GatewayType.AI,
            )
        except _LIFECYCLE_ERRORS as exc:
            return to_member(exc)  # type: ignore[return-value]
        return AIChatCompletion.from_data(data)

    @strawberry.mutation
    async def reset_gateway_circuit(
        self, info: Info, id: strawberry.ID
    ) -> ResetGatewayCircuitResult:
        ctx = require_scope(info)
        try:
            row = await info.context.services.lifecycle.reset_circuit(ctx, parse_uuid(id))
        except (domain.NotFoundError, domain.ForbiddenError) as exc:
            return to_member(exc)  # type: ignore[return-value]
        return await gateway_node(info, row)
