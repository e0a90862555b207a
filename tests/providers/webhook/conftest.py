"""A fake webhook target behind `httpx.MockTransport`, and a provider wired to it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

import httpx
import pytest

from app.core.clock import FakeClock
from app.core.http import Timeouts, create_http_client
from app.gateways.credentials import WebhookCredentials
from app.gateways.enums import GatewayType
from app.providers.base import GatewayHandle
from app.providers.webhook.provider import WebhookTargetProvider

# The path is a secret in many real targets (Slack, Discord): it must never appear in messages.
URL = "https://hooks.example.com/in/T0SECRETPATH?key=abc"
PUBLIC_IP = "93.184.215.14"
SIGNING_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # Standard Webhooks test vector
GATEWAY_ID = uuid.UUID("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c")

Reply = httpx.Response | Exception


@dataclass
class FakeTarget:
    """Answers with queued replies (200 by default); `latency` advances the clock per request."""

    clock: FakeClock
    latency: float = 0.0
    requests: list[httpx.Request] = field(default_factory=list)
    queued: list[Reply] = field(default_factory=list)

    def reply(self, *replies: Reply) -> None:
        self.queued.extend(replies)

    def methods(self) -> list[str]:
        return [r.method for r in self.requests]

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.clock.advance(self.latency)
        if self.queued:
            reply = self.queued.pop(0)
            if isinstance(reply, Exception):
                raise reply
            return reply
        return httpx.Response(200, text="ok")


class FakeDNS:
    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    async def __call__(self, host: str) -> Sequence[str]:
        self.asked.append(host)
        return self.answers


MakeProvider = Callable[..., WebhookTargetProvider]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def target(clock: FakeClock) -> FakeTarget:
    return FakeTarget(clock)


@pytest.fixture
def dns() -> FakeDNS:
    return FakeDNS(PUBLIC_IP)


@pytest.fixture
async def http(target: FakeTarget) -> AsyncIterator[httpx.AsyncClient]:
    async with create_http_client(Timeouts(), transport=httpx.MockTransport(target.handler)) as c:
        yield c


@pytest.fixture
def make_provider(http: httpx.AsyncClient, clock: FakeClock, dns: FakeDNS) -> MakeProvider:
    def make(*, allow_private_targets: bool = False) -> WebhookTargetProvider:
        return WebhookTargetProvider(
            http,
            timeouts=Timeouts(),
            allow_private_targets=allow_private_targets,
            clock=clock,
            resolve=dns,
        )

    return make


@pytest.fixture
def provider(make_provider: MakeProvider) -> WebhookTargetProvider:
    return make_provider()


def make_gateway(url: str = URL, signing_secret: str | None = SIGNING_SECRET) -> GatewayHandle:
    return GatewayHandle(
        id=GATEWAY_ID,
        type=GatewayType.WEBHOOK,
        credentials=WebhookCredentials(url=url, signing_secret=signing_secret),
    )


@pytest.fixture
def gateway() -> GatewayHandle:
    return make_gateway()
