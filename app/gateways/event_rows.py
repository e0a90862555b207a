"""One database read of a changed gateway per status event, shared by every local subscriber.

With a thousand subscribers in scope, reading the gateway once per subscriber would be a
thousand identical queries per change; the first subscriber's read is awaited by all others.
"""

from __future__ import annotations

import asyncio
from uuid import UUID

from app.core.clock import Clock
from app.events.types import GatewayStatusChanged
from app.gateways.models import Gateway

# Subscribers receive an event within milliseconds of each other; a read is reused that long.
KEEP_SECONDS = 5.0


class EventRowReader:
    def __init__(self, clock: Clock, keep: float = KEEP_SECONDS) -> None:
        self._clock = clock
        self._keep = keep
        self._reads: dict[UUID, tuple[float, asyncio.Future[Gateway | None]]] = {}

    async def gateway_for(self, event: GatewayStatusChanged) -> Gateway | None:
        """The gateway as it is after `event` (None once deleted), read once per event."""
        now = self._clock.monotonic()
        self._forget_older_than(now - self._keep)
        entry = self._reads.get(event.event_id)
        if entry is None:
            started = asyncio.ensure_future(Gateway.get_or_none(id=event.gateway_id))
            entry = self._reads[event.event_id] = (now, started)
        read = entry[1]
        if read.done():  # most subscribers arrive after the first one's read finished
            return read.result()
        # Shielded: one subscriber going away must not cancel the read the others wait for.
        return await asyncio.shield(read)

    def _forget_older_than(self, cutoff: float) -> None:
        stale = [key for key, (started, _) in self._reads.items() if started < cutoff]
        for key in stale:
            del self._reads[key]
