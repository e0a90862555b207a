"""GraphQL type of an inbox update."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from app.webhooks.models import TelegramUpdate as TelegramUpdateRow


@strawberry.type
class TelegramUpdate:
    id: strawberry.ID
    update_id: str = strawberry.field(
        description="Telegram's update_id. 64-bit Telegram ids are strings here."
    )
    update_type: str = strawberry.field(
        description='message, edited_message, channel_post, callback_query, ... or "other".'
    )
    chat_id: str | None = strawberry.field(description="64-bit Telegram ids are strings here.")
    from_user_id: str | None
    text: str | None
    payload: JSON = strawberry.field(
        description=(
            "The update as Telegram sent it. Its ids are JSON numbers, which JavaScript's "
            "JSON.parse rounds past 2^53: read ids from updateId, chatId and fromUserId."
        )
    )
    received_at: datetime

    @classmethod
    def from_row(cls, row: TelegramUpdateRow) -> TelegramUpdate:
        payload: Any = row.payload
        return cls(
            id=strawberry.ID(str(row.id)),
            update_id=str(row.update_id),
            update_type=row.update_type,
            chat_id=str(row.chat_id) if row.chat_id is not None else None,
            from_user_id=str(row.from_user_id) if row.from_user_id is not None else None,
            text=row.text,
            payload=payload,
            received_at=row.received_at,
        )
