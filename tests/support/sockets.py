"""A stand-in for what the outbox uses of a Starlette WebSocket."""

from __future__ import annotations

import asyncio

from starlette.websockets import WebSocketState


class FakeSocket:
    """`gate` holds every send, as a peer's full buffer would; `fail_with` makes sends raise."""

    def __init__(self) -> None:
        self.application_state = WebSocketState.CONNECTED
        self.sent: list[str] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail_with: Exception | None = None

    async def send_text(self, text: str) -> None:
        await self.gate.wait()
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(text)
