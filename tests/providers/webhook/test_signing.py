"""Delivery signatures: a known vector, the round trip, and what verification refuses."""

from __future__ import annotations

import pytest

from app.providers.webhook.signing import sign, verify

SECRET = "whsec_test"
BODY = b'{"a":1}'
TS = 1767225600
# printf '1767225600.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
EXPECTED = "sha256=6d204545ff126a339c00513d93603299c984074ce1331c3537c3f6c976b49019"


def test_sign_matches_an_independent_implementation() -> None:
    assert sign(SECRET, TS, BODY) == EXPECTED


def test_round_trip() -> None:
    assert verify(SECRET, TS, BODY, sign(SECRET, TS, BODY))
    assert verify(SECRET, str(TS), BODY, EXPECTED)  # as read from the header


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "signature"),
    [
        ("other-secret", TS, BODY, EXPECTED),
        (SECRET, TS + 1, BODY, EXPECTED),  # a replay with a fresh timestamp
        (SECRET, TS, b'{"a":2}', EXPECTED),
        (SECRET, TS, BODY + b" ", EXPECTED),  # re-serialised JSON is a different body
        (SECRET, TS, BODY, EXPECTED.removeprefix("sha256=")),
        (SECRET, TS, BODY, "sha256=" + "0" * 64),
        (SECRET, TS, BODY, "sha256=\u00e9"),
        (SECRET, "not-a-number", BODY, EXPECTED),
    ],
)
def test_verify_refuses_anything_else(
    secret: str, timestamp: int | str, body: bytes, signature: str
) -> None:
    assert not verify(secret, timestamp, body, signature)


def test_verify_refuses_stale_timestamps_when_asked() -> None:
    assert verify(SECRET, TS, BODY, EXPECTED, now=TS + 300)
    assert not verify(SECRET, TS, BODY, EXPECTED, now=TS + 301)
    assert not verify(SECRET, TS, BODY, EXPECTED, now=TS - 301)
    assert verify(SECRET, TS, BODY, EXPECTED, now=TS + 3000, max_age=3600)
