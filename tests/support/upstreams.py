"""A transport-level fake for every upstream the app calls (Telegram, AI providers, webhooks).

Handlers are registered per host; an unexpected request fails the test loudly instead of
reaching the network.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

Handler = Callable[[httpx.Request], httpx.Response]


class FakeUpstreams:
    def __init__(self) -> None:
        self._routes: dict[str, Handler] = {}
        self.requests: list[httpx.Request] = []

    def route(self, host: str, handler: Handler) -> None:
        self._routes[host] = handler

    def to(self, host: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host == host]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self._routes.get(request.url.host)
        if handler is None:
            raise AssertionError(f"unexpected upstream request to {request.url.host}")
        return handler(request)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)
