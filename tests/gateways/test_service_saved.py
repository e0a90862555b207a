"""`Saved` never shows a revealed secret in its repr; `with_signing_secret` picks the secret to
store and the one to reveal. Pure functions of app/gateways/service.py, tested directly."""

from __future__ import annotations

from uuid import UUID

from app.gateways.credentials import TelegramBotCredentials, WebhookCredentials
from app.gateways.models import Gateway
from app.gateways.service import Saved, with_signing_secret
from app.providers.webhook.signing import secret_problem

GIVEN = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
STORED = "whsec_C2FtcGxlLXN0b3JlZC1zZWNyZXQtdmFsdWU="
GATEWAY_ID = UUID("01890000-0000-7000-8000-000000000001")


def test_the_repr_masks_a_revealed_secret() -> None:
    row = Gateway(id=GATEWAY_ID)

    assert repr(Saved(row, GIVEN)) == f"Saved(row={GATEWAY_ID}, revealed_signing_secret='***')"
    assert repr(Saved(row)) == f"Saved(row={GATEWAY_ID}, revealed_signing_secret=None)"
    assert GIVEN not in repr(Saved(row, GIVEN))


def test_credentials_other_than_webhook_pass_unchanged() -> None:
    telegram = TelegramBotCredentials(bot_token="123456789:" + "A" * 35)

    assert with_signing_secret(telegram, keep=STORED) == (telegram, None)


def test_a_given_secret_is_stored_and_not_revealed() -> None:
    given = WebhookCredentials(url="https://hooks.example.com/in", signing_secret=GIVEN)

    assert with_signing_secret(given, keep=STORED) == (given, None)


def test_without_a_secret_the_stored_one_is_kept_and_not_revealed() -> None:
    bare = WebhookCredentials(url="https://hooks.example.com/in")

    stored, revealed = with_signing_secret(bare, keep=STORED)

    assert stored == WebhookCredentials(url=bare.url, signing_secret=STORED)
    assert revealed is None


def test_without_any_secret_one_is_generated_and_revealed() -> None:
    bare = WebhookCredentials(url="https://hooks.example.com/in")

    stored, revealed = with_signing_secret(bare, keep=None)

    assert isinstance(stored, WebhookCredentials)
    assert stored.url == bare.url
    assert revealed is not None
    assert secret_problem(revealed) is None
    assert stored.signing_secret == revealed
    assert with_signing_secret(bare, keep=None)[1] != revealed  # random each time
