"""Outgoing deliveries are signed with Standard Webhooks (https://www.standardwebhooks.com).

    webhook-id:        msg_<32 hex>   unique per message, the same on every resend of it
    webhook-timestamp: <unix seconds>
    webhook-signature: v1,<base64 HMAC-SHA256(key, f"{id}.{timestamp}.{body}")>

Receivers verify with any Standard Webhooks library (`standardwebhooks.Webhook(secret)
.verify(body, headers)` in Python, `new Webhook(secret).verify(...)` in JavaScript, ...), which
also refuses timestamps more than five minutes away, on the exact bytes received.

The secret is in the scheme's format: `whsec_` + the base64 of 24 to 64 random bytes (the key).
One is generated when the user gives none. A secret stored before this scheme (any string) keeps
working as the key `secret.encode()`: its receivers verify with `whsec_` + base64 of that string.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from datetime import datetime

from standardwebhooks import Webhook

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"  # noqa: S105 -- the scheme's format marker, not a secret
SECRET_BYTES = 32
MIN_KEY_BYTES, MAX_KEY_BYTES = 24, 64
SECRET_FORMAT = (
    f"a Standard Webhooks secret: {SECRET_PREFIX} followed by the base64 of "
    f"{MIN_KEY_BYTES} to {MAX_KEY_BYTES} random bytes"
)


def generate_secret() -> str:
    """A fresh secret in the scheme's format (32 random bytes, as its reference libraries do)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key_of(secret: str) -> bytes | None:
    """The key a `whsec_` secret encodes, or None when it is not in that format.

    Strict where the reference library is lenient (it drops non-base64 characters), so a typo
    is refused at save time instead of silently signing with a different key.
    """
    if not secret.startswith(SECRET_PREFIX):
        return None
    encoded = secret[len(SECRET_PREFIX) :]
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES else None


def secret_problem(secret: str) -> str | None:
    """Why a user-given secret cannot be used, or None. The message never echoes the secret."""
    return None if _key_of(secret) is not None else f"Use {SECRET_FORMAT}, or leave it empty."


def signing_key(secret: str) -> bytes:
    """The HMAC key: the decoded `whsec_` secret, or the UTF-8 of a pre-Standard-Webhooks one."""
    key = _key_of(secret)
    return key if key is not None else secret.encode()


def new_message_id() -> str:
    return f"msg_{secrets.token_hex(16)}"


def signed_headers(
    secret: str | None, message_id: str, timestamp: datetime, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers (no signature for a legacy gateway without a secret)."""
    headers = {ID_HEADER: message_id, TIMESTAMP_HEADER: str(int(timestamp.timestamp()))}
    if secret:
        # The library signs text; `body` is our own compact UTF-8 JSON, so decoding is exact.
        headers[SIGNATURE_HEADER] = Webhook(signing_key(secret)).sign(
            message_id, timestamp, body.decode()
        )
    return headers
