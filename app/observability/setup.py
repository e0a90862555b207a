"""What the app factory and the container plug in, decided once from the settings.

Every method is a no-op (or returns its argument unchanged) for what is off, so the callers need
no conditions and an app with metrics and tracing off runs exactly the code it ran before.
OpenTelemetry is imported only when tracing is configured.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import httpx
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from strawberry.extensions import SchemaExtension

from app.config import Settings
from app.observability.graphql import GraphQLMetrics
from app.observability.metrics import Metrics, metrics_endpoint
from app.observability.middleware import MetricsMiddleware
from app.observability.webhook import instrument_webhook

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

    from app.core.circuit_breaker import BreakerConfig, BreakerRegistry, CircuitState
    from app.events.broker import Broker
    from app.gateways.health_checker import CheckReport
    from app.gateways.live import StatusHub
    from app.observability.tracing import Tracing

log = logging.getLogger("app.observability")

Endpoint = Callable[[Request], Awaitable[Response]]
TransportWrapper = Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport]


class Observability:
    def __init__(
        self,
        metrics: Metrics | None = None,
        tracing: Tracing | None = None,
        *,
        metrics_token: str | None = None,
    ) -> None:
        self.metrics = metrics
        self.tracing = tracing
        self._metrics_token = metrics_token

    # -- app factory ------------------------------------------------------------------------------

    def schema_extensions(self) -> list[Callable[[], SchemaExtension]]:
        factories: list[Callable[[], SchemaExtension]] = []
        if (metrics := self.metrics) is not None:
            factories.append(lambda: GraphQLMetrics(metrics=metrics))
        if (tracing := self.tracing) is not None:
            factories.append(tracing.graphql_extension)
        return factories

    def routes(self) -> list[BaseRoute]:
        if self.metrics is None:
            return []
        endpoint = metrics_endpoint(self.metrics, self._metrics_token)
        return [Route("/metrics", endpoint, methods=["GET"])]

    def middleware(self, routes: list[BaseRoute]) -> list[Middleware]:
        """Outermost first: they see every request, including ones refused by later layers."""
        layers = []
        if self.tracing is not None:
            from app.observability.tracing import TracingMiddleware

            layers.append(Middleware(TracingMiddleware, tracing=self.tracing, routes=routes))
        if self.metrics is not None:
            layers.append(Middleware(MetricsMiddleware, metrics=self.metrics, routes=routes))
        return layers

    def webhook(self, endpoint: Endpoint) -> Endpoint:
        if self.metrics is None and self.tracing is None:
            return endpoint
        return instrument_webhook(endpoint, self.metrics, self.tracing)

    # -- services (app.container) -----------------------------------------------------------------

    def wrap_transport(self) -> TransportWrapper | None:
        return self.metrics.instrument_transport if self.metrics is not None else None

    def instrument_client(self, client: httpx.AsyncClient) -> None:
        if self.tracing is not None:
            self.tracing.instrument_client(client)

    def instrument_broker(self, broker: Broker) -> Broker:
        return self.metrics.instrument_broker(broker) if self.metrics is not None else broker

    def watch(
        self,
        *,
        breakers: BreakerRegistry,
        breaker_configs: Mapping[Any, BreakerConfig],
        live: StatusHub,
    ) -> None:
        if self.metrics is not None:
            self.metrics.watch(breakers=breakers, breaker_configs=breaker_configs, live=live)

    def breaker_changed(self, breakers: BreakerRegistry, key: str, new: CircuitState) -> None:
        if self.metrics is not None:
            self.metrics.breaker_changed(breakers, key, new)

    def status_delivered(self, count: int) -> None:
        if self.metrics is not None:
            self.metrics.status_delivered(count)

    def health_pass(self, report: CheckReport) -> None:
        if self.metrics is not None:
            self.metrics.health_pass(report)

    async def shutdown(self) -> None:
        if self.tracing is not None:
            await self.tracing.shutdown()


def build_observability(
    settings: Settings, *, span_exporter: SpanExporter | None = None
) -> Observability:
    """Metrics when METRICS_ENABLED; tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set (or when a
    test hands in an exporter)."""
    metrics = Metrics() if settings.metrics_on else None
    tracing = None
    if settings.tracing_on or span_exporter is not None:
        from app.observability.tracing import Tracing  # imports OpenTelemetry: only when used

        tracing = Tracing(settings, span_exporter)
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    if metrics is not None and token is None and settings.is_production:
        # Allowed (a scrape network may be private), but worth a line: /metrics shows traffic.
        log.warning("observability.metrics.unprotected")
    return Observability(metrics, tracing, metrics_token=token)
