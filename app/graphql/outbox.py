"""Frames waiting to be written to one WebSocket, written in order without blocking the writer.

A broadcast that writes to a thousand sockets must not wait for any one of them: uvicorn's
`send` suspends while the peer's TCP buffer is full, so awaiting it in the broadcast loop would
let one client that stops reading stall every other delivery. The broadcast only appends to an
Outbox; a task that exists only while frames are pending writes them out.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import NamedTuple

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

logger = logging.getLogger("app.graphql.outbox")

# Frames of one socket that may wait; the same bound as a broker subscriber's queue. A client
# this far behind loses its oldest frames: status events are superseded by newer ones.
OUTBOX_LIMIT = 256


class Frame(NamedTuple):
    # Joined only when written: a payload shared by a thousand sockets is not copied a thousand
    # times while it waits.
    parts: tuple[str, ...]
    # Asked right before writing: a frame of an operation the client completed meanwhile is
    # dropped instead of arriving after the `complete` (or under a reused id).
    wanted: Callable[[], bool]


class Outbox:
    def __init__(self, websocket: WebSocket, *, limit: int = OUTBOX_LIMIT) -> None:
        self._websocket = websocket
        self._limit = limit
        self._frames: deque[Frame] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._gone = False
        self.dropped = 0

    @property
    def pending(self) -> int:
        return len(self._frames)

    def put(self, frame: Frame) -> None:
        """Queue `frame` for the socket; returns at once, whatever the socket's state."""
        if self._gone:
            return
        if len(self._frames) >= self._limit:
            self._frames.popleft()
            self.dropped += 1
            # Log the 1st, 2nd, 4th, 8th... drop: a stuck client must not flood the log.
            if self.dropped & (self.dropped - 1) == 0:
                logger.warning(
                    "graphql.outbox.overflow", extra={"dropped": self.dropped, "limit": self._limit}
                )
        self._frames.append(frame)
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())

    async def flushed(self) -> None:
        """Until every frame queued so far has been handed to the socket (or it went away).

        A peer that stopped reading holds this up to uvicorn's ping timeout, after which the
        socket is closed and the wait ends."""
        while self._writer is not None:
            await asyncio.shield(self._writer)

    async def close(self) -> None:
        """Stop writing and drop what is left: the connection is ending."""
        self._gone = True
        self._frames.clear()
        writer = self._writer
        if writer is not None:
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)

    async def _write(self) -> None:
        try:
            # No await between the emptiness check and the loop's end, so a frame put while the
            # last one was being written is always picked up by this same task.
            while self._frames:
                if self._websocket.application_state is not WebSocketState.CONNECTED:
                    self._went_away()
                    return
                frame = self._frames.popleft()
                if frame.wanted():
                    await self._websocket.send_text("".join(frame.parts))
        except WebSocketDisconnect:
            # The peer is gone; strawberry's handler sees it too and ends the operations.
            self._went_away()
        except Exception:
            # Not a disconnect: a bug, or a state the socket should not be in. Nothing more is
            # written to it (what follows would be out of order); the operations end as usual.
            logger.exception("graphql.outbox.write_failed")
            self._went_away()
        finally:
            self._writer = None

    def _went_away(self) -> None:
        self._gone = True
        self._frames.clear()
