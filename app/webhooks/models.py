"""The Telegram update inbox: every accepted update, stored once per gateway and update id."""

from __future__ import annotations

from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from app.core import strict_json
from app.core.ids import uuid7
from app.gateways.models import Gateway


class TelegramUpdate(Model):
    id = fields.UUIDField(primary_key=True, default=uuid7)
    gateway: fields.ForeignKeyRelation[Gateway] = fields.ForeignKeyField(
        "app.Gateway", related_name="telegram_updates", on_delete=fields.CASCADE
    )
    # Telegram ids may use up to 52 bits: BIGINT throughout.
    update_id = fields.BigIntField()
    update_type = fields.CharField(max_length=32)
    chat_id = fields.BigIntField(null=True)
    from_user_id = fields.BigIntField(null=True)
    text = fields.TextField(null=True)
    # Strict out (NaN is refused before it gets here anyway), tolerant in: see loads_stored.
    payload: dict[str, object] = fields.JSONField(
        encoder=strict_json.compact, decoder=strict_json.loads_stored
    )
    received_at = fields.DatetimeField()
    processed_at = fields.DatetimeField(null=True)

    gateway_id: UUID

    class Meta:
        table = "telegram_updates"
        # The inbox's idempotency key: a redelivered update hits this and stores nothing new.
        unique_together = (("gateway", "update_id"),)
        indexes = (("gateway_id", "received_at"), ("received_at",))
