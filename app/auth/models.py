"""People and their credentials: users, bearer tokens (hashed), failed-login records."""

from __future__ import annotations

from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from app.core.ids import uuid7


class User(Model):
    id = fields.UUIDField(primary_key=True, default=uuid7)
    # Stored lower-cased by the service so the unique index is case-insensitive in effect.
    email = fields.CharField(max_length=254, unique=True)
    name = fields.CharField(max_length=100)
    password_hash = fields.CharField(max_length=255)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "users"

    def __repr__(self) -> str:
        return f"User(id={self.id})"


class AuthToken(Model):
    """A bearer token. Only the SHA-256 of the token is stored, so a leaked table is useless."""

    id = fields.UUIDField(primary_key=True, default=uuid7)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "app.User", related_name="tokens", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)

    user_id: UUID

    class Meta:
        table = "auth_tokens"


class LoginFailure(Model):
    """One failed login, kept in the database so throttling holds across server processes."""

    id = fields.UUIDField(primary_key=True, default=uuid7)
    email = fields.CharField(max_length=254)
    # The throttling key of the client address (app/core/client_address.py): an IPv4 address or
    # an IPv6 /64. Rows from before it was recorded have "" and count only per email.
    client_key = fields.CharField(max_length=64, default="", db_default="")
    # Set from the service's clock (not auto_now_add) so the throttle window and the records
    # it counts use the same time source.
    created_at = fields.DatetimeField()

    class Meta:
        table = "login_failures"
        indexes = (("email", "created_at"), ("client_key", "created_at"))
