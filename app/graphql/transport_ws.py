"""graphql-transport-ws with a side door: a subscription's results can be written to its socket
by someone other than the operation's own task.

strawberry runs every subscription as a task that executes the selection for each event and
sends the result. For a status event that a thousand subscribers receive identically, that is a
thousand executions and encodings of the same payload. The gateway status hub instead executes
once per group of identical subscriptions and puts the encoded `next` message on each socket
through the operation's `OperationSink` (Phoenix calls this a channel "fastlane"). The
operation's task stays the one that starts and ends the stream, so `complete`, errors, the
per-connection cap and clean-up remain strawberry's.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from starlette.websockets import WebSocket
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)

from app.core import strict_json
from app.graphql.context import Context
from app.graphql.outbox import Frame, Outbox

# The operation the current task is running, set for the task's whole life (each operation has
# its own task), so a subscription resolver can find its way to the socket.
current_sink: ContextVar[OperationSink | None] = ContextVar("current_sink", default=None)


def encode_json(data: object) -> str:
    """JSON as strawberry encodes every graphql-transport-ws message (BaseView.encode_json)."""
    return strict_json.compact(data)


class OperationSink:
    """Where results of one running operation can be put directly."""

    __slots__ = ("_active", "_handler", "_operation", "_prefix")

    def __init__(self, handler: TransportWSHandler, operation: Operation[Context, None]) -> None:
        self._handler = handler
        self._operation = operation
        # The message around the payload, as strawberry's send_next encodes it: the same keys
        # in the same order, the same separators.
        self._prefix = '{"id":' + encode_json(operation.id) + ',"type":"next","payload":'
        self._active = self.active  # bound once: asked again for every frame, at write time

    def active(self) -> bool:
        """Still running: the client has not completed it and the socket has not closed.

        strawberry forgets the operation as soon as the client's `complete` is read, before the
        task has even been cancelled; nothing may be sent for it after that.
        """
        return self._handler.operations.get(self._operation.id) is self._operation

    def send_next(self, payload_json: str) -> None:
        """Queue a `next` message with an already encoded ExecutionResult payload."""
        if self.active():
            self._handler.outbox.put(Frame((self._prefix, payload_json, "}"), self._active))

    async def flushed(self) -> None:
        """Until what this connection queued is written: the operation's own final messages
        (an error, `complete`) must not overtake results put here before them."""
        await self._handler.outbox.flushed()


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        socket = self.context.request
        if not isinstance(socket, WebSocket):  # the view builds the context from the socket
            raise TypeError("a graphql-transport-ws context must hold its WebSocket")
        self.outbox = Outbox(socket)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        # Runs as the operation's own task: the variable is seen by that task only.
        current_sink.set(OperationSink(self, operation))
        await super().run_operation(operation)

    async def shutdown(self) -> None:
        await super().shutdown()
        await self.outbox.close()
