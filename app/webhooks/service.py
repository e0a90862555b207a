"""Reading the inbox, scoped to the caller's tenant."""

from __future__ import annotations

from uuid import UUID

from app.gateways.service import scoped
from app.service_context import ServiceContext
from app.webhooks.models import TelegramUpdate

MAX_UPDATES = 200


async def list_updates(
    ctx: ServiceContext, gateway_id: UUID | None, first: int = 50
) -> list[TelegramUpdate]:
    """Newest first, at most `first` (capped at MAX_UPDATES); empty for a gateway outside the
    scope (no existence leak) and for `first` < 1."""
    if first < 1 or gateway_id is None or not await scoped(ctx).filter(id=gateway_id).exists():
        return []
    limit = min(first, MAX_UPDATES)
    return (
        await TelegramUpdate.filter(gateway_id=gateway_id)
        .order_by("-received_at", "-update_id")
        .limit(limit)
    )
