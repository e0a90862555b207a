"""Signatures on outgoing webhook deliveries, and their verification for receivers and tests.

    X-Gateway-Timestamp: <unix seconds>
    X-Gateway-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.".encode() + body)>

The timestamp is inside the signed string so a captured delivery cannot be replayed later with a
fresh timestamp; receivers should also refuse timestamps older than a few minutes (`max_age`).
`body` is the exact bytes sent: receivers must verify the raw body, before any JSON parsing.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Gateway-Signature"
TIMESTAMP_HEADER = "X-Gateway-Timestamp"
_PREFIX = "sha256="


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-Gateway-Signature` value for `body` sent at `timestamp`."""
    message = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify(
    secret: str,
    timestamp: int | str,
    body: bytes,
    signature: str,
    *,
    now: int | None = None,
    max_age: int = 300,
) -> bool:
    """True when `signature` is `sign(secret, timestamp, body)`, compared in constant time.

    With `now` (unix seconds), a timestamp more than `max_age` seconds away is refused too.
    """
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if now is not None and abs(now - ts) > max_age:
        return False
    return hmac.compare_digest(sign(secret, ts, body).encode(), signature.encode())
