"""The multi-process broker: events travel over one Redis pub/sub channel.

    process A                               Redis                    every process (A too)
    publish() ── PUBLISH channel <json> ──▶ channel ── message ──▶ listener task ──▶ LocalFanOut

The publisher's own process also receives its events back through its listener, so there is a
single delivery path and every instance delivers the same events in the same (Redis) order.

Failure behaviour (Redis pub/sub is at-most-once):

- `publish()` never raises because Redis is unreachable: the status change it reports is already
  committed, and failing the mutation, webhook or worker would not undo it. It logs
  `events.redis.publish_failed` and returns within about `publish_timeout` seconds.
- The listener outlives a dropped connection. It logs `events.redis.listener_disconnected`,
  retries with capped exponential backoff and logs `events.redis.reconnected` once subscribed
  again. Events published meanwhile are lost for this process's subscribers.
- A silently dead connection (half-open TCP behind a NAT or load balancer) would otherwise stall
  the listener forever: after `ping_interval` idle seconds it sends PING, and no reply within
  another interval counts as a drop.

Logs name the server as host:port only, because a Redis URL may carry a password.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from app.events.broker import DEFAULT_QUEUE_SIZE, EventFilter, LocalFanOut, Subscription
from app.events.types import GatewayStatusChanged

logger = logging.getLogger("app.events")

DEFAULT_CHANNEL = "gateway-events"
DEFAULT_CLIENT_NAME = "gateway-api-events"


def backoff_delays(initial: float, maximum: float) -> Iterator[float]:
    """initial, 2*initial, 4*initial... capped at maximum, forever."""
    delay = initial
    while True:
        yield delay
        delay = min(delay * 2, maximum)


def redis_target(url: str) -> str:
    """host:port of a Redis URL, safe to log (no user, password or database)."""
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss", "unix"}:
        raise ValueError("Redis URL scheme must be redis://, rediss:// or unix://")
    if parts.scheme == "unix":
        return "unix-socket"
    try:
        port = parts.port or 6379
    except ValueError:
        raise ValueError("Redis URL has an invalid port") from None
    host = parts.hostname or "localhost"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class RedisBroker:
    def __init__(
        self,
        url: str,
        channel: str = DEFAULT_CHANNEL,
        *,
        reconnect_delay: float = 0.5,
        max_reconnect_delay: float = 10.0,
        publish_timeout: float = 2.0,
        ping_interval: float = 30.0,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        client_name: str = DEFAULT_CLIENT_NAME,
    ) -> None:
        if not 0 < reconnect_delay <= max_reconnect_delay:
            raise ValueError("need 0 < reconnect_delay <= max_reconnect_delay")
        self._target = redis_target(url)  # also validates the URL before start-up
        self._url = url
        self._channel = channel
        self._reconnect_delay = reconnect_delay
        self._max_reconnect_delay = max_reconnect_delay
        self._publish_timeout = publish_timeout
        self._ping_interval = ping_interval
        self._client_name = client_name
        self._fanout = LocalFanOut(queue_size=queue_size)
        self._publisher: Redis | None = None
        self._subscriber: Redis | None = None
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._closed = False
        self._failures = 0  # consecutive failed listener sessions, reset once subscribed

    @property
    def subscriber_count(self) -> int:
        return len(self._fanout)

    @property
    def subscribed(self) -> bool:
        """Whether the listener is subscribed right now (for health checks)."""
        return self._subscribed.is_set()

    async def wait_subscribed(self) -> None:
        """Wait until the listener's SUBSCRIBE is in effect (bound it with asyncio.timeout)."""
        await self._subscribed.wait()

    async def start(self) -> None:
        """Create the clients and start the listener; does not wait for Redis to answer."""
        if self._publisher is not None or self._closed:
            raise RuntimeError("RedisBroker.start() can be called only once")
        # One immediate retry lets a publish survive a pooled connection that Redis dropped.
        self._publisher = self._client(retries=1)
        # No retries inside redis-py for the listener: its own loop reconnects, so that every
        # gap (and the events lost in it) is logged instead of being papered over.
        self._subscriber = self._client(retries=0)
        self._listener = asyncio.create_task(self._listen(), name="events.redis.listener")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._fanout.close()
        if self._listener is not None:
            self._listener.cancel()
            # wait() rather than `await task`: a cancellation of close() itself still propagates.
            await asyncio.wait({self._listener})
            self._listener = None
        for client in (self._publisher, self._subscriber):
            if client is not None:
                await client.aclose()
        self._publisher = self._subscriber = None
        self._subscribed.clear()

    async def publish(self, event: GatewayStatusChanged) -> None:
        if self._publisher is None:
            if self._closed:
                # Shutdown races (a worker finishing after the broker closed) are not errors.
                logger.info("events.redis.publish_skipped", extra=self._extra(event))
                return
            raise RuntimeError("RedisBroker.publish() called before start()")
        try:
            async with asyncio.timeout(self._publish_timeout):
                await self._publisher.publish(self._channel, event.to_json())
        except (RedisError, OSError, TimeoutError) as exc:
            logger.warning(
                "events.redis.publish_failed",
                extra={**self._extra(event), "error": _describe(exc)},
            )

    def subscribe(
        self, *, accept: EventFilter | None = None, maxsize: int | None = None
    ) -> Subscription:
        return self._fanout.subscribe(accept=accept, maxsize=maxsize)

    # -- listener ------------------------------------------------------------------------------

    async def _listen(self) -> None:
        delays = backoff_delays(self._reconnect_delay, self._max_reconnect_delay)
        assert self._subscriber is not None
        while True:
            try:
                async with self._subscriber.pubsub() as pubsub:
                    await self._session(pubsub)
            except (RedisError, OSError) as exc:
                self._on_session_failed(_describe(exc))
            except Exception as exc:
                # A bug must not end live updates for the life of the process: log and retry.
                logger.exception("events.redis.listener_failed", extra=self._extra())
                self._on_session_failed(_describe(exc))
            if self._failures == 1:  # a new outage: back off from reconnect_delay again
                delays = backoff_delays(self._reconnect_delay, self._max_reconnect_delay)
            await asyncio.sleep(next(delays))

    async def _session(self, pubsub: PubSub) -> None:
        """Subscribe and deliver until the connection fails (always ends with an exception)."""
        await pubsub.subscribe(self._channel)
        awaiting_pong = False
        while True:
            message: dict[str, Any] | None = await pubsub.get_message(timeout=self._ping_interval)
            if message is None:  # idle for a whole interval
                if awaiting_pong:
                    raise RedisConnectionError("no reply to PING: connection presumed dead")
                await pubsub.ping()
                awaiting_pong = True
                continue
            awaiting_pong = False
            if message["type"] == "message":
                self._on_message(message["data"])
            elif message["type"] == "subscribe":
                self._on_subscribed()

    def _on_subscribed(self) -> None:
        self._subscribed.set()
        if self._failures:
            logger.warning(
                "events.redis.reconnected", extra={**self._extra(), "attempts": self._failures}
            )
        else:
            logger.info("events.redis.subscribed", extra=self._extra())
        self._failures = 0

    def _on_session_failed(self, error: str) -> None:
        self._subscribed.clear()
        self._failures += 1
        # Warn once per outage; the retries in between are debug noise.
        level = logging.WARNING if self._failures == 1 else logging.DEBUG
        logger.log(
            level,
            "events.redis.listener_disconnected",
            extra={**self._extra(), "attempts": self._failures, "error": error},
        )

    def _on_message(self, data: object) -> None:
        if not isinstance(data, bytes | str):
            return
        try:
            event = GatewayStatusChanged.from_json(data)
        except ValueError as exc:
            # Another release's event kind, or garbage on the channel: skip, keep listening.
            logger.warning(
                "events.redis.message_invalid", extra={**self._extra(), "error": str(exc)}
            )
            return
        self._fanout.deliver(event)

    # -- helpers -------------------------------------------------------------------------------

    def _client(self, *, retries: int) -> Redis:
        return Redis.from_url(
            self._url,
            retry=Retry(NoBackoff(), retries),
            socket_connect_timeout=self._publish_timeout,
            socket_timeout=self._publish_timeout,
            client_name=self._client_name,
        )

    def _extra(self, event: GatewayStatusChanged | None = None) -> dict[str, str]:
        extra = {"target": self._target, "channel": self._channel}
        if event is not None:
            extra["event_id"] = str(event.event_id)
            extra["gateway_id"] = str(event.gateway_id)
        return extra


def _describe(exc: BaseException) -> str:
    # redis-py messages name host:port, never the password; the class name says what failed.
    return f"{type(exc).__name__}: {exc}"
