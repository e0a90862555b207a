"""What the webhook route needs to know about a gateway, cached so most updates cost one INSERT.

Entries expire after a short TTL and are dropped as soon as a status event for their gateway
arrives from the broker — from this process or, through Redis, from any other — so a connect or
disconnect elsewhere takes effect on the next update rather than after the TTL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from app.core.clock import Clock
from app.events.broker import Broker
from app.gateways.enums import GatewayStatus, GatewayType
from app.gateways.models import Gateway

log = logging.getLogger("app.webhooks")


@dataclass(slots=True)
class GatewayEntry:
    id: UUID
    type: GatewayType
    status: GatewayStatus
    secret_hash: str | None
    last_connected_at: datetime | None
    loaded_at: float


class GatewayDirectory:
    def __init__(
        self, *, clock: Clock, broker: Broker, ttl: float = 30.0, max_entries: int = 10_000
    ) -> None:
        self._clock = clock
        self._broker = broker
        self._ttl = ttl
        self._max_entries = max_entries
        self._entries: OrderedDict[UUID, GatewayEntry] = OrderedDict()
        self._listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._invalidate_on_events())

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener

    async def _invalidate_on_events(self) -> None:
        async with self._broker.subscribe() as events:
            async for event in events:
                self.invalidate(event.gateway_id)

    def invalidate(self, gateway_id: UUID) -> None:
        self._entries.pop(gateway_id, None)

    async def get(self, gateway_id: UUID) -> GatewayEntry | None:
        now = self._clock.monotonic()
        entry = self._entries.get(gateway_id)
        if entry is not None and now - entry.loaded_at < self._ttl:
            self._entries.move_to_end(gateway_id)
            return entry
        row = await Gateway.get_or_none(id=gateway_id).only(
            "id", "type", "status", "webhook_secret_hash", "last_connected_at"
        )
        if row is None:
            # Unknown ids are not cached: anyone can send them, and they must not fill memory.
            self._entries.pop(gateway_id, None)
            return None
        entry = GatewayEntry(
            id=row.id,
            type=row.type,
            status=row.status,
            secret_hash=row.webhook_secret_hash,
            last_connected_at=row.last_connected_at,
            loaded_at=now,
        )
        self._entries[gateway_id] = entry
        if len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return entry
