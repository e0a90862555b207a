"""Two real server processes on one PostgreSQL database and one Redis: live status crosses them.

Process 1 holds the subscriber's WebSocket; the status change is made over HTTP through
process 2, whose broker publishes on Redis. Nothing but Redis connects the two processes'
subscribers, so an event that arrives proves the multi-process path.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.services import require_postgres, require_redis
from tests.support import databases, ws
from tests.support.server import ServerProcess, migrate, server_env, server_process

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

SUBSCRIPTION = """subscription($gatewayId: ID) {
  gatewayStatusChanged(gatewayId: $gatewayId) {
    previousStatus status error occurredAt gateway { id name status }
  }
}"""
REGISTER = """mutation($input: RegisterInput!) {
  register(input: $input) { __typename ... on AuthPayload { token } } }"""
CREATE = """mutation($input: CreateGatewayInput!) { createGateway(input: $input) {
  __typename ... on Gateway { id status } ... on Error { message } } }"""
SET_STATUS = """mutation($id: ID!, $status: GatewayStatus!, $error: String) {
  updateGatewayStatus(id: $id, status: $status, error: $error) {
    __typename ... on Gateway { id status } ... on Error { message } } }"""


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, migrated database of its own, dropped afterwards."""
    server = require_postgres()
    require_redis()  # both services are checked before anything is created
    url = asyncio.run(databases.create_postgres_database(server))
    try:
        yield url
    finally:
        asyncio.run(databases.drop_postgres_database(server, url))


@pytest.fixture
def two_servers(postgres_url: str, tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    env = server_env(
        database_url=postgres_url,
        redis_url=require_redis(),
        data_dir=str(tmp_path / "data"),
    )
    # Migrations are a deploy step, run once before the servers start.
    assert "database is up to date" in migrate(env, tmp_path)
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(server_process(env, tmp_path, name=f"server-{n}")) for n in (1, 2)
        ]

        def terminate_all() -> None:  # both shut down in parallel; then each is waited for
            for server in servers:
                server.terminate()

        stack.callback(terminate_all)
        for server in servers:
            server.wait_ready()
        yield servers[0], servers[1]


async def gql(
    http: httpx.AsyncClient,
    server: ServerProcess,
    query: str,
    variables: dict[str, Any],
    token: str | None = None,
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.post(
        f"{server.http_url}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


async def set_status(
    http: httpx.AsyncClient,
    server: ServerProcess,
    token: str,
    gateway_id: str,
    status: str,
    error: str | None = None,
) -> None:
    variables = {"id": gateway_id, "status": status, "error": error}
    result = (await gql(http, server, SET_STATUS, variables, token))["updateGatewayStatus"]
    assert result == {"__typename": "Gateway", "id": gateway_id, "status": status}


async def wait_until_delivering(
    client: ws.GraphQLWSClient,
    op: str,
    change: Any,
    *,
    within: float = 10.0,
) -> str:
    """Make changes with `change(status)` until one comes back on `op`; the last status set.

    A subscription is registered only after its `subscribe` message is processed, and the
    Redis listener subscribes in the background: until both are in place an event is lost
    (Redis pub/sub is at-most-once), so the first change may have to be repeated.
    """
    statuses = ["CONNECTING", "DISCONNECTED"]
    async with asyncio.timeout(within):
        for attempt in range(1000):
            status = statuses[attempt % 2]
            await change(status)
            try:
                await client.receive(op, within=0.5)
            except TimeoutError:
                continue
            # Drain what the earlier attempts may still deliver.
            with contextlib.suppress(TimeoutError):
                while True:
                    await client.receive(op, within=0.3)
            return status
    raise AssertionError("unreachable")


async def test_a_change_through_one_process_reaches_a_subscriber_of_the_other(
    two_servers: tuple[ServerProcess, ServerProcess],
) -> None:
    first, second = two_servers
    async with httpx.AsyncClient(timeout=10) as http:
        # Registered through process 1, the gateway created through process 2: one database.
        data = await gql(
            http,
            first,
            REGISTER,
            {
                "input": {
                    "email": "alice@example.com",
                    "password": "correct horse battery",
                    "name": "Alice",
                }
            },
        )
        token: str = data["register"]["token"]
        gateway = {
            "name": "Assistant",
            "type": "AI",
            "credentials": {"ai": {"provider": "OPENAI", "apiKey": "sk-test-NOTREAL-1234"}},
        }
        created = (await gql(http, second, CREATE, {"input": gateway}, token))["createGateway"]
        assert created["__typename"] == "Gateway", created
        gateway_id: str = created["id"]

        async with ws.connect(first.ws_url) as client:
            await client.init(ws.auth_payload(token))
            op = await client.subscribe(SUBSCRIPTION, {"gatewayId": gateway_id})

            async def through_first(status: str) -> None:
                await set_status(http, first, token, gateway_id, status)

            # Process 1's own changes come back through Redis: the subscriber is in place.
            previous = await wait_until_delivering(client, op, through_first)

            before = datetime.now(UTC)
            await set_status(http, second, token, gateway_id, "ERROR", "Upstream said no")
            message = await client.receive(op, within=5)
            assert message["type"] == "next", message
            event = message["payload"]["data"]["gatewayStatusChanged"]
            occurred_at = datetime.fromisoformat(event.pop("occurredAt"))
            assert before <= occurred_at <= datetime.now(UTC)
            assert event == {
                "previousStatus": previous,
                "status": "ERROR",
                "error": "Upstream said no",
                "gateway": {"id": gateway_id, "name": "Assistant", "status": "ERROR"},
            }
            # Exactly once: Redis is the single delivery path, also for the publisher's process.
            await client.assert_silent(op, within=0.5)
