"""OperationSink: `next` messages put on the socket for an operation, byte for byte what
strawberry would send, and never for an operation the client has completed."""

from __future__ import annotations

import asyncio
from typing import Any

from graphql import ExecutionResult, GraphQLError
from strawberry.http.base import BaseView
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import Operation
from strawberry.types import ExecutionResult as StrawberryResult

from app.graphql.outbox import Outbox
from app.graphql.shared_execution import encode_payload
from app.graphql.transport_ws import OperationSink
from tests.support.sockets import FakeSocket


class FakeHandler:
    """The parts of strawberry's graphql-transport-ws handler that an Operation and a sink use."""

    def __init__(self) -> None:
        self.socket = FakeSocket()
        self.outbox = Outbox(self.socket)  # type: ignore[arg-type]
        self.operations: dict[str, Any] = {}
        self.strawberry_sent: list[str] = []

    async def send_message(self, message: Any) -> None:
        self.strawberry_sent.append(str(BaseView.encode_json(None, message)))  # type: ignore[arg-type]

    def start(self, op_id: str) -> tuple[Operation[Any, Any], OperationSink]:
        operation: Operation[Any, Any] = Operation(self, op_id, "subscription { x }", None, None)  # type: ignore[arg-type]
        self.operations[op_id] = operation
        return operation, OperationSink(self, operation)  # type: ignore[arg-type]


async def test_a_next_message_is_the_bytes_strawberry_would_send() -> None:
    handler = FakeHandler()
    data = {"gatewayStatusChanged": {"status": "ERROR", "error": 'quote " and ünicode'}}
    errors = [GraphQLError("Gateway not found.", extensions={"code": "NOT_FOUND"})]
    for op_id, result in [("1", ExecutionResult(data)), ('id "2"', ExecutionResult(None, errors))]:
        operation, sink = handler.start(op_id)
        await operation.send_next(StrawberryResult(data=result.data, errors=result.errors))
        sink.send_next(encode_payload(result))
        await handler.outbox.flushed()
    assert handler.socket.sent == handler.strawberry_sent
    assert len(handler.socket.sent) == 2


async def test_nothing_is_sent_for_an_operation_the_client_completed() -> None:
    handler = FakeHandler()
    _, completed = handler.start("1")
    _, running = handler.start("2")
    handler.socket.gate.clear()  # a slow client: frames wait in the outbox
    completed.send_next('{"data":1}')
    completed.send_next('{"data":2}')
    running.send_next('{"data":3}')
    await asyncio.sleep(0)  # the writer takes the first frame and waits on the socket
    del handler.operations["1"]  # the client's `complete`, as strawberry records it
    assert not completed.active()
    completed.send_next('{"data":4}')  # after the complete: not even queued
    handler.socket.gate.set()
    await handler.outbox.flushed()
    # The first frame was already being written when the complete arrived; the rest never go.
    assert handler.socket.sent == [
        '{"id":"1","type":"next","payload":{"data":1}}',
        '{"id":"2","type":"next","payload":{"data":3}}',
    ]


async def test_a_reused_id_gets_only_its_new_operations_frames() -> None:
    handler = FakeHandler()
    handler.socket.gate.clear()
    _, old = handler.start("1")
    old.send_next('{"data":"old, being written"}')
    old.send_next('{"data":"old, waiting"}')
    await asyncio.sleep(0)
    _, new = handler.start("1")  # completed, then subscribed again under the same id
    new.send_next('{"data":"new"}')
    handler.socket.gate.set()
    await handler.outbox.flushed()
    assert handler.socket.sent == [
        '{"id":"1","type":"next","payload":{"data":"old, being written"}}',
        '{"id":"1","type":"next","payload":{"data":"new"}}',
    ]
