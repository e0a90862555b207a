"""Organizations and who belongs to them with which role."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from app.auth.models import User
from app.core.ids import uuid7


class OrganizationRole(StrEnum):
    OWNER = "OWNER"
    ADMIN = "ADMIN"
    MEMBER = "MEMBER"

    @property
    def can_write(self) -> bool:
        return self is not OrganizationRole.MEMBER


class Organization(Model):
    id = fields.UUIDField(primary_key=True, default=uuid7)
    name = fields.CharField(max_length=100)
    slug = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "organizations"


class Membership(Model):
    id = fields.UUIDField(primary_key=True, default=uuid7)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "app.User", related_name="memberships", on_delete=fields.CASCADE
    )
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "app.Organization", related_name="memberships", on_delete=fields.CASCADE
    )
    # An explicit description keeps SQLite migrations from rebuilding the table when a role is
    # added (Tortoise derives a CHECK-like comment from the members otherwise).
    role = fields.CharEnumField(OrganizationRole, max_length=16, description="Organization role")
    created_at = fields.DatetimeField(auto_now_add=True)

    user_id: UUID
    organization_id: UUID

    class Meta:
        table = "memberships"
        unique_together = (("user", "organization"),)
