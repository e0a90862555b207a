"""A live server in this process for subscription tests: uvicorn on a real socket, the app's
lifespan included, so a test can watch its subscribers; mutations go over HTTP to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from tortoise.backends.base.executor import EXECUTOR_CACHE

from app.gateways.live import StatusHub
from app.main import create_app
from tests.support import ws
from tests.support.harness import Harness, make_settings
from tests.support.server import serving
from tests.support.upstreams import FakeUpstreams

SUBSCRIPTION = """subscription($gatewayId: ID) {
  gatewayStatusChanged(gatewayId: $gatewayId) {
    previousStatus status error occurredAt gateway { id name status }
  }
}"""
CREATE = """mutation($input: CreateGatewayInput!) { createGateway(input: $input) {
  __typename ... on Gateway { id status } ... on Error { message } } }"""
SET_STATUS = """mutation($id: ID!, $status: GatewayStatus!, $error: String) {
  updateGatewayStatus(id: $id, status: $status, error: $error) {
    __typename ... on Gateway { id status } ... on Error { message } } }"""

# How long "nothing arrives" is watched for. Delivery on one process takes milliseconds, and
# every silence check is followed by an event that must arrive *first* if the filter leaked.
QUIET = 0.5


@dataclass
class Live:
    app: Starlette
    http: Harness  # GraphQL over HTTP to the same socket
    ws_url: str

    @property
    def hub(self) -> StatusHub:
        hub: StatusHub = self.app.state.services.live
        return hub

    @property
    def subscriptions(self) -> int:
        """Client subscriptions: every socket subscription is served by the status hub."""
        return self.hub.subscriber_count

    async def wait_subscriptions(self, count: int, *, within: float = 5.0) -> None:
        """Until exactly `count` client subscriptions are registered with the hub (that happens
        after the `subscribe` message is processed: a change made before is missed)."""
        try:
            async with asyncio.timeout(within):
                while self.subscriptions != count:  # noqa: ASYNC110 - polls a counter
                    await asyncio.sleep(0.01)
        except TimeoutError:
            raise AssertionError(
                f"{self.subscriptions} subscriptions on the hub, expected {count}"
            ) from None


@asynccontextmanager
async def live_server(
    database_url: str, tmp_path: Path, upstreams: FakeUpstreams, **overrides: Any
) -> AsyncIterator[Live]:
    EXECUTOR_CACHE.clear()  # see tests/support/harness.running_app
    settings = make_settings(database_url, str(tmp_path), **overrides)
    app = create_app(settings, upstream_transport=upstreams.transport(), run_health_checker=False)
    async with (
        serving(app) as address,
        httpx.AsyncClient(base_url=f"http://{address}", timeout=10) as client,
    ):
        yield Live(
            app=app,
            http=Harness(app=app, client=client, settings=settings),
            ws_url=f"ws://{address}/graphql",
        )


async def create_gateway(h: Harness, token: str, name: str, org: str | None = None) -> str:
    data = {
        "name": name,
        "type": "AI",
        "credentials": {"ai": {"provider": "OPENAI", "apiKey": "sk-test-NOTREAL-1234"}},
    }
    result = (await h.gql(CREATE, {"input": data}, token=token, org=org))["createGateway"]
    assert result["__typename"] == "Gateway", result
    assert result["status"] == "DISCONNECTED"
    gateway_id: str = result["id"]
    return gateway_id


async def set_status(
    h: Harness,
    token: str,
    gateway_id: str,
    status: str,
    error: str | None = None,
    org: str | None = None,
) -> None:
    variables = {"id": gateway_id, "status": status, "error": error}
    result = (await h.gql(SET_STATUS, variables, token=token, org=org))["updateGatewayStatus"]
    assert result == {"__typename": "Gateway", "id": gateway_id, "status": status}


def event_of(data: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = data["gatewayStatusChanged"]
    return event


@asynccontextmanager
async def subscribed(
    live: Live, token: str, query: str = SUBSCRIPTION, org: str | None = None
) -> AsyncIterator[tuple[ws.GraphQLWSClient, str]]:
    """A client on its own socket with one subscription, registered with the hub."""
    async with ws.connect(live.ws_url) as client:
        await client.init(ws.auth_payload(token, org))
        before = live.subscriptions
        op = await client.subscribe(query)
        await live.wait_subscriptions(before + 1)
        yield client, op
