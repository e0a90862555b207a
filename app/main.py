"""The application factory: routes, middleware and lifespan; nothing happens at import time."""

from __future__ import annotations

from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, WebSocketRoute
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.config import Settings
from app.core.body_limit import BodyLimitMiddleware
from app.core.clock import Clock
from app.graphql.app import GraphQLApp
from app.graphql.schema import build_schema
from app.health import healthz, readyz
from app.http.console import DEFAULT_CONSOLE_DIR, console_routes
from app.lifespan import lifespan
from app.observability.setup import Observability, build_observability
from app.webhooks.routes import telegram_webhook


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    upstream_transport: httpx.AsyncBaseTransport | None = None,
    run_health_checker: bool = True,
    tune_gc: bool = False,
    observability: Observability | None = None,
    console_dir: Path = DEFAULT_CONSOLE_DIR,
) -> Starlette:
    """Build the ASGI app. `clock`, `upstream_transport` and `run_health_checker` exist for
    tests (fake time, fake upstreams, checks driven by hand); production leaves them as is.
    `tune_gc` is for a process that serves this one app (`serve`, the benchmarks): see
    `app.core.gc_tuning`. `observability` defaults to what the settings ask for (metrics,
    tracing); tests hand in one with an in-memory span exporter. `console_dir` is the built web
    console (`make web`)."""
    observability = observability or build_observability(settings)
    schema = build_schema(
        production=settings.is_production,
        max_depth=settings.graphql_max_depth,
        max_aliases=settings.graphql_max_aliases,
        max_tokens=settings.graphql_max_tokens,
        extra_extensions=observability.schema_extensions(),
    )
    graphql = GraphQLApp(schema)
    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route(
            "/api/webhooks/telegram/{gateway_id}",
            observability.webhook(telegram_webhook),
            methods=["POST"],
        ),
        *observability.routes(),
        # Last: the console's catch-all must not shadow an API route.
        *console_routes(console_dir),
    ]
    middleware = [
        # Metrics outermost, so that a request refused before routing still gets its route.
        *observability.middleware(routes),
        # Then the real client for everything inside: app/core/client_address.py.
        Middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips),
        Middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes),
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Organization-Id", "X-Request-Id"],
            max_age=600,
        ),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.settings = settings
    app.state.clock = clock
    app.state.upstream_transport = upstream_transport
    app.state.run_health_checker = run_health_checker
    app.state.tune_gc = tune_gc
    app.state.observability = observability
    return app
