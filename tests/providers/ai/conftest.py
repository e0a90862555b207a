"""Fixtures: an `AIGatewayProvider` wired to a MockTransport upstream, closed after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import httpx
import pytest

from app.core.clock import FakeClock
from app.core.http import Timeouts, create_http_client
from app.gateways.enums import AIProvider
from app.providers.ai.provider import AIGatewayProvider

MakeProvider = Callable[..., AIGatewayProvider]


class Sleeps:
    """Records the delays `retry_idempotent` asks for instead of waiting them."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def make_provider(sleeps: Sleeps) -> AsyncIterator[MakeProvider]:
    clients: list[httpx.AsyncClient] = []

    def make(
        handler: Callable[[httpx.Request], Any],
        *,
        allow_private_targets: bool = False,
        base_urls: Mapping[AIProvider, str] | None = None,
        timeouts: Timeouts | None = None,
    ) -> AIGatewayProvider:
        timeouts = timeouts or Timeouts()
        client = create_http_client(timeouts, transport=httpx.MockTransport(handler))
        clients.append(client)
        return AIGatewayProvider(
            client,
            timeouts=timeouts,
            allow_private_targets=allow_private_targets,
            base_urls=base_urls,
            clock=FakeClock(),
            sleep=sleeps,
        )

    yield make
    for client in clients:
        await client.aclose()
