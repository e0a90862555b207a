"""Prometheus metrics of one app: the instruments, their bounded labels and the scrape endpoint.

Every app builds its own `CollectorRegistry` (never prometheus-client's global one), so tests and
several apps in one process never share or collide on series. Label values are bounded by
construction: route *templates*, allow-listed operation names, enum values, fixed outcome words;
no ids, raw paths or other user input ever become a label. Recording a sample is a dictionary
lookup of a cached child and one increment, so the per-request cost stays in the microseconds.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import httpx
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from app.core.http import UPSTREAM_EXTENSION
from app.observability.operations import CONTRACT_OPERATIONS, operation_label

if TYPE_CHECKING:
    from app.core.circuit_breaker import BreakerConfig, BreakerRegistry, CircuitState
    from app.events.broker import Broker, EventFilter, Subscription
    from app.events.types import GatewayStatusChanged
    from app.gateways.health_checker import CheckReport
    from app.gateways.live import StatusHub

# The `upstream` names the providers pass to `app.core.http.send`, mapped to label values.
UPSTREAM_PROVIDERS: Mapping[str, str] = {
    "Telegram": "telegram",
    "OpenAI": "openai",
    "Anthropic": "anthropic",
    "DeepSeek": "deepseek",
    "xAI": "grok",
    "Gemini": "gemini",
    "Mistral": "mistral",
    "Groq": "groq",
    "Ollama": "ollama",
    "the webhook target": "webhook",
}
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Upstream answers take from milliseconds (Telegram) to tens of seconds (AI completions).
_UPSTREAM_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """The instruments of one app, and the helpers that record into them."""

    def __init__(self, *, operation_names: frozenset[str] = CONTRACT_OPERATIONS) -> None:
        self.registry = CollectorRegistry()
        self._operation_names = operation_names
        r = self.registry
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        self.http_requests = Counter(
            "http_requests_total",
            "HTTP requests answered, by route template and status code.",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_duration = Histogram(
            "http_request_duration_seconds",
            "Time from receiving an HTTP request to the end of its response.",
            ["method", "route"],
            registry=r,
        )
        self.graphql_operations = Histogram(
            "graphql_operation_duration_seconds",
            "GraphQL operations by name (contract operations; others are 'other'), type and "
            "outcome: ok, expected_error (an error union member) or error (top-level errors).",
            ["operation", "type", "outcome"],
            registry=r,
        )
        self.webhook_updates = Counter(
            "telegram_webhook_updates_total",
            "Telegram webhook deliveries: stored, duplicate, refused (with reason) or failed.",
            ["outcome", "reason"],
            registry=r,
        )
        self.upstream_requests = Histogram(
            "upstream_request_duration_seconds",
            "Calls to upstreams (Telegram, AI providers, webhook targets) until the response "
            "headers, by provider and outcome.",
            ["provider", "outcome"],
            buckets=_UPSTREAM_BUCKETS,
            registry=r,
        )
        self.breaker_transitions = Counter(
            "gateway_circuit_breaker_transitions_total",
            "Circuit-breaker state changes, by gateway type and the state entered.",
            ["gateway_type", "state"],
            registry=r,
        )
        self.websocket_connections = Gauge(
            "graphql_websocket_connections",
            "Open (accepted) GraphQL WebSocket connections.",
            registry=r,
        )
        self.status_events_published = Counter(
            "gateway_status_events_published_total",
            "Gateway status events published by this process.",
            registry=r,
        )
        self.status_events_delivered = Counter(
            "gateway_status_events_delivered_total",
            "Gateway status event messages put on subscribers' sockets by this process.",
            registry=r,
        )
        self.health_check_passes = Counter(
            "gateway_health_check_passes_total",
            "Completed background health-check passes.",
            registry=r,
        )
        self.health_checks = Counter(
            "gateway_health_checks_total",
            "Gateway health checks by verdict: healthy, failed, skipped_open_circuit.",
            ["verdict"],
            registry=r,
        )
        self._services = _ServicesCollector()
        r.register(self._services)
        self._http: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._graphql: dict[tuple[str, str, str], Any] = {}
        self._upstream: dict[tuple[str, str], Any] = {}

    # -- recording --------------------------------------------------------------------------------

    def observe_http(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._http.get(key)
        if children is None:
            label = method if method in _METHODS else "other"
            children = self._http[key] = (
                self.http_requests.labels(label, route, str(status)),
                self.http_duration.labels(label, route),
            )
        children[0].inc()
        children[1].observe(seconds)

    def observe_graphql(
        self, operation_name: str | None, operation_type: str, outcome: str, seconds: float
    ) -> None:
        key = (operation_label(operation_name, self._operation_names), operation_type, outcome)
        child = self._graphql.get(key)
        if child is None:
            child = self._graphql[key] = self.graphql_operations.labels(*key)
        child.observe(seconds)

    def observe_upstream(self, provider: str, outcome: str, seconds: float) -> None:
        key = (provider, outcome)
        child = self._upstream.get(key)
        if child is None:
            child = self._upstream[key] = self.upstream_requests.labels(*key)
        child.observe(seconds)

    def webhook_update(self, outcome: str, reason: str = "") -> None:
        self.webhook_updates.labels(outcome, reason).inc()

    def health_pass(self, report: CheckReport) -> None:
        self.health_check_passes.inc()
        self.health_checks.labels("healthy").inc(report.healthy)
        self.health_checks.labels("failed").inc(report.failed)
        self.health_checks.labels("skipped_open_circuit").inc(report.skipped_open_circuit)

    def status_delivered(self, count: int) -> None:
        self.status_events_delivered.inc(count)

    # -- wiring into the services -----------------------------------------------------------------

    def watch(
        self,
        *,
        breakers: BreakerRegistry,
        breaker_configs: Mapping[Any, BreakerConfig],
        live: StatusHub,
    ) -> None:
        """Read breaker states and live subscriptions at scrape time (nothing per call)."""
        self._services.breakers = breakers
        self._services.config_types = {id(c): str(t) for t, c in breaker_configs.items()}
        self._services.live = live

    def breaker_changed(self, breakers: BreakerRegistry, key: str, new: CircuitState) -> None:
        breaker = breakers.peek(key)
        kind = self._services.gateway_type(breaker.config) if breaker is not None else "unknown"
        self.breaker_transitions.labels(kind, new.value).inc()

    def instrument_transport(self, transport: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        return MetricsTransport(transport, self)

    def instrument_broker(self, broker: Broker) -> Broker:
        return CountingBroker(broker, self)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _ServicesCollector(Collector):
    """Gauges computed when scraped: breakers per (gateway type, state), live subscriptions."""

    def __init__(self) -> None:
        self.breakers: BreakerRegistry | None = None
        self.config_types: dict[int, str] = {}
        self.live: StatusHub | None = None

    def gateway_type(self, config: BreakerConfig) -> str:
        # Breakers are keyed by gateway id; the lifecycle gives each gateway type its own config
        # object, which is how a breaker's type is known without one series per gateway.
        return self.config_types.get(id(config), "unknown")

    def describe(self) -> Iterable[Metric]:
        return []  # computed at scrape time; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        breakers = GaugeMetricFamily(
            "gateway_circuit_breakers",
            "Circuit breakers of this process by gateway type and state.",
            labels=["gateway_type", "state"],
        )
        counts: dict[tuple[str, str], int] = {}
        if self.breakers is not None:
            for breaker in self.breakers:
                key = (self.gateway_type(breaker.config), breaker.state.value)
                counts[key] = counts.get(key, 0) + 1
        for (kind, state), count in sorted(counts.items()):
            breakers.add_metric([kind, state], count)
        yield breakers
        yield GaugeMetricFamily(
            "graphql_subscriptions_active",
            "Live GraphQL subscriptions served by this process.",
            value=self.live.subscriber_count if self.live is not None else 0,
        )


def provider_of(extensions: Mapping[str, Any] | None) -> str:
    """The provider label of a request sent through `app.core.http.send`; "other" otherwise."""
    upstream = (extensions or {}).get(UPSTREAM_EXTENSION)
    return UPSTREAM_PROVIDERS.get(upstream, "other") if isinstance(upstream, str) else "other"


def upstream_outcome(status: int | None, error: BaseException | None) -> str:
    if error is not None:
        if isinstance(error, httpx.TimeoutException):
            return "timeout"
        if isinstance(error, httpx.TransportError):
            return "network_error"
        return "error"
    assert status is not None
    if status >= 500:
        return "server_error"
    if status >= 400:
        return "client_error"
    return "success"


class MetricsTransport(httpx.AsyncBaseTransport):
    """Times each upstream request until its response headers, labelled by provider."""

    def __init__(self, inner: httpx.AsyncBaseTransport, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        provider = provider_of(request.extensions)
        started = time.perf_counter()
        try:
            response = await self._inner.handle_async_request(request)
        except BaseException as exc:
            self._metrics.observe_upstream(
                provider, upstream_outcome(None, exc), time.perf_counter() - started
            )
            raise
        self._metrics.observe_upstream(
            provider, upstream_outcome(response.status_code, None), time.perf_counter() - started
        )
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class CountingBroker:
    """A Broker that counts what this process publishes; everything else is the inner broker's."""

    def __init__(self, inner: Broker, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    def __getattr__(self, name: str) -> Any:
        # Broker-specific extras (subscriber_count, ...) stay reachable.
        return getattr(self._inner, name)

    async def start(self) -> None:
        await self._inner.start()

    async def close(self) -> None:
        await self._inner.close()

    async def publish(self, event: GatewayStatusChanged) -> None:
        self._metrics.status_events_published.inc()
        await self._inner.publish(event)

    def subscribe(
        self, *, accept: EventFilter | None = None, maxsize: int | None = None
    ) -> Subscription:
        return self._inner.subscribe(accept=accept, maxsize=maxsize)


def metrics_endpoint(metrics: Metrics, token: str | None) -> Callable[[Request], Any]:
    """The `/metrics` route: the exposition format, behind a bearer token when one is set."""
    expected = f"Bearer {token}".encode() if token else None

    async def serve_metrics(request: Request) -> Response:
        if expected is not None:
            presented = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(presented, expected):
                return PlainTextResponse(
                    "Unauthorized.", status_code=401, headers={"WWW-Authenticate": "Bearer"}
                )
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return serve_metrics
