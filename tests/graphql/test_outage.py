"""A database outage is answered as GraphQL: 503 SERVICE_UNAVAILABLE over HTTP, a 1013 close
on the WebSocket's `connection_init`, one log line each, and service resumes without a restart
when the database is back.

PostgreSQL is cut for real, by a TCP proxy between the app and the server (stopping it cuts the
open connections and refuses new ones). On SQLite the outage is another process holding the
database's write lock (SQLite has no server to lose).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests.events.proxy import RedisProxy as TCPProxy  # a plain TCP proxy, whatever it carries
from tests.support import databases, ws
from tests.support.harness import Harness, make_settings, running_app
from tests.support.live import live_server
from tests.support.upstreams import FakeUpstreams

VIEWER = "{ viewer { email } }"
EMAIL = "outage@example.test"


@pytest.fixture
async def proxy(postgres_database: str) -> AsyncIterator[TCPProxy]:
    await databases.truncate_postgres(postgres_database)
    parts = urlsplit(postgres_database)
    tcp = TCPProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await tcp.start()
    yield tcp
    await tcp.stop()


def through(proxy: TCPProxy, url: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username or 'postgres'}@127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=netloc))


async def viewer(harness: Harness, token: str) -> httpx.Response:
    return await harness.client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"}
    )


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["retry-after"] == "5"
    assert response.json() == {
        "errors": [
            {
                "message": "The service is temporarily unavailable; try again shortly.",
                "extensions": {"code": "SERVICE_UNAVAILABLE"},
            }
        ]
    }


def server_log(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("app.")]


@pytest.mark.postgres
async def test_a_postgres_outage_is_a_503_until_the_database_returns(
    proxy: TCPProxy, postgres_database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(through(proxy, postgres_database), str(tmp_path))
    async with running_app(settings) as harness:
        token = await harness.register(EMAIL)
        assert (await viewer(harness, token)).json() == {"data": {"viewer": {"email": EMAIL}}}

        await proxy.stop()
        caplog.clear()
        caplog.set_level(logging.INFO)
        down = await viewer(harness, token)
        refused = await viewer(harness, token)  # new connections refused, not only cut ones
        records = server_log(caplog)
        await proxy.start()
        back = await viewer(harness, token)

    assert_unavailable(down)
    assert_unavailable(refused)
    assert [(r.getMessage(), r.exc_info) for r in records] == [
        ("graphql.request.unavailable", None),
        ("graphql.request.unavailable", None),
    ]
    assert back.status_code == 200
    assert back.json() == {"data": {"viewer": {"email": EMAIL}}}


@pytest.mark.postgres
async def test_an_outage_is_a_503_in_graphql_response_json_too(
    proxy: TCPProxy, postgres_database: str, tmp_path: Path
) -> None:
    settings = make_settings(through(proxy, postgres_database), str(tmp_path))
    async with running_app(settings) as harness:
        token = await harness.register(EMAIL)
        await proxy.stop()
        response = await harness.client.get(
            "/graphql",
            params={"query": VIEWER},
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/graphql-response+json",
            },
        )
        await proxy.start()

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/graphql-response+json"
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"


@pytest.mark.postgres
async def test_a_postgres_outage_closes_connection_init_with_1013(
    proxy: TCPProxy,
    postgres_database: str,
    tmp_path: Path,
    upstreams: FakeUpstreams,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with live_server(through(proxy, postgres_database), tmp_path, upstreams) as live:
        token = await live.http.register(EMAIL)

        await proxy.stop()
        caplog.clear()
        caplog.set_level(logging.INFO)
        async with ws.connect(live.ws_url) as client:
            await client.send({"type": "connection_init", "payload": ws.auth_payload(token)})
            closed = await client.wait_closed()
            assert client.unread == []
        records = server_log(caplog)
        await proxy.start()

        async with ws.connect(live.ws_url) as client:
            assert await client.init(ws.auth_payload(token)) == {"type": "connection_ack"}

    # 1013 "Try Again Later": graphql-ws clients reconnect on it, where 4xxx codes are fatal.
    assert closed == (1013, "Service unavailable: try again later")
    assert [(r.getMessage(), r.exc_info) for r in records] == [("graphql.ws.unavailable", None)]


async def test_a_locked_sqlite_database_is_a_503_until_released(
    database_url: str, tmp_path: Path
) -> None:
    # A short busy timeout (a pragma in the URL): the app waits that long for the lock.
    settings = make_settings(database_url + "?busy_timeout=100", str(tmp_path))
    path = database_url.removeprefix("sqlite://")
    async with running_app(settings) as harness:
        token = await harness.register(EMAIL)
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            # Another process holding the write lock (a backup, a stuck migration). The token's
            # first use records when it was used: a write, which waits for the lock in vain.
            holder.execute("BEGIN IMMEDIATE")
            down = await viewer(harness, token)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        back = await viewer(harness, token)

    assert_unavailable(down)
    assert back.json() == {"data": {"viewer": {"email": EMAIL}}}


REGISTER = """mutation($input: RegisterInput!) { register(input: $input) { __typename } }"""


@pytest.mark.postgres
async def test_an_outage_during_execution_is_a_service_unavailable_error(
    proxy: TCPProxy, postgres_database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # No token, so nothing is read before execution: the resolver is the first to find out.
    variables = {"input": {"email": EMAIL, "password": "correct horse battery", "name": "O"}}
    settings = make_settings(through(proxy, postgres_database), str(tmp_path))
    async with running_app(settings) as harness:
        await proxy.stop()
        caplog.clear()
        caplog.set_level(logging.INFO)
        down = await harness.post(REGISTER, variables)
        records = server_log(caplog)
        await proxy.start()
        back = await harness.post(REGISTER, variables)

    assert down == {
        "data": None,
        "errors": [
            {
                "message": "The service is temporarily unavailable; try again shortly.",
                "locations": [{"line": 1, "column": 36}],
                "path": ["register"],
                "extensions": {"code": "SERVICE_UNAVAILABLE"},
            }
        ],
    }
    assert [(r.getMessage(), r.exc_info) for r in records] == [
        ("graphql.execute.unavailable", None)
    ]
    assert back == {"data": {"register": {"__typename": "AuthPayload"}}}
