"""Decrypted gateway credentials: typed values, their JSON form, and the masked hints.

The JSON form is what gets encrypted into `Gateway.credentials_ciphertext`. Instances never print
their secrets: `__repr__` masks them so a stray log line or traceback cannot leak a token.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from app.gateways.enums import AIProvider, GatewayType

_ELLIPSIS = "\u2026"


def mask_tail(secret: str, keep: int = 4) -> str:
    """`…` followed by the last `keep` characters; short secrets show nothing of themselves."""
    if len(secret) <= keep * 2:
        return _ELLIPSIS
    return _ELLIPSIS + secret[-keep:]


@dataclass(frozen=True, slots=True)
class TelegramBotCredentials:
    bot_token: str

    @property
    def bot_id(self) -> str:
        return self.bot_token.split(":", 1)[0]

    def hint(self) -> str:
        """Bot id and the last 4 characters, e.g. "123456789:…x9Qa"."""
        bot_id, colon, secret = self.bot_token.partition(":")
        if not (colon and bot_id.isascii() and bot_id.isdigit()):
            # Not a token's shape (an API key pasted into the wrong field?): the part before
            # the colon is not a public bot id, so none of it is shown.
            return mask_tail(self.bot_token)
        return f"{bot_id}:{mask_tail(secret)}"

    def __repr__(self) -> str:
        return f"TelegramBotCredentials(bot_token={self.hint()!r})"


@dataclass(frozen=True, slots=True)
class AICredentials:
    provider: AIProvider
    api_key: str | None = None
    base_url: str | None = None
    model: str | None = None

    def hint(self) -> str | None:
        return mask_tail(self.api_key) if self.api_key else None

    def __repr__(self) -> str:
        return (
            f"AICredentials(provider={self.provider.value}, api_key={self.hint()!r}, "
            f"base_url={self.base_url!r}, model={self.model!r})"
        )


@dataclass(frozen=True, slots=True)
class WebhookCredentials:
    url: str
    signing_secret: str | None = None

    def __repr__(self) -> str:
        secret = "***" if self.signing_secret else None
        return f"WebhookCredentials(url={self.url!r}, signing_secret={secret!r})"


Credentials = TelegramBotCredentials | AICredentials | WebhookCredentials

CREDENTIAL_TYPES: dict[GatewayType, type[Credentials]] = {
    GatewayType.TELEGRAM_BOT: TelegramBotCredentials,
    GatewayType.AI: AICredentials,
    GatewayType.WEBHOOK: WebhookCredentials,
}


def credentials_to_bytes(credentials: Credentials) -> bytes:
    """The plaintext that gets encrypted: compact JSON with stable keys."""
    data: dict[str, Any]
    match credentials:
        case TelegramBotCredentials():
            data = {"botToken": credentials.bot_token}
        case AICredentials():
            data = {
                "provider": credentials.provider.value,
                "apiKey": credentials.api_key,
                "baseUrl": credentials.base_url,
                "model": credentials.model,
            }
        case WebhookCredentials():
            data = {"url": credentials.url, "signingSecret": credentials.signing_secret}
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


def credentials_from_bytes(gateway_type: GatewayType, plaintext: bytes) -> Credentials:
    data = json.loads(plaintext)
    match gateway_type:
        case GatewayType.TELEGRAM_BOT:
            return TelegramBotCredentials(bot_token=data["botToken"])
        case GatewayType.AI:
            return AICredentials(
                provider=AIProvider(data["provider"]),
                api_key=data.get("apiKey"),
                base_url=data.get("baseUrl"),
                model=data.get("model"),
            )
        case GatewayType.WEBHOOK:
            return WebhookCredentials(url=data["url"], signing_secret=data.get("signingSecret"))
