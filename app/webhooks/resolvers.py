"""Inbox query."""

from __future__ import annotations

import strawberry

from app.core.ids import parse_uuid
from app.graphql.context import Info
from app.graphql.permissions import require_scope
from app.webhooks import service
from app.webhooks.types import TelegramUpdate


@strawberry.type
class WebhookQuery:
    @strawberry.field(description="Newest first.")
    async def telegram_updates(
        self, info: Info, gateway_id: strawberry.ID, first: int = 50
    ) -> list[TelegramUpdate]:
        ctx = require_scope(info)
        rows = await service.list_updates(ctx, parse_uuid(gateway_id), first)
        return [TelegramUpdate.from_row(r) for r in rows]
