"""The metrics pieces on their own: label bounds, the WebSocket gauge, broker and hub counters."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from graphql import OperationDefinitionNode, parse
from starlette.types import Message, Receive, Scope, Send

from app.core.circuit_breaker import BreakerConfig, BreakerRegistry, CircuitState
from app.core.clock import FakeClock, utcnow
from app.core.http import send
from app.events.memory import InMemoryBroker
from app.events.types import GatewayStatusChanged
from app.gateways.enums import GatewayStatus
from app.gateways.health_checker import CheckReport
from app.observability.metrics import Metrics
from app.observability.middleware import MetricsMiddleware
from app.observability.operations import CONTRACT_OPERATIONS, operation_label
from app.providers.base import UpstreamTimeoutError
from tests.observability.scrape import value

CONTRACT = Path(__file__).resolve().parents[2] / "frontend-contract"


def text_of(metrics: Metrics) -> str:
    return metrics.render().decode()


def test_the_operation_allow_list_is_the_frontend_contract() -> None:
    names = set()
    for path in CONTRACT.glob("*.graphql"):
        for definition in parse(path.read_text()).definitions:
            if isinstance(definition, OperationDefinitionNode) and definition.name:
                names.add(definition.name.value)
    assert names == CONTRACT_OPERATIONS


def test_operation_labels_are_bounded() -> None:
    assert operation_label("GatewayList") == "GatewayList"
    assert operation_label("gatewaylist") == "other"
    assert operation_label(None) == "anonymous"
    assert operation_label("") == "anonymous"


async def test_open_websockets_are_a_gauge() -> None:
    metrics = Metrics()
    seen: list[float] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "websocket.accept"})
        seen.append(value(text_of(metrics), "graphql_websocket_connections"))
        await send({"type": "websocket.close", "code": 1000})

    async def refusing(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "websocket.close", "code": 4403})

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def sink(message: Message) -> None:
        return None

    scope: dict[str, Any] = {"type": "websocket", "path": "/graphql", "headers": []}
    await MetricsMiddleware(app, metrics=metrics, routes=[])(scope, receive, sink)
    await MetricsMiddleware(refusing, metrics=metrics, routes=[])(scope, receive, sink)
    assert seen == [1.0]
    assert value(text_of(metrics), "graphql_websocket_connections") == 0


async def test_publishing_is_counted_and_delivery_unchanged() -> None:
    metrics = Metrics()
    broker = metrics.instrument_broker(InMemoryBroker())
    await broker.start()
    event = GatewayStatusChanged(
        gateway_id=uuid4(),
        owner_id=uuid4(),
        organization_id=None,
        previous_status=GatewayStatus.CONNECTING,
        status=GatewayStatus.CONNECTED,
        error=None,
    )
    async with broker.subscribe() as events:
        await broker.publish(event)
        assert await anext(events) == event
    await broker.close()
    assert value(text_of(metrics), "gateway_status_events_published_total") == 1
    metrics.status_delivered(3)
    assert value(text_of(metrics), "gateway_status_events_delivered_total") == 3


def test_health_verdicts() -> None:
    metrics = Metrics()
    metrics.health_pass(CheckReport(checked=3, healthy=2, failed=1, skipped_open_circuit=4))
    text = text_of(metrics)
    assert value(text, "gateway_health_check_passes_total") == 1
    assert value(text, "gateway_health_checks_total", verdict="healthy") == 2
    assert value(text, "gateway_health_checks_total", verdict="failed") == 1
    assert value(text, "gateway_health_checks_total", verdict="skipped_open_circuit") == 4


class _Live:
    subscriber_count = 7


def test_breaker_and_subscription_gauges_are_read_at_scrape_time() -> None:
    metrics = Metrics()
    configs = {"AI": BreakerConfig(), "WEBHOOK": BreakerConfig()}  # equal, but distinct objects
    breakers = BreakerRegistry(clock=FakeClock(start=utcnow()), is_failure=lambda e: True)
    metrics.watch(breakers=breakers, breaker_configs=configs, live=_Live())  # type: ignore[arg-type]
    for i in range(3):
        breakers.get(f"ai-{i}", configs["AI"])
    breakers.get("hook", configs["WEBHOOK"])
    text = text_of(metrics)
    assert value(text, "gateway_circuit_breakers", gateway_type="AI", state="CLOSED") == 3
    assert value(text, "gateway_circuit_breakers", gateway_type="WEBHOOK", state="CLOSED") == 1
    assert value(text, "graphql_subscriptions_active") == 7
    metrics.breaker_changed(breakers, "hook", CircuitState.OPEN)
    metrics.breaker_changed(breakers, "gone", CircuitState.OPEN)
    text = text_of(metrics)
    name = "gateway_circuit_breaker_transitions_total"
    assert value(text, name, gateway_type="WEBHOOK", state="OPEN") == 1
    assert value(text, name, gateway_type="unknown", state="OPEN") == 1


async def test_upstream_timeouts_and_unnamed_requests() -> None:
    metrics = Metrics()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/slow":
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(404)

    transport = metrics.instrument_transport(httpx.MockTransport(handler))
    async with httpx.AsyncClient(transport=transport) as client:
        await client.get("https://elsewhere.test/direct")  # not through send(): no provider
        with pytest.raises(UpstreamTimeoutError):
            await send(client, "GET", "https://api.openai.test/slow", upstream="OpenAI")
    text = text_of(metrics)
    name = "upstream_request_duration_seconds_count"
    assert value(text, name, provider="other", outcome="client_error") == 1
    assert value(text, name, provider="openai", outcome="timeout") == 1
