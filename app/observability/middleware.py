"""Pure ASGI middleware recording HTTP requests and open WebSocket connections.

Pure ASGI rather than Starlette's BaseHTTPMiddleware: that one runs the app in a separate task
and pipes the response through a stream, which costs far more than the counting itself, and would
break streaming responses. Here the only per-request work is wrapping `send` to see the status,
two clock reads and the recording (a dict lookup and two increments).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability.metrics import Metrics
from app.observability.routes import route_template


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        status = 500  # what the server answers when the app fails before starting a response

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            self.metrics.observe_http(
                scope["method"],
                route_template(scope, self.routes),
                status,
                time.perf_counter() - started,
            )

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        accepted = False
        gauge = self.metrics.websocket_connections

        async def send_counting_accept(message: Message) -> None:
            nonlocal accepted
            await send(message)
            if message["type"] == "websocket.accept" and not accepted:
                accepted = True
                gauge.inc()

        try:
            await self.app(scope, receive, send_counting_accept)
        finally:
            if accepted:
                gauge.dec()
