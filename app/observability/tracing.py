"""OpenTelemetry tracing; imported only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (or by tests).

Spans: one SERVER span per HTTP request (named by route template, parented on an incoming
`traceparent`), one per GraphQL operation (strawberry's OpenTelemetry extension, without its
per-field spans), one per Telegram webhook ingestion, and one CLIENT span per upstream call (the
httpx instrumentation on the shared client, which also sends `traceparent` upstream).

The provider belongs to the app and is never installed as OpenTelemetry's global one, so tests and
several apps in one process keep their spans apart. Nothing secret reaches a span: URLs are cut
down by `redact.safe_url`, strawberry's `query` attribute and resolver arguments are never set,
and a processor redacts bot tokens from every span's name and URL attributes as a last guard.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Generator, MutableMapping
from typing import Any

import httpx
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor, RequestInfo
from opentelemetry.propagators.textmap import Getter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import LifecycleStep, SchemaExtension
from strawberry.extensions.tracing import OpenTelemetryExtension
from strawberry.types.graphql import OperationType

from app.config import Settings
from app.core.logs import enable_trace_ids
from app.observability.metrics import provider_of
from app.observability.operations import operation_label
from app.observability.redact import API_PROVIDERS, redact_text, safe_url
from app.observability.routes import route_template

log = logging.getLogger("app.observability")

URL_ATTRIBUTES = ("http.url", "url.full")
TRACER_NAME = "gateway-api"


def _current_ids() -> tuple[str, str] | None:
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


class RedactingProcessor(SpanProcessor):
    """Last guard: bot tokens out of every span's name and URL attributes, whoever made it."""

    def on_start(self, span: SdkSpan, parent_context: otel_context.Context | None = None) -> None:
        name = redact_text(span.name)
        if name != span.name:
            span.update_name(name)
        attributes = span.attributes or {}
        for key in URL_ATTRIBUTES:
            value = attributes.get(key)
            if isinstance(value, str):
                span.set_attribute(key, safe_url(value, keep_path=True))


class Tracing:
    def __init__(self, settings: Settings, exporter: SpanExporter | None = None) -> None:
        resource = Resource.create({SERVICE_NAME: settings.otel_service_name})
        self.provider = TracerProvider(resource=resource)
        self.provider.add_span_processor(RedactingProcessor())
        if exporter is not None:
            # Tests: spans are exported as they end, so assertions need no flush.
            self.provider.add_span_processor(SimpleSpanProcessor(exporter))
        else:
            endpoint = f"{settings.otel_exporter_otlp_endpoint}/v1/traces"
            self.provider.add_span_processor(
                BatchSpanProcessor(
                    OTLPSpanExporter(endpoint=endpoint),
                    schedule_delay_millis=settings.otel_bsp_schedule_delay,
                )
            )
        self.tracer = self.provider.get_tracer(TRACER_NAME)
        enable_trace_ids(_current_ids)

    def graphql_extension(self) -> SchemaExtension:
        return GraphQLTracing(tracer_provider=self.provider)

    def instrument_client(self, client: httpx.AsyncClient) -> None:
        HTTPXClientInstrumentor.instrument_client(
            client, tracer_provider=self.provider, request_hook=_upstream_request_hook
        )

    async def shutdown(self) -> None:
        # Flushing exports over HTTP, synchronously: off the event loop.
        await asyncio.to_thread(self.provider.shutdown)


async def _upstream_request_hook(span: trace.Span, request: RequestInfo) -> None:
    """Name the provider, and cut the URL down: webhook targets lose their path entirely."""
    provider = provider_of(request.extensions)
    span.set_attribute("gateway_api.upstream.provider", provider)
    url = safe_url(str(request.url), keep_path=provider in API_PROVIDERS)
    attributes = getattr(span, "attributes", None) or {}
    for key in URL_ATTRIBUTES:
        if key in attributes:
            span.set_attribute(key, url)


class GraphQLTracing(OpenTelemetryExtension):
    """strawberry's extension, minus what would leak or cost: no `query` attribute (a query may
    embed a password or key as a literal), no span per resolved field (their arguments may be
    credentials, and a span per field of a 50-row page is most of the request's time). The
    operation span is made current, so upstream calls made by resolvers become its children."""

    # The base class's, i.e. "not implemented": strawberry then adds no per-field middleware.
    resolve = SchemaExtension.resolve  # type: ignore[assignment]

    def on_operation(self) -> Generator[None, None, None]:
        context = self.execution_context
        span = self._tracer.start_span(
            f"graphql {operation_label(context.operation_name)}", kind=SpanKind.INTERNAL
        )
        self._span_holder[LifecycleStep.OPERATION] = span
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            yield
        finally:
            otel_context.detach(token)
            try:
                kind: OperationType | None = context.operation_type
            except Exception:
                kind = None
            span.update_name(
                f"graphql {kind.value if kind else 'unknown'} "
                f"{operation_label(context.operation_name)}"
            )
            span.set_attribute("graphql.operation.type", kind.value if kind else "unknown")
            if context.operation_name:
                span.set_attribute("graphql.operation.name", context.operation_name[:100])
            result = context.result
            if result is None or result.errors or context.pre_execution_errors:
                span.set_status(Status(StatusCode.ERROR))
            span.end()


class _HeaderGetter(Getter[MutableMapping[str, Any]]):
    """Reads propagation headers straight from an ASGI scope."""

    def get(self, carrier: MutableMapping[str, Any], key: str) -> list[str] | None:
        wanted = key.lower().encode("latin-1")
        values = [v.decode("latin-1") for k, v in carrier["headers"] if k == wanted]
        return values or None

    def keys(self, carrier: MutableMapping[str, Any]) -> list[str]:
        return [k.decode("latin-1") for k, _ in carrier["headers"]]


_GETTER = _HeaderGetter()


class TracingMiddleware:
    """A SERVER span per HTTP request, named `METHOD /route/{template}` (never the raw path)."""

    def __init__(self, app: ASGIApp, *, tracing: Tracing, routes: list[Any]) -> None:
        self.app = app
        self.tracer = tracing.tracer
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        parent = propagate.extract(scope, getter=_GETTER)
        status = 500

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with self.tracer.start_as_current_span(
            method, context=parent, kind=SpanKind.SERVER, record_exception=False
        ) as span:
            try:
                await self.app(scope, receive, send_recording_status)
            finally:
                route = route_template(scope, self.routes)
                span.update_name(f"{method} {route}")
                span.set_attribute("http.request.method", method)
                span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))


def webhook_span(tracing: Tracing) -> Any:
    """The span of one Telegram webhook ingestion (a context manager)."""
    return tracing.tracer.start_as_current_span(
        "telegram.webhook.ingest", kind=SpanKind.INTERNAL, record_exception=False
    )
