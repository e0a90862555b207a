"""A minimal graphql-transport-ws client for tests, over the `websockets` library.

    async with ws.connect(url) as client:
        await client.init(ws.auth_payload(token))
        op = await client.subscribe(QUERY, {"gatewayId": gateway_id})
        data = await client.next_data(op)

Every wait is bounded (`within` seconds, TimeoutError past it). Messages of other operations
read while waiting for one are kept, in order, for a later `receive`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

PROTOCOL = "graphql-transport-ws"
LEGACY_PROTOCOL = "graphql-ws"
DEFAULT_TIMEOUT = 5.0

Message = dict[str, Any]


def auth_payload(token: str | None, organization_id: str | None = None) -> dict[str, str]:
    """The `connection_init` payload the SPA sends."""
    payload = {}
    if token is not None:
        payload["authorization"] = f"Bearer {token}"
    if organization_id is not None:
        payload["organizationId"] = organization_id
    return payload


class Closed(AssertionError):
    """The server closed the socket while the test expected a message."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"socket closed by the server: {code} {reason!r}")
        self.code = code
        self.reason = reason


def _closed(exc: ConnectionClosed) -> Closed:
    frame = exc.rcvd
    return Closed(frame.code, frame.reason) if frame else Closed(None, "")


class GraphQLWSClient:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self._pending: list[Message] = []

    @property
    def subprotocol(self) -> str | None:
        return self.ws.subprotocol

    @property
    def unread(self) -> list[Message]:
        """Messages received but not yet returned by `receive`."""
        return list(self._pending)

    async def send(self, message: Message) -> None:
        try:
            await self.ws.send(json.dumps(message))
        except ConnectionClosed as exc:
            raise _closed(exc) from None

    async def init(
        self, payload: dict[str, Any] | None = None, *, within: float = DEFAULT_TIMEOUT
    ) -> Message:
        """Send `connection_init` and return the `connection_ack`; Closed if refused."""
        message: Message = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await self.send(message)
        ack = await self.receive(within=within)
        assert ack["type"] == "connection_ack", ack
        return ack

    async def subscribe(
        self, query: str, variables: dict[str, Any] | None = None, *, op_id: str | None = None
    ) -> str:
        op_id = op_id or str(next(self._ids))
        payload = {"query": query, "variables": variables or {}}
        await self.send({"id": op_id, "type": "subscribe", "payload": payload})
        return op_id

    async def complete(self, op_id: str) -> None:
        await self.send({"id": op_id, "type": "complete"})

    async def receive(
        self, op_id: str | None = None, *, within: float = DEFAULT_TIMEOUT
    ) -> Message:
        """The next message (of operation `op_id` if given) within `within` seconds."""
        for index, message in enumerate(self._pending):
            if op_id is None or message.get("id") == op_id:
                return self._pending.pop(index)
        async with asyncio.timeout(within):
            while True:
                message = await self._read()
                if op_id is None or message.get("id") == op_id:
                    return message
                self._pending.append(message)

    async def next_data(self, op_id: str, *, within: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """The `data` of the next `next` message of `op_id`, which must carry no errors."""
        message = await self.receive(op_id, within=within)
        assert message["type"] == "next", message
        assert not message["payload"].get("errors"), message
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def assert_silent(self, op_id: str | None = None, *, within: float = 0.5) -> None:
        """Fail if a message (of `op_id` if given) arrives within `within` seconds."""
        try:
            message = await self.receive(op_id, within=within)
        except TimeoutError:
            return
        raise AssertionError(f"expected no message, got {message}")

    async def wait_closed(self, *, within: float = DEFAULT_TIMEOUT) -> tuple[int | None, str]:
        """Read until the server closes the socket; its close code and reason. Messages read
        meanwhile stay in `unread`."""
        async with asyncio.timeout(within):
            try:
                while True:
                    message = await self._read()
                    self._pending.append(message)
            except Closed as closed:
                return closed.code, closed.reason

    async def close(self) -> None:
        await self.ws.close()

    async def _read(self) -> Message:
        while True:
            try:
                raw = await self.ws.recv()
            except ConnectionClosed as exc:
                raise _closed(exc) from None
            message: Message = json.loads(raw)
            if message.get("type") != "ping":
                return message
            await self.send({"type": "pong"})


@asynccontextmanager
async def connect(
    url: str,
    *,
    subprotocols: Sequence[str] = (PROTOCOL,),
    open_timeout: float = DEFAULT_TIMEOUT,
) -> AsyncIterator[GraphQLWSClient]:
    """Open a socket to `url` offering `subprotocols`; closed when the block ends."""
    async with ws_connect(
        url,
        subprotocols=[Subprotocol(p) for p in subprotocols],
        open_timeout=open_timeout,
        close_timeout=2,
    ) as ws:
        yield GraphQLWSClient(ws)
