"""Status events for the WebSocket subscribers of this process, executed once per group.

    broker ──▶ StatusHub (one subscription, one task)
                 │ scope filter, token re-checks, the gateway read once
                 │ group subscribers whose payloads would be identical
                 ├── group A: execute the selection once, encode once ──▶ socket, socket, ...
                 └── group B: ...

The alternative, one task per subscriber each executing and encoding the same selection, costs
about half a millisecond per delivery: a change seen by a thousand subscribers then reaches the
last of them half a second late (bench/ fanout). Subscribers are grouped by document,
variables and tenant scope; a document that selects something personal to the viewer (their
role, their memberships) also groups by user and role, so nothing personal is ever shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from graphql import GraphQLError

from app.events.broker import Broker, EventFilter, Subscription
from app.events.types import GatewayStatusChanged
from app.gateways.models import Gateway as GatewayRow
from app.gateways.nodes import GatewaySelection
from app.gateways.status_events import LatestOnly, in_scope_row, status_event_of
from app.graphql.context import Context
from app.graphql.errors import MASKED_MESSAGE
from app.graphql.shared_execution import FieldSet, SharedOperation
from app.graphql.transport_ws import OperationSink
from app.service_context import ServiceContext

logger = logging.getLogger("app.gateways.live")

# Fields whose value depends only on the event and the tenant scope, never on who is looking.
# Anything not listed (Organization.viewerRole, Organization.members, User.memberships,
# Gateway.auditEvents, and any field added later) makes a document group per viewer instead.
SCOPE_SHARED_FIELDS: FieldSet = {
    "Subscription": frozenset({"gatewayStatusChanged"}),
    "GatewayStatusEvent": frozenset({"gateway", "previousStatus", "status", "error", "occurredAt"}),
    "Gateway": frozenset(
        {
            "id",
            "name",
            "type",
            "status",
            "config",
            "lastConnectedAt",
            "lastErrorAt",
            "lastError",
            "createdAt",
            "updatedAt",
            "owner",
            "organization",
            "credentialInfo",
            "circuit",
            "supportedActions",
        }
    ),
    "User": frozenset({"id", "email", "name", "createdAt"}),
    "Organization": frozenset({"id", "name", "slug", "createdAt"}),
    "TelegramBotCredentialInfo": frozenset({"botTokenHint", "botUsername"}),
    "AICredentialInfo": frozenset({"provider", "apiKeyHint", "baseUrl", "model"}),
    "WebhookCredentialInfo": frozenset({"url", "hasSigningSecret"}),
    "UndecryptableCredentialInfo": frozenset({"message"}),
    "CircuitStats": frozenset(
        {
            "state",
            "failures",
            "successes",
            "lastFailureAt",
            "lastStateChangeAt",
            "retryAfterSeconds",
        }
    ),
    "GatewayAction": frozenset({"name", "description"}),
}


def auth_expired() -> GraphQLError:
    return GraphQLError("Authentication expired.", extensions={"code": "UNAUTHENTICATED"})


def masked() -> GraphQLError:
    # No original error: strawberry's error policy passes it as it is, and does not log it again.
    return GraphQLError(MASKED_MESSAGE)


@dataclass(eq=False)
class LiveSubscriber:
    """One `gatewayStatusChanged` operation on a socket of this process."""

    context: Context  # the connection's: its token is re-checked like any socket's
    scope: ServiceContext
    accept: EventFilter
    selection: GatewaySelection
    operation: SharedOperation
    sink: OperationSink
    # Subscribers with equal keys are sent the same bytes for the same event.
    key: Hashable
    ended: asyncio.Future[None] = field(default_factory=asyncio.Future)

    @classmethod
    def of(
        cls,
        context: Context,
        scope: ServiceContext,
        accept: EventFilter,
        selection: GatewaySelection,
        operation: SharedOperation,
        sink: OperationSink,
    ) -> LiveSubscriber:
        tenant = (
            ("organization", scope.organization_id)
            if scope.organization_id is not None
            else ("user", scope.user_id)
        )
        viewer = (
            None
            if operation.selects_only(SCOPE_SHARED_FIELDS)
            else (scope.user_id, scope.role.value)
        )
        key = (operation.document_key, tenant, viewer)
        return cls(context, scope, accept, selection, operation, sink, key)

    def end(self, error: BaseException | None = None) -> None:
        """End the stream: normally, or with `error` sent to the client first."""
        if self.ended.done():
            return
        if error is None:
            self.ended.set_result(None)
        else:
            self.ended.set_exception(error)


class StatusHub:
    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self._subscribers: set[LiveSubscriber] = set()
        # Every subscriber sees the events in the hub's order, so one LatestOnly serves them all.
        self._latest = LatestOnly()
        self._task: asyncio.Task[None] | None = None

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    async def start(self) -> None:
        # Entered here rather than in the task: an event published right after start() returns
        # is already queued for the hub.
        subscription = self._broker.subscribe()
        await subscription.__aenter__()
        self._task = asyncio.create_task(self._run(subscription), name="gateway-status-hub")

    async def close(self) -> None:
        """Stop (the broker is closing): every stream ends normally, with `complete`."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._end_all(self._subscribers)

    async def serve(self, subscriber: LiveSubscriber) -> None:
        """Deliver events to `subscriber` until its stream ends; raises the error ending it."""
        if self._task is None or self._task.done():
            subscriber.end()  # shutting down: nothing more will be delivered
        self._subscribers.add(subscriber)
        try:
            await asyncio.wait((subscriber.ended,))
        finally:
            self._subscribers.discard(subscriber)
            subscriber.ended.cancel()  # when the client went away: a later end() does nothing
        # Results already put on the socket go out before strawberry's error or `complete`.
        await subscriber.sink.flushed()
        subscriber.ended.result()  # raises the error the stream ends with, if any

    async def _run(self, subscription: Subscription) -> None:
        try:
            async for event in subscription:
                try:
                    await self._dispatch(event)
                except Exception:
                    # A bug while dispatching one event must not end live status for everyone.
                    logger.exception(
                        "gateways.live.dispatch_failed", extra={"event_id": str(event.event_id)}
                    )
        finally:
            await subscription.__aexit__(None, None, None)
            # The broker closed (or the hub is stopping): nothing more will arrive.
            self._end_all(self._subscribers)

    async def _dispatch(self, event: GatewayStatusChanged) -> None:
        if not self._latest.is_current(event):
            return
        audience = [s for s in self._subscribers if s.sink.active and s.accept(event)]
        if not audience:
            return
        audience = await self._authenticated(audience)
        try:
            # The gateway as it is now (fresher than the event), read once for everyone.
            row = await GatewayRow.get_or_none(id=event.gateway_id)
        except Exception:
            self._fail(audience, "read of the changed gateway", event)
            return
        if row is None:  # deleted since: nothing left to show
            return
        groups: dict[Hashable, list[LiveSubscriber]] = {}
        for subscriber in audience:
            if in_scope_row(subscriber.scope, row):
                groups.setdefault(subscriber.key, []).append(subscriber)
        await asyncio.gather(*(self._deliver(event, row, group) for group in groups.values()))

    async def _deliver(
        self, event: GatewayStatusChanged, row: GatewayRow, group: list[LiveSubscriber]
    ) -> None:
        first = group[0]
        try:
            context = first.context.for_event()
            root = await status_event_of(context, event, row, first.selection)
            payload = await first.operation.execute(root, context)
        except Exception:
            self._fail(group, "execution of a status event", event)
            return
        for subscriber in group:
            subscriber.sink.send_next(payload)

    async def _authenticated(self, audience: list[LiveSubscriber]) -> list[LiveSubscriber]:
        """The subscribers whose token is still live; the others' streams end."""
        due = {id(s.context): s.context for s in audience if s.context.auth_check_due()}
        if not due:
            return audience
        checks = await asyncio.gather(
            *(context.still_authenticated() for context in due.values()), return_exceptions=True
        )
        verdict = dict(zip(due, checks, strict=True))
        live: list[LiveSubscriber] = []
        for subscriber in audience:
            outcome = verdict.get(id(subscriber.context), True)
            if outcome is True:
                live.append(subscriber)
            elif isinstance(outcome, BaseException):
                logger.error("gateways.live.auth_check_failed", exc_info=outcome)
                subscriber.end(masked())
            else:
                subscriber.end(auth_expired())
        return live

    def _fail(
        self, group: Iterable[LiveSubscriber], step: str, event: GatewayStatusChanged
    ) -> None:
        # Logged once for the group; each client gets the masked error, as a failure inside its
        # own stream would have given it, and the stream ends.
        logger.exception(
            "gateways.live.delivery_failed", extra={"step": step, "event_id": str(event.event_id)}
        )
        for subscriber in group:
            subscriber.end(masked())

    @staticmethod
    def _end_all(subscribers: Iterable[LiveSubscriber]) -> None:
        for subscriber in list(subscribers):
            subscriber.end()
