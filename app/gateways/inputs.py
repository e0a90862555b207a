"""Gateway inputs as the service receives them, and the rules they must satisfy.

The GraphQL layer converts its input types into these plain dataclasses; the checks live here so
every entry point (GraphQL, CLI, tests) gets the same rules and the same field paths.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from app.core.outbound import refusal_without_dns
from app.errors import FieldIssue
from app.gateways.credentials import (
    AICredentials,
    Credentials,
    TelegramBotCredentials,
    WebhookCredentials,
)
from app.gateways.enums import AIProvider, GatewayType
from app.providers.webhook.signing import secret_problem

NAME_MAX = 100
MODEL_MAX = 200
CONFIG_MAX_BYTES = 16 * 1024
# fullmatch, never match: `$` also matches before a trailing newline. ASCII: `\d` would also
# accept other scripts' digits, which no Telegram bot id contains.
TELEGRAM_TOKEN_RE = re.compile(r"^\d{5,20}:[A-Za-z0-9_-]{30,64}$", re.ASCII)
API_KEY_RE = re.compile(r"^\S{8,512}$")


# Where each gateway type's credentials go in the input, as the client spells the field, so a
# message can say which field to fill rather than only that something is wrong.
CREDENTIALS_FIELDS: dict[GatewayType, str] = {
    GatewayType.TELEGRAM_BOT: "credentials.telegramBot",
    GatewayType.AI: "credentials.ai",
    GatewayType.WEBHOOK: "credentials.webhook",
}
# With their article: "A AI gateway" read wrong, and the enum value is not a user's word.
_TYPE_LABELS: dict[GatewayType, str] = {
    GatewayType.TELEGRAM_BOT: "A Telegram bot gateway",
    GatewayType.AI: "An AI gateway",
    GatewayType.WEBHOOK: "A webhook gateway",
}


@dataclass(frozen=True, slots=True)
class CredentialsInput:
    """Exactly one member is expected to be set (the GraphQL input is @oneOf)."""

    telegram_bot: TelegramBotCredentials | None = None
    ai: AICredentials | None = None
    webhook: WebhookCredentials | None = None

    def members(self) -> list[tuple[GatewayType, Credentials]]:
        found: list[tuple[GatewayType, Credentials]] = []
        if self.telegram_bot is not None:
            found.append((GatewayType.TELEGRAM_BOT, self.telegram_bot))
        if self.ai is not None:
            found.append((GatewayType.AI, self.ai))
        if self.webhook is not None:
            found.append((GatewayType.WEBHOOK, self.webhook))
        return found


@dataclass(frozen=True, slots=True)
class CreateGatewayInput:
    name: str
    type: GatewayType
    credentials: CredentialsInput
    config: Any = None


@dataclass(frozen=True, slots=True)
class UpdateGatewayInput:
    """None = leave as is."""

    name: str | None = None
    credentials: CredentialsInput | None = None
    config: Any = None


def check_name(name: str, issues: list[FieldIssue]) -> str:
    name = name.strip()
    if not 1 <= len(name) <= NAME_MAX:
        issues.append(FieldIssue("name", f"Give a name of 1 to {NAME_MAX} characters."))
    return name


def check_config(config: Any, issues: list[FieldIssue]) -> dict[str, Any] | None:
    if config is None:
        return None
    if not isinstance(config, dict):
        issues.append(FieldIssue("config", "Must be a JSON object."))
        return None
    if len(json.dumps(config, separators=(",", ":")).encode()) > CONFIG_MAX_BYTES:
        issues.append(FieldIssue("config", f"Must be at most {CONFIG_MAX_BYTES} bytes as JSON."))
        return None
    return config


def check_credentials(
    gateway_type: GatewayType,
    credentials: CredentialsInput,
    issues: list[FieldIssue],
    *,
    allow_private_targets: bool,
) -> Credentials | None:
    """The one credentials member, normalised, if it matches `gateway_type` and is valid.

    `allow_private_targets` is the deployment's ALLOW_PRIVATE_NETWORK_TARGETS: a URL that could
    never be called under it is refused here, with its field path, instead of at first use.
    """
    members = credentials.members()
    expected = CREDENTIALS_FIELDS[gateway_type]
    if len(members) != 1:
        given = ", ".join(CREDENTIALS_FIELDS[t] for t, _ in members)
        problem = f"got {given}" if given else "none was given"
        issues.append(
            FieldIssue(
                "credentials",
                f"{_TYPE_LABELS[gateway_type]} takes exactly one credentials member, "
                f"{expected}; {problem}.",
            )
        )
        return None
    member_type, value = members[0]
    if member_type is not gateway_type:
        issues.append(
            FieldIssue(
                "credentials",
                f"{_TYPE_LABELS[gateway_type]} takes its credentials in {expected}, "
                f"not in {CREDENTIALS_FIELDS[member_type]}.",
            )
        )
        return None
    # Messages never echo the value: it may be a secret.
    match value:
        case TelegramBotCredentials():
            token = value.bot_token.strip()
            if not TELEGRAM_TOKEN_RE.fullmatch(token):
                issues.append(
                    FieldIssue(
                        "credentials.telegramBot.botToken",
                        "Not a Telegram bot token (expected <bot id>:<secret> from @BotFather).",
                    )
                )
            return TelegramBotCredentials(bot_token=token)
        case AICredentials():
            return _check_ai(value, issues, allow_private_targets)
        case WebhookCredentials():
            return _check_webhook(value, issues, allow_private_targets)


def _check_ai(value: AICredentials, issues: list[FieldIssue], allow_private: bool) -> AICredentials:
    path = "credentials.ai"
    api_key = value.api_key.strip() if value.api_key else None
    if api_key is None and value.provider is not AIProvider.OLLAMA:
        issues.append(FieldIssue(f"{path}.apiKey", "Required for this provider."))
    elif api_key is not None and not API_KEY_RE.fullmatch(api_key):
        issues.append(FieldIssue(f"{path}.apiKey", "Use 8 to 512 characters without spaces."))
    base_url = value.base_url.strip() if value.base_url else None
    if base_url and (problem := refusal_without_dns(base_url, allow_private=allow_private)):
        issues.append(FieldIssue(f"{path}.baseUrl", problem))
    model = value.model.strip() if value.model else None
    if model is not None and len(model) > MODEL_MAX:
        issues.append(FieldIssue(f"{path}.model", f"Use at most {MODEL_MAX} characters."))
    return AICredentials(
        provider=value.provider,
        api_key=api_key,
        base_url=base_url.rstrip("/") if base_url else None,
        model=model or None,
    )


def _check_webhook(
    value: WebhookCredentials, issues: list[FieldIssue], allow_private: bool
) -> WebhookCredentials:
    path = "credentials.webhook"
    url = value.url.strip()
    if problem := refusal_without_dns(url, allow_private=allow_private):
        issues.append(FieldIssue(f"{path}.url", problem))
    # Empty = none given: the service generates one and reveals it once. A given secret must be
    # in the Standard Webhooks format, so receivers can use it as is with any of its libraries;
    # deriving a key from another string would hand them a secret they never saw.
    secret = value.signing_secret.strip() if value.signing_secret else None
    if secret and (problem := secret_problem(secret)):
        issues.append(FieldIssue(f"{path}.signingSecret", problem))
    return WebhookCredentials(url=url, signing_secret=secret or None)
