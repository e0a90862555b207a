"""Helpers shared by the event tests: building events and reading one with a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

from app.events.types import GatewayStatusChanged
from app.gateways.enums import GatewayStatus


def make_event(**overrides: Any) -> GatewayStatusChanged:
    """A valid event; keyword arguments override any field."""
    fields: dict[str, Any] = {
        "gateway_id": uuid4(),
        "owner_id": uuid4(),
        "organization_id": None,
        "previous_status": GatewayStatus.CONNECTING,
        "status": GatewayStatus.CONNECTED,
        "error": None,
    }
    fields.update(overrides)
    return GatewayStatusChanged(**fields)


async def next_event(
    events: AsyncIterator[GatewayStatusChanged], within: float = 5.0
) -> GatewayStatusChanged:
    """The next event, or TimeoutError after `within` seconds: no test waits without a bound."""
    return await asyncio.wait_for(anext(events), within)
