"""Standard Webhooks signatures, checked with the `standardwebhooks` library's own verifier."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from app.providers.webhook.signing import (
    ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    generate_secret,
    new_message_id,
    secret_problem,
    signed_headers,
    signing_key,
)

# The test vector of the Standard Webhooks specification's reference libraries.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = datetime.fromtimestamp(1614265330, tz=UTC)
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

BODY = b'{"event":"order.created","payload":{"id":7}}'


def now() -> datetime:
    # The library's verifier compares with the real clock: sign with it.
    return datetime.now(UTC)


def test_signature_matches_the_specification_vector() -> None:
    headers = signed_headers(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
    assert headers == {
        ID_HEADER: SPEC_ID,
        TIMESTAMP_HEADER: "1614265330",
        SIGNATURE_HEADER: SPEC_SIGNATURE,
    }


def test_the_library_verifies_a_delivery() -> None:
    secret = generate_secret()
    headers = signed_headers(secret, new_message_id(), now(), BODY)
    assert Webhook(secret).verify(BODY, headers) == {
        "event": "order.created",
        "payload": {"id": 7},
    }


def test_a_tampered_body_fails_verification() -> None:
    secret = generate_secret()
    headers = signed_headers(secret, new_message_id(), now(), BODY)
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(secret).verify(BODY.replace(b"7", b"8"), headers)


def test_another_secret_fails_verification() -> None:
    headers = signed_headers(generate_secret(), new_message_id(), now(), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY, headers)


def test_an_old_timestamp_fails_verification() -> None:
    secret = generate_secret()
    headers = signed_headers(secret, new_message_id(), now() - timedelta(minutes=6), BODY)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, headers)


def test_a_replayed_signature_under_a_fresh_timestamp_fails() -> None:
    secret = generate_secret()
    old = signed_headers(secret, new_message_id(), now() - timedelta(minutes=6), BODY)
    replay = {**old, TIMESTAMP_HEADER: str(int(now().timestamp()))}
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(secret).verify(BODY, replay)


def test_the_message_id_is_signed() -> None:
    secret = generate_secret()
    headers = signed_headers(secret, new_message_id(), now(), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, {**headers, ID_HEADER: new_message_id()})


def test_generated_secrets_are_in_the_schemes_format_and_distinct() -> None:
    secrets = {generate_secret() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
        assert secret_problem(secret) is None


def test_message_ids_are_unique() -> None:
    ids = {new_message_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(i.startswith("msg_") for i in ids)


@pytest.mark.parametrize(
    "secret",
    [
        SPEC_SECRET,  # 24 bytes, unpadded
        "whsec_" + base64.b64encode(b"k" * 64).decode(),
        "whsec_" + base64.b64encode(b"k" * 32).decode().rstrip("="),
    ],
)
def test_secrets_in_the_schemes_format_are_accepted(secret: str) -> None:
    assert secret_problem(secret) is None


@pytest.mark.parametrize(
    "secret",
    [
        "my-own-signing-secret-0123456789",  # the old free-form kind
        "whsec_",
        "whsec_" + base64.b64encode(b"k" * 23).decode(),  # too short a key
        "whsec_" + base64.b64encode(b"k" * 65).decode(),  # too long
        "whsec_not*base64*at*all*but*long*enough*xx",
        "WHSEC_" + base64.b64encode(b"k" * 32).decode(),
    ],
)
def test_other_formats_are_refused_without_echo(secret: str) -> None:
    problem = secret_problem(secret)
    assert problem is not None
    assert "whsec_" in problem
    assert secret == "whsec_" or secret not in problem  # the bare prefix is in any hint


def test_a_legacy_secret_signs_with_its_utf8_bytes() -> None:
    # Stored before Standard Webhooks: receivers verify with whsec_ + base64 of the old secret.
    legacy = "an-old-free-form-secret"
    assert signing_key(legacy) == legacy.encode()
    headers = signed_headers(legacy, new_message_id(), now(), BODY)
    migrated = "whsec_" + base64.b64encode(legacy.encode()).decode()
    assert Webhook(migrated).verify(BODY, headers) is not None


def test_no_secret_means_no_signature_header() -> None:
    headers = signed_headers(None, "msg_1", now(), BODY)
    assert set(headers) == {ID_HEADER, TIMESTAMP_HEADER}
