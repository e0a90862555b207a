"""The gateway row: non-secret fields in clear, credentials as an AES-GCM envelope."""

from __future__ import annotations

from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from app.auth.models import User
from app.core import strict_json
from app.core.ids import uuid7
from app.gateways.enums import GatewayStatus, GatewayType
from app.organizations.models import Organization


class Gateway(Model):
    id = fields.UUIDField(primary_key=True, default=uuid7)
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "app.User", related_name="gateways", on_delete=fields.CASCADE, db_index=True
    )
    organization: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "app.Organization",
        related_name="gateways",
        on_delete=fields.CASCADE,
        null=True,
        db_index=True,
    )
    name = fields.CharField(max_length=100)
    type = fields.CharEnumField(
        GatewayType, max_length=16, description="Gateway type", db_index=True
    )
    status = fields.CharEnumField(
        GatewayStatus,
        max_length=16,
        default=GatewayStatus.DISCONNECTED,
        description="Gateway status",
        db_index=True,
    )
    # Envelope from app.core.crypto, bound to this row's id as associated data.
    credentials_ciphertext = fields.BinaryField()
    credentials_key_id = fields.CharField(max_length=32)
    config: dict[str, object] = fields.JSONField(
        default=dict, encoder=strict_json.compact, decoder=strict_json.loads_stored
    )
    # SHA-256 of the Telegram webhook secret set at connect time; null = accepts no webhook.
    webhook_secret_hash = fields.CharField(max_length=64, null=True)
    # Bumped by every status change (under the row lock), carried in the status event so that
    # subscribers can tell a late-arriving event from the latest one.
    status_version = fields.IntField(default=0, db_default=0)
    last_connected_at = fields.DatetimeField(null=True)
    last_error_at = fields.DatetimeField(null=True)
    last_error: str | None = fields.TextField(null=True)
    # When a health checker last claimed this gateway; the claim is what keeps several server
    # processes from checking the same gateway in one interval.
    health_checked_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    owner_id: UUID
    organization_id: UUID | None

    class Meta:
        table = "gateways"

    def __repr__(self) -> str:
        # Never the ciphertext or the secret hash: a repr ends up in logs and tracebacks.
        return f"Gateway(id={self.id}, type={self.type}, status={self.status})"
