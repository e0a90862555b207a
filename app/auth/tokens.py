"""Opaque bearer tokens: `gw_` + 32 random bytes, url-safe; the server keeps only SHA-256."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "gw_"  # noqa: S105 - a public prefix, not a secret


def new_token() -> str:
    # The prefix makes a leaked token recognisable to secret scanners and in support tickets.
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_bearer(header: str | None) -> str | None:
    """The token in an `Authorization: Bearer <token>` value, or None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    value = value.strip()
    if not value.startswith(TOKEN_PREFIX) or len(value) > 128:
        return None
    return value
