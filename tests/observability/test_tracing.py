"""Tracing with the SDK's in-memory exporter: which spans exist, how they nest, what they hold."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.config import Settings
from app.core.logs import JsonFormatter, TextFormatter
from app.observability.redact import safe_url
from app.observability.setup import build_observability
from tests.support.harness import Harness, make_settings, running_app
from tests.support.server import serving
from tests.support.upstreams import FakeUpstreams
from tests.webhooks.test_routes import (
    BOT_TOKEN,
    TELEGRAM_HOST,
    FakeTelegram,
    connect,
    create_telegram,
    post_update,
    update,
)

ROOT = Path(__file__).resolve().parents[2]
BOT_SECRET = BOT_TOKEN.split(":", 1)[1]
INCOMING_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def traced(
    database_url: str, tmp_path: Path, upstreams: FakeUpstreams, exporter: InMemorySpanExporter
) -> AsyncIterator[Harness]:
    settings = make_settings(database_url, str(tmp_path))
    observability = build_observability(settings, span_exporter=exporter)
    async with running_app(
        settings, upstream_transport=upstreams.transport(), observability=observability
    ) as harness:
        yield harness


def named(exporter: InMemorySpanExporter, prefix: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name.startswith(prefix)]


def test_nothing_is_imported_when_tracing_is_not_configured(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        import httpx
        from app.config import Settings
        from app.main import create_app

        async def main() -> None:
            settings = Settings(
                _env_file=None, app_env="development", data_dir={str(tmp_path)!r},
                database_url="sqlite://{tmp_path}/db.sqlite3",
            )
            assert settings.metrics_on and not settings.tracing_on
            app = create_app(settings, run_health_checker=False)
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                    answer = await client.post("/graphql", json={{"query": "{{ __typename }}"}})
                    assert answer.status_code == 200, answer.text
                    assert (await client.get("/metrics")).status_code == 200
            print(sorted(name for name in sys.modules if name.startswith("opentelemetry")))

        asyncio.run(main())
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_tracing_is_on_exactly_when_the_endpoint_is_set() -> None:
    off = Settings(_env_file=None)  # type: ignore[call-arg]
    assert build_observability(off).tracing is None
    on = Settings(_env_file=None, otel_exporter_otlp_endpoint="http://127.0.0.1:4318")  # type: ignore[call-arg]
    tracing = build_observability(on).tracing
    assert tracing is not None
    tracing.provider.shutdown()
    with pytest.raises(ValueError, match="only http/protobuf"):
        Settings(_env_file=None, otel_exporter_otlp_protocol="grpc")  # type: ignore[call-arg]


async def test_operation_and_upstream_spans_nest_and_propagate(
    traced: Harness, upstreams: FakeUpstreams, exporter: InMemorySpanExporter
) -> None:
    h = traced
    telegram = FakeTelegram()
    upstreams.route(TELEGRAM_HOST, telegram)
    token = await h.register("trace@example.com")
    gateway_id = await create_telegram(h, token)
    exporter.clear()
    await connect(h, token, gateway_id, telegram)

    [server] = named(exporter, "POST /graphql")
    assert server.kind is SpanKind.SERVER
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/graphql"
    assert server.attributes["http.response.status_code"] == 200
    [operation] = named(exporter, "graphql mutation")
    assert operation.parent is not None
    assert operation.parent.span_id == server.context.span_id
    clients = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CLIENT]
    assert len(clients) == 2  # getMe, setWebhook
    for span in clients:
        assert span.parent is not None
        assert span.parent.span_id == operation.context.span_id
        assert span.attributes is not None
        assert span.attributes["gateway_api.upstream.provider"] == "telegram"
    # The upstream saw the trace: W3C traceparent with this operation's trace id.
    sent = upstreams.to(TELEGRAM_HOST)[-2:]
    trace_id = format(operation.context.trace_id, "032x")
    for request in sent:
        version, sent_trace, _, _ = request.headers["traceparent"].split("-")
        assert (version, sent_trace) == ("00", trace_id)


async def test_no_bot_token_in_any_span(
    traced: Harness, upstreams: FakeUpstreams, exporter: InMemorySpanExporter
) -> None:
    h = traced
    telegram = FakeTelegram()
    upstreams.route(TELEGRAM_HOST, telegram)
    token = await h.register("secret@example.com")
    gateway_id = await create_telegram(h, token)
    await connect(h, token, gateway_id, telegram)
    assert any(BOT_SECRET in str(r.url) for r in upstreams.to(TELEGRAM_HOST))  # it was sent
    spans = exporter.get_finished_spans()
    exported = "\n".join(span.to_json() for span in spans)
    assert BOT_SECRET not in exported
    urls = [
        s.attributes.get("http.url") or s.attributes.get("url.full")
        for s in spans
        if s.kind is SpanKind.CLIENT and s.attributes
    ]
    assert f"https://{TELEGRAM_HOST}/bot{BOT_TOKEN.split(':')[0]}:***/getMe" in urls


async def test_incoming_trace_context_is_continued(
    traced: Harness, exporter: InMemorySpanExporter
) -> None:
    parent = f"00-{INCOMING_TRACE}-00f067aa0ba902b7-01"
    await traced.client.get("/healthz", headers={"traceparent": parent})
    [server] = named(exporter, "GET /healthz")
    assert format(server.context.trace_id, "032x") == INCOMING_TRACE


async def test_webhook_ingestion_has_its_span(
    traced: Harness, upstreams: FakeUpstreams, exporter: InMemorySpanExporter
) -> None:
    h = traced
    telegram = FakeTelegram()
    upstreams.route(TELEGRAM_HOST, telegram)
    token = await h.register("ingest@example.com")
    gateway_id = await create_telegram(h, token)
    secret = await connect(h, token, gateway_id, telegram)
    exporter.clear()
    assert (await post_update(h, gateway_id, secret, update(7))).status_code == 200
    assert (await post_update(h, gateway_id, "wrong")).status_code == 401
    ingests = named(exporter, "telegram.webhook.ingest")
    outcomes = [(s.attributes or {}).get("telegram.webhook.outcome") for s in ingests]
    assert outcomes == ["stored", "refused"]
    [server, _] = named(exporter, "POST /api/webhooks/telegram/{gateway_id}")
    assert ingests[0].parent is not None
    assert ingests[0].parent.span_id == server.context.span_id
    exported = "\n".join(span.to_json() for span in exporter.get_finished_spans())
    assert secret not in exported


async def test_log_lines_carry_the_trace_id(traced: Harness) -> None:
    tracing = traced.app.state.observability.tracing
    record = logging.LogRecord("app.test", logging.INFO, __file__, 1, "test.event", None, None)
    outside = json.loads(JsonFormatter().format(record))
    assert "trace_id" not in outside
    with tracing.tracer.start_as_current_span("work") as span:
        inside = json.loads(JsonFormatter().format(record))
        text = TextFormatter("%(message)s").format(record)
    trace_id = format(span.get_span_context().trace_id, "032x")
    assert inside["trace_id"] == trace_id
    assert inside["span_id"] == format(span.get_span_context().span_id, "016x")
    assert f"trace_id={trace_id}" in text


@pytest.mark.parametrize(
    ("url", "keep_path", "expected"),
    [
        (
            "https://api.telegram.org/bot123:AAH-secret/getMe",
            True,
            "https://api.telegram.org/bot123:***/getMe",
        ),
        (
            "https://user:pw@api.example.com:8443/v1/models?key=sk-1",
            True,
            "https://api.example.com:8443/v1/models",
        ),
        ("https://hooks.example.com/services/T0/B0/secret", False, "https://hooks.example.com/…"),
        ("http://[::1]:9000/x", True, "http://[::1]:9000/x"),
        ("http://host:notaport/x", True, "<unparseable url>"),
    ],
)
def test_urls_are_cut_down_for_telemetry(url: str, keep_path: bool, expected: str) -> None:
    assert safe_url(url, keep_path=keep_path) == expected


async def test_spans_are_exported_over_otlp_http_to_the_configured_endpoint() -> None:
    received: list[tuple[str, str, bytes]] = []

    async def collector(request: Request) -> Response:
        received.append(
            (request.url.path, request.headers.get("content-type", ""), await request.body())
        )
        return Response(status_code=200)

    app = Starlette(routes=[Route("/v1/traces", collector, methods=["POST"])])
    async with serving(app) as address:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            otel_exporter_otlp_endpoint=f"http://{address}",
            otel_service_name="gateway-api-under-test",
            otel_bsp_schedule_delay=60_000,  # nothing is sent before the flush below
        )
        tracing = build_observability(settings).tracing
        assert tracing is not None
        with tracing.tracer.start_as_current_span("exported.span"):
            pass
        assert received == []
        # The SDK's exporter is synchronous (it blocks on its HTTP call): off the loop.
        await asyncio.to_thread(tracing.provider.force_flush)
        await tracing.shutdown()
    [(path, content_type, body)] = received
    assert path == "/v1/traces"
    assert content_type == "application/x-protobuf"
    assert b"exported.span" in body
    assert b"gateway-api-under-test" in body
