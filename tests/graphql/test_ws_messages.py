"""graphql-transport-ws messages strawberry would trip over are closed with 4400 and a reason
(the protocol's answer to an invalid message), not an unhandled exception in the connection."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from tests.support import ws
from tests.support.live import live_server
from tests.support.upstreams import FakeUpstreams

VIEWER = "{ viewer { email } }"


def deep(levels: int) -> Any:
    return json.loads("[" * levels + "]" * levels)


INVALID: dict[str, tuple[Any, str]] = {
    "a list": ([1, 2], "Invalid message: expected an object with a type"),
    "a string": ("subscribe", "Invalid message: expected an object with a type"),
    "no type": ({"id": "1"}, "Invalid message: expected an object with a type"),
    "payload a list": (
        {"id": "1", "type": "subscribe", "payload": []},
        "Invalid subscribe message: `payload` must be an object",
    ),
    "no id": (
        {"type": "subscribe", "payload": {"query": VIEWER}},
        "Invalid subscribe message: `id` must be a non-empty string",
    ),
    "id a number": (
        {"id": 1, "type": "subscribe", "payload": {"query": VIEWER}},
        "Invalid subscribe message: `id` must be a non-empty string",
    ),
    "query a number": (
        {"id": "1", "type": "subscribe", "payload": {"query": 42}},
        "Invalid subscribe message: The request has no GraphQL query (`query` must be a string).",
    ),
    "variables a list": (
        {"id": "1", "type": "subscribe", "payload": {"query": VIEWER, "variables": [1]}},
        "Invalid subscribe message: `variables` must be an object or null.",
    ),
    "extensions a string": (
        {"id": "1", "type": "subscribe", "payload": {"query": VIEWER, "extensions": "x"}},
        "Invalid subscribe message: `extensions` must be an object or null.",
    ),
    "operationName a list": (
        {"id": "1", "type": "subscribe", "payload": {"query": VIEWER, "operationName": []}},
        "Invalid subscribe message: `operationName` must be a string or null.",
    ),
    "variables nested too deeply": (
        {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": VIEWER, "variables": {"v": deep(60)}},
        },
        "WebSocket message must be valid JSON",
    ),
}


@pytest.mark.parametrize("case", INVALID)
async def test_an_invalid_message_closes_the_socket_with_4400(
    database_url: str,
    tmp_path: Path,
    upstreams: FakeUpstreams,
    caplog: pytest.LogCaptureFixture,
    case: str,
) -> None:
    message, reason = INVALID[case]
    async with live_server(database_url, tmp_path, upstreams) as live:
        token = await live.http.register("ws-invalid@example.test")
        async with ws.connect(live.ws_url) as client:
            await client.init(ws.auth_payload(token))
            caplog.clear()
            caplog.set_level(logging.DEBUG)
            await client.ws.send(json.dumps(message))
            closed = await client.wait_closed()

    assert closed == (4400, reason)
    assert [r for r in caplog.records if r.exc_info] == []


async def test_raw_text_past_the_recursion_limit_closes_with_4400(
    database_url: str, tmp_path: Path, upstreams: FakeUpstreams
) -> None:
    # Not even decodable by Python's json module (RecursionError): once a crash.
    text = '{"id": "1", "type": "subscribe", "payload": {"query": "{ viewer { id } }", '
    text += '"variables": {"v": ' + "[" * 5000 + "]" * 5000 + "}}}"
    async with live_server(database_url, tmp_path, upstreams) as live:
        token = await live.http.register("ws-deep@example.test")
        async with ws.connect(live.ws_url) as client:
            await client.init(ws.auth_payload(token))
            await client.ws.send(text)
            closed = await client.wait_closed()

    assert closed == (4400, "WebSocket message must be valid JSON")


async def test_a_valid_operation_still_runs_after_the_checks(
    database_url: str, tmp_path: Path, upstreams: FakeUpstreams
) -> None:
    async with live_server(database_url, tmp_path, upstreams) as live:
        token = await live.http.register("ws-valid@example.test")
        async with ws.connect(live.ws_url) as client:
            await client.init(ws.auth_payload(token))
            op = await client.subscribe(
                "query($s: Int!) { viewer { email } gateways(pageSize: $s) { total } }", {"s": 5}
            )
            data = await client.next_data(op)

    assert data == {"viewer": {"email": "ws-valid@example.test"}, "gateways": {"total": 0}}
