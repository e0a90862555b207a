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


class InvitationStatus(StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    REVOKED = "REVOKED"
    # Never stored: how an unanswered invitation past its expiry is shown.
    EXPIRED = "EXPIRED"


class OrganizationInvitation(Model):
    """An offer of a role in an organization, to an email, until it is answered or expires.

    Addressed to an email rather than a user, so that it waits for an address not yet
    registered; it becomes a membership only when the person behind that email accepts it.
    Answered invitations are kept (status) as the record of who was let in by whom.
    """

    id = fields.UUIDField(primary_key=True, default=uuid7)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "app.Organization", related_name="invitations", on_delete=fields.CASCADE
    )
    # Normalised like users' emails (stripped, lower-cased), so it matches the account's.
    email = fields.CharField(max_length=254)
    role = fields.CharEnumField(OrganizationRole, max_length=16, description="Offered role")
    status = fields.CharEnumField(
        InvitationStatus, max_length=16, default=InvitationStatus.PENDING, description="Status"
    )
    invited_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "app.User", related_name="sent_invitations", on_delete=fields.SET_NULL, null=True
    )
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    # When it was accepted, declined or revoked.
    answered_at = fields.DatetimeField(null=True)

    organization_id: UUID
    invited_by_id: UUID | None

    class Meta:
        table = "organization_invitations"
        indexes = (
            ("email", "status"),
            ("organization_id", "status"),
            ("invited_by_id", "created_at"),
        )
