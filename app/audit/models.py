"""Audit trail: who did what to which gateway, in which tenant scope."""

from __future__ import annotations

from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from app.auth.models import User
from app.core import strict_json
from app.core.ids import uuid7


class AuditEvent(Model):
    id = fields.UUIDField(primary_key=True, default=uuid7)
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "app.User", related_name="audit_events", on_delete=fields.SET_NULL, null=True
    )
    # The tenant scope, as plain ids: the organization, or the user whose personal scope it is.
    organization_id = fields.UUIDField(null=True)
    scope_user_id = fields.UUIDField(null=True)
    # Plain id rather than a foreign key: the trail outlives the gateway it speaks of.
    gateway_id = fields.UUIDField(null=True)
    action = fields.CharField(max_length=64)
    metadata: dict[str, object] = fields.JSONField(
        default=dict, encoder=strict_json.compact, decoder=strict_json.loads_stored
    )
    ip_address = fields.CharField(max_length=64, null=True)
    user_agent = fields.CharField(max_length=512, null=True)
    request_id = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    actor_id: UUID | None

    class Meta:
        table = "audit_events"
        indexes = (
            ("organization_id", "created_at"),
            ("scope_user_id", "created_at"),
            ("gateway_id", "created_at"),
        )
