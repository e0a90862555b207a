"""graphql-transport-ws with a side door (a subscription's results can be written to its socket
by someone other than the operation's own task), and with refusals that say why.

strawberry runs every subscription as a task that executes the selection for each event and
sends the result. For a status event that a thousand subscribers receive identically, that is a
thousand executions and encodings of the same payload. The gateway status hub instead executes
once per group of identical subscriptions and puts the encoded `next` message on each socket
through the operation's `OperationSink` (Phoenix calls this a channel "fastlane"). The
operation's task stays the one that starts and ends the stream, so `complete`, errors, the
per-connection cap and clean-up remain strawberry's.

Messages strawberry would trip over (not an object, a `subscribe` payload of the wrong shape)
close the socket with 4400 and a reason, as the protocol asks, instead of ending the connection
with an unhandled exception.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from starlette.websockets import WebSocket
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)

from app.core import strict_json
from app.graphql.context import Context
from app.graphql.outbox import Frame, Outbox
from app.graphql.request import RequestError, request_data
from app.organizations.service import membership_role


class WebSocketRefusal(Exception):
    """Raised by the view's `on_ws_connect` to close the socket with this code and reason.

    Not strawberry's ConnectionRejectionError, which always closes with "4403 Forbidden" and
    leaves the client guessing which of the token, the organization or the payload was wrong.
    """

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


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


async def recheck_membership(context: Context) -> None:
    """A socket chooses its organization scope once, at `connection_init`, but membership can
    change while it stays open: each new operation on it (query, mutation or subscription)
    acts with the caller's current role, and is refused once they are no longer a member, as
    the next HTTP request would be. (Running status subscriptions: `StatusHub._members`.)"""
    if context.organization_id is None or context.user is None or context.scope_error:
        return
    role = await membership_role(context.user.id, context.organization_id)
    if role is not context.role:
        context.rescope(role)


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        socket = self.context.request
        if not isinstance(socket, WebSocket):  # the view builds the context from the socket
            raise TypeError("a graphql-transport-ws context must hold its WebSocket")
        self.outbox = Outbox(socket)

    async def handle_message(self, message: Message) -> None:
        # strawberry indexes the message and its payload directly: a list, a string or a
        # payload of the wrong type would raise TypeError out of the connection's task.
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self.handle_invalid_message("Invalid message: expected an object with a type")
            return
        if message["type"] == "subscribe":
            problem = subscribe_problem(message)
            if problem is not None:
                await self.handle_invalid_message(f"Invalid subscribe message: {problem}")
                return
        await super().handle_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except WebSocketRefusal as refusal:
            await self.websocket.close(code=refusal.code, reason=refusal.reason)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        # Runs as the operation's own task: the variable is seen by that task only.
        current_sink.set(OperationSink(self, operation))
        await recheck_membership(self.context)
        await super().run_operation(operation)

    async def shutdown(self) -> None:
        await super().shutdown()
        await self.outbox.close()


def subscribe_problem(message: SubscribeMessage) -> str | None:
    """What is wrong with a `subscribe` message, or None; the payload is checked like an HTTP
    request's parameters."""
    if not isinstance(message.get("id"), str) or not message["id"]:
        return "`id` must be a non-empty string"
    payload = message.get("payload")
    if not isinstance(payload, dict):
        return "`payload` must be an object"
    try:
        request_data(payload)
    except RequestError as exc:
        return exc.message
    return None
