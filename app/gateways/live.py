"""Status events for the WebSocket subscribers of this process, executed once per group.

    broker ──▶ StatusHub (one subscription, one task)
                 │ scope filter, token and membership re-checks, the gateway read once
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
import logging
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

from graphql import GraphQLError

from app.auth.service import AuthService
from app.events.broker import Broker, EventFilter, Subscription
from app.events.types import GatewayStatusChanged
from app.gateways.live_fields import ScopeSharing
from app.gateways.models import Gateway as GatewayRow
from app.gateways.nodes import GatewaySelection
from app.gateways.status_events import LatestOnly, in_scope_row, status_event_of
from app.graphql.context import Context, TokenState
from app.graphql.errors import MASKED_MESSAGE
from app.graphql.shared_execution import SharedOperation
from app.graphql.transport_ws import OperationSink
from app.organizations.service import system_current_members
from app.service_context import ServiceContext

logger = logging.getLogger("app.gateways.live")


# Events queued for the hub, all tenants together; one subscriber's queue holds 256. Several
# thousand covers a burst such as a health-check pass turning many gateways to ERROR at once.
HUB_QUEUE_SIZE = 8192


def auth_expired() -> GraphQLError:
    return GraphQLError("Authentication expired.", extensions={"code": "UNAUTHENTICATED"})


def membership_ended() -> GraphQLError:
    return GraphQLError(
        "You are no longer a member of this organization.", extensions={"code": "FORBIDDEN"}
    )


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
        *,
        scope_only: bool,
    ) -> LiveSubscriber:
        """`scope_only`: the operation selects nothing that depends on the viewer."""
        tenant = (
            ("organization", scope.organization_id)
            if scope.organization_id is not None
            else ("user", scope.user_id)
        )
        viewer = None if scope_only else (scope.user_id, scope.role.value)
        key = (operation.document_key, tenant, viewer)
        return cls(context, scope, accept, selection, operation, sink, key)

    @property
    def receiving(self) -> bool:
        return not self.ended.done() and self.sink.active()

    def end(self, error: BaseException | None = None) -> None:
        """End the stream: normally, or with `error` sent to the client first."""
        if self.ended.done():
            return
        if error is None:
            self.ended.set_result(None)
        else:
            self.ended.set_exception(error)


class StatusHub:
    def __init__(
        self,
        broker: Broker,
        auth: AuthService,
        *,
        on_delivered: Callable[[int], None] | None = None,
    ) -> None:
        self._broker = broker
        self._auth = auth
        self._on_delivered = on_delivered  # metrics: messages put on sockets
        # A dict as an ordered set: delivery goes in subscription order, and a group's first
        # subscriber (whose context executes the group's selection) is its oldest.
        self._subscribers: dict[LiveSubscriber, None] = {}
        # Every subscriber sees the events in the hub's order, so one LatestOnly serves them all.
        self._latest = LatestOnly()
        self._task: asyncio.Task[None] | None = None
        self._scope_sharing = ScopeSharing()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    async def start(self) -> None:
        # Entered here rather than in the task: an event published right after start() returns
        # is already queued for the hub.
        subscription = self._broker.subscribe(maxsize=HUB_QUEUE_SIZE)
        await subscription.__aenter__()
        self._task = asyncio.create_task(self._run(subscription), name="gateway-status-hub")
        self._task.add_done_callback(self._stopped)

    async def close(self) -> None:
        """Stop (the broker is closing): every stream ends normally, with `complete`."""
        if self._task is not None:
            self._task.cancel()
            # Whatever it ended with was logged by _stopped; shutting down goes on regardless.
            await asyncio.gather(self._task, return_exceptions=True)
        self._end_all()

    def subscriber(
        self,
        context: Context,
        scope: ServiceContext,
        accept: EventFilter,
        selection: GatewaySelection,
        operation: SharedOperation,
        sink: OperationSink,
    ) -> LiveSubscriber:
        return LiveSubscriber.of(
            context,
            scope,
            accept,
            selection,
            operation,
            sink,
            scope_only=self._scope_sharing(operation),
        )

    async def serve(self, subscriber: LiveSubscriber) -> None:
        """Deliver events to `subscriber` until its stream ends; raises the error ending it."""
        if self._task is None or self._task.done():
            subscriber.end()  # shutting down: nothing more will be delivered
        self._subscribers[subscriber] = None
        try:
            await asyncio.wait((subscriber.ended,))
        finally:
            self._subscribers.pop(subscriber, None)
            if subscriber.ended.done():
                # The client may have gone while an error was being set: retrieve it, so that
                # asyncio does not report it as never retrieved.
                subscriber.ended.exception()
            else:
                subscriber.ended.cancel()  # the client went away: a later end() does nothing
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
            self._end_all()

    async def _dispatch(self, event: GatewayStatusChanged) -> None:
        if not self._latest.is_current(event):
            return
        audience = [s for s in self._subscribers if s.accept(event) and s.receiving]
        if not audience:
            return
        audience = await self._members(await self._authenticated(audience))
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
        delivered = 0
        for subscriber in group:
            # Ended while the group was being executed: its task sends the end, nothing after.
            if not subscriber.ended.done():
                subscriber.sink.send_next(payload)
                delivered += 1
        if self._on_delivered is not None:
            self._on_delivered(delivered)

    async def _authenticated(self, audience: list[LiveSubscriber]) -> list[LiveSubscriber]:
        """The subscribers whose token is still live; the others' streams end.

        Tokens due for a re-check are looked up in one query for all of them: after a quiet
        spell every socket is due at once, and a query each would delay the whole fan-out.
        """
        due = [s.context for s in audience if s.context.token_state() is TokenState.RECHECK]
        if due:
            try:
                live_until = await self._auth.live_until(
                    {c.token_hash for c in due if c.token_hash}
                )
            except Exception:
                self._fail(audience, "token re-check", None)
                return []
            for context in due:  # a connection's several subscriptions share its context
                context.note_token_checked(live_until.get(context.token_hash or ""))
        live: list[LiveSubscriber] = []
        for subscriber in audience:
            if subscriber.context.token_state() is TokenState.ENDED:
                subscriber.end(auth_expired())
            else:
                live.append(subscriber)
        return live

    async def _members(self, audience: list[LiveSubscriber]) -> list[LiveSubscriber]:
        """The subscribers still members of the organization they subscribed in; the streams of
        the others (removed, or left) end with FORBIDDEN.

        Asked before every event, in one query for the whole audience: a removal must stop the
        events at once, and a cache would let them through until it expired.
        """
        pairs = {
            (s.scope.organization_id, s.scope.user_id)
            for s in audience
            if s.scope.organization_id is not None
        }
        if not pairs:
            return audience
        try:
            current = await system_current_members(pairs)
        except Exception:
            self._fail(audience, "membership re-check", None)
            return []
        kept: list[LiveSubscriber] = []
        for subscriber in audience:
            org_id = subscriber.scope.organization_id
            if org_id is None or (org_id, subscriber.scope.user_id) in current:
                kept.append(subscriber)
            else:
                subscriber.end(membership_ended())
        return kept

    def _fail(
        self, group: Iterable[LiveSubscriber], step: str, event: GatewayStatusChanged | None
    ) -> None:
        # Logged once for the group; each client gets the masked error, as a failure inside its
        # own stream would have given it, and the stream ends.
        logger.exception(
            "gateways.live.delivery_failed",
            extra={"step": step, "event_id": str(event.event_id) if event else None},
        )
        for subscriber in group:
            subscriber.end(masked())

    def _stopped(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error("gateways.live.stopped", exc_info=exc)

    def _end_all(self) -> None:
        for subscriber in list(self._subscribers):
            subscriber.end()
