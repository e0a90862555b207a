"""Every validation rule of gateway inputs, with its field path, and no secret in any message."""

from __future__ import annotations

from typing import Any

import pytest

from app.errors import FieldIssue
from app.gateways.credentials import AICredentials, TelegramBotCredentials, WebhookCredentials
from app.gateways.enums import AIProvider, GatewayType
from app.gateways.inputs import (
    CONFIG_MAX_BYTES,
    CredentialsInput,
    check_config,
    check_credentials,
    check_name,
)

TOKEN = "123456789:AAHk-SECRET_token_value_abcdefXXXX"
API_KEY = "sk-test-SECRETKEYVALUE-XXXX"
SIGNING = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # Standard Webhooks format, 24-byte key

TG = "credentials.telegramBot.botToken"
AI_KEY = "credentials.ai.apiKey"
AI_URL = "credentials.ai.baseUrl"
AI_MODEL = "credentials.ai.model"
WH_URL = "credentials.webhook.url"
WH_SECRET = "credentials.webhook.signingSecret"


def fields_of(issues: list[FieldIssue]) -> list[str]:
    return [i.field for i in issues]


def run(
    gateway_type: GatewayType, creds: CredentialsInput, *, allow_private: bool = True
) -> tuple[Any, list[FieldIssue]]:
    issues: list[FieldIssue] = []
    value = check_credentials(gateway_type, creds, issues, allow_private_targets=allow_private)
    return value, issues


def telegram(token: str) -> tuple[Any, list[FieldIssue]]:
    return run(
        GatewayType.TELEGRAM_BOT,
        CredentialsInput(telegram_bot=TelegramBotCredentials(bot_token=token)),
    )


def ai(
    provider: AIProvider = AIProvider.OPENAI,
    api_key: str | None = API_KEY,
    base_url: str | None = None,
    model: str | None = None,
) -> tuple[Any, list[FieldIssue]]:
    creds = AICredentials(provider=provider, api_key=api_key, base_url=base_url, model=model)
    return run(GatewayType.AI, CredentialsInput(ai=creds))


def webhook(url: str, signing_secret: str | None = None) -> tuple[Any, list[FieldIssue]]:
    creds = WebhookCredentials(url=url, signing_secret=signing_secret)
    return run(GatewayType.WEBHOOK, CredentialsInput(webhook=creds))


# ---------------------------------------------------------------- name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Support bot", "Support bot"),
        ("  padded  ", "padded"),
        ("\tx\n", "x"),
        ("a", "a"),
        ("n" * 100, "n" * 100),
        ("  " + "n" * 100 + "  ", "n" * 100),  # the limit applies after trimming
    ],
)
def test_name_is_trimmed_and_accepted(raw: str, expected: str) -> None:
    issues: list[FieldIssue] = []
    assert check_name(raw, issues) == expected
    assert issues == []


@pytest.mark.parametrize("raw", ["", "   ", "\n\t", "n" * 101])
def test_name_outside_1_to_100_characters_is_refused(raw: str) -> None:
    issues: list[FieldIssue] = []
    check_name(raw, issues)
    assert fields_of(issues) == ["name"]
    assert "100" in issues[0].message


# ---------------------------------------------------------------- credentials members


def test_no_credentials_member_is_refused() -> None:
    value, issues = run(GatewayType.TELEGRAM_BOT, CredentialsInput())
    assert value is None
    assert fields_of(issues) == ["credentials"]
    assert issues[0].message == (
        "A Telegram bot gateway takes exactly one credentials member, "
        "credentials.telegramBot; none was given."
    )


def test_two_credentials_members_are_refused() -> None:
    creds = CredentialsInput(
        telegram_bot=TelegramBotCredentials(bot_token=TOKEN),
        ai=AICredentials(provider=AIProvider.OPENAI, api_key=API_KEY),
    )
    value, issues = run(GatewayType.TELEGRAM_BOT, creds)
    assert value is None
    assert fields_of(issues) == ["credentials"]
    assert issues[0].message == (
        "A Telegram bot gateway takes exactly one credentials member, "
        "credentials.telegramBot; got credentials.telegramBot, credentials.ai."
    )


@pytest.mark.parametrize(
    ("gateway_type", "creds", "message"),
    [
        (
            GatewayType.AI,
            CredentialsInput(telegram_bot=TelegramBotCredentials(bot_token=TOKEN)),
            "An AI gateway takes its credentials in credentials.ai, "
            "not in credentials.telegramBot.",
        ),
        (
            GatewayType.WEBHOOK,
            CredentialsInput(telegram_bot=TelegramBotCredentials(TOKEN)),
            "A webhook gateway takes its credentials in credentials.webhook, "
            "not in credentials.telegramBot.",
        ),
        (
            GatewayType.TELEGRAM_BOT,
            CredentialsInput(ai=AICredentials(provider=AIProvider.OPENAI, api_key=API_KEY)),
            "A Telegram bot gateway takes its credentials in credentials.telegramBot, "
            "not in credentials.ai.",
        ),
        (
            GatewayType.TELEGRAM_BOT,
            CredentialsInput(webhook=WebhookCredentials(url="https://hooks.example.com/x")),
            "A Telegram bot gateway takes its credentials in credentials.telegramBot, "
            "not in credentials.webhook.",
        ),
        (
            GatewayType.WEBHOOK,
            CredentialsInput(ai=AICredentials(provider=AIProvider.OLLAMA)),
            "A webhook gateway takes its credentials in credentials.webhook, "
            "not in credentials.ai.",
        ),
    ],
)
def test_credentials_member_must_match_the_type(
    gateway_type: GatewayType, creds: CredentialsInput, message: str
) -> None:
    value, issues = run(gateway_type, creds)
    assert value is None
    assert fields_of(issues) == ["credentials"]
    # Grammatical ("An AI", not "A AI"), and names the field to fill instead.
    assert issues[0].message == message
    assert TOKEN not in issues[0].message
    assert API_KEY not in issues[0].message


# ---------------------------------------------------------------- Telegram


@pytest.mark.parametrize(
    "token",
    [
        TOKEN,
        "12345:" + "a" * 30,  # shortest id, shortest secret
        "1" * 20 + ":" + "Z" * 64,  # longest id, longest secret
        "98765:" + "Aa0_-" * 6,  # every allowed character class
    ],
)
def test_valid_telegram_tokens_are_accepted(token: str) -> None:
    value, issues = telegram(token)
    assert issues == []
    assert value == TelegramBotCredentials(bot_token=token)


def test_telegram_token_is_trimmed() -> None:
    value, issues = telegram(f"  {TOKEN}\n")
    assert issues == []
    assert value == TelegramBotCredentials(bot_token=TOKEN)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "1234:" + "a" * 30,  # id of 4 digits
        "1" * 21 + ":" + "a" * 30,  # id of 21 digits
        "12345:" + "a" * 29,  # secret of 29
        "12345:" + "a" * 65,  # secret of 65
        "12345" + "a" * 30,  # no colon
        "12345:" + "a" * 29 + "!",  # character outside the alphabet
        "12345:" + "a" * 15 + " " + "a" * 15,  # inner space
        "12a45:" + "a" * 30,  # letter in the id
        "12345:" + "a" * 30 + "/../getMe",  # path traversal attempt
        "12345:" + "a" * 30 + "\n12345:" + "b" * 30,  # two lines
        "\u0661\u0662\u0663\u0664\u0665:" + "a" * 30,  # Arabic-Indic digits are not an id
    ],
)
def test_invalid_telegram_tokens_are_refused_without_echo(token: str) -> None:
    _, issues = telegram(token)
    assert fields_of(issues) == [TG]
    if token:
        assert token not in issues[0].message
        assert token.split(":")[-1] not in issues[0].message


# ---------------------------------------------------------------- AI


@pytest.mark.parametrize("provider", [p for p in AIProvider if p is not AIProvider.OLLAMA])
@pytest.mark.parametrize("missing", [None, ""])
def test_api_key_is_required_except_for_ollama(provider: AIProvider, missing: str | None) -> None:
    _, issues = ai(provider, api_key=missing)
    assert fields_of(issues) == [AI_KEY]
    assert "Required" in issues[0].message


def test_ollama_needs_no_api_key() -> None:
    value, issues = ai(AIProvider.OLLAMA, api_key=None, base_url="http://localhost:11434")
    assert issues == []
    assert value == AICredentials(
        provider=AIProvider.OLLAMA, api_key=None, base_url="http://localhost:11434"
    )


def test_ollama_with_a_key_still_checks_it() -> None:
    _, issues = ai(AIProvider.OLLAMA, api_key="short")
    assert fields_of(issues) == [AI_KEY]


@pytest.mark.parametrize("key", ["k" * 8, "k" * 512, API_KEY, "sk-ant-api03_x.y/z+="])
def test_api_keys_of_8_to_512_characters_are_accepted(key: str) -> None:
    value, issues = ai(api_key=key)
    assert issues == []
    assert value.api_key == key


def test_api_key_is_trimmed() -> None:
    value, issues = ai(api_key=f"  {API_KEY}\n")
    assert issues == []
    assert value.api_key == API_KEY


@pytest.mark.parametrize(
    "key",
    [
        "k" * 7,
        "k" * 513,
        "sk-test SECRETKEY",
        "sk-test\tSECRETKEY",
        "sk-test\nSECRETKEY",
        "   ",  # only whitespace: trimmed to nothing, still not a key
    ],
)
def test_bad_api_keys_are_refused_without_echo(key: str) -> None:
    _, issues = ai(api_key=key)
    assert fields_of(issues) == [AI_KEY]
    assert "8 to 512" in issues[0].message
    if key.strip():
        assert key.strip() not in issues[0].message


@pytest.mark.parametrize(
    ("base_url", "stored"),
    [
        ("https://api.example.com/v1", "https://api.example.com/v1"),
        ("https://api.example.com/v1/", "https://api.example.com/v1"),
        ("http://10.0.0.5:11434", "http://10.0.0.5:11434"),
        ("  HTTPS://api.example.com  ", "HTTPS://api.example.com"),
        (None, None),
        ("", None),
    ],
)
def test_base_url_http_or_https_is_accepted(base_url: str | None, stored: str | None) -> None:
    value, issues = ai(base_url=base_url)
    assert issues == []
    assert value.base_url == stored


@pytest.mark.parametrize(
    "base_url",
    [
        "ftp://api.example.com",
        "api.example.com",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "https://",
        "https://user:hunter2pass@api.example.com",
        "https://token@api.example.com",
        "https://api.example.com:99999",
        "https://api.exa mple.com",
    ],
)
def test_bad_base_urls_are_refused(base_url: str) -> None:
    _, issues = ai(base_url=base_url)
    assert fields_of(issues) == [AI_URL]
    assert "hunter2pass" not in issues[0].message


@pytest.mark.parametrize(("model", "stored"), [("m" * 200, "m" * 200), (" gpt-4o ", "gpt-4o")])
def test_model_up_to_200_characters_is_accepted(model: str, stored: str) -> None:
    value, issues = ai(model=model)
    assert issues == []
    assert value.model == stored


def test_blank_model_means_none() -> None:
    value, issues = ai(model="   ")
    assert issues == []
    assert value.model is None


def test_model_over_200_characters_is_refused() -> None:
    _, issues = ai(model="m" * 201)
    assert fields_of(issues) == [AI_MODEL]
    assert "200" in issues[0].message


def test_every_ai_problem_is_reported_at_once() -> None:
    _, issues = ai(api_key="bad key", base_url="ftp://x", model="m" * 201)
    assert sorted(fields_of(issues)) == sorted([AI_KEY, AI_URL, AI_MODEL])


# ---------------------------------------------------------------- webhook


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com/in", "http://hooks.example.com:8080/a?b=c"]
)
def test_webhook_url_http_or_https_is_accepted(url: str) -> None:
    value, issues = webhook(url)
    assert issues == []
    assert value == WebhookCredentials(url=url, signing_secret=None)


def test_webhook_url_is_trimmed() -> None:
    value, issues = webhook("  https://hooks.example.com/in \n")
    assert issues == []
    assert value.url == "https://hooks.example.com/in"


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "hooks.example.com",
        "ftp://hooks.example.com",
        "ws://hooks.example.com",
        "https://admin:s3cretpw@hooks.example.com",
        "https://" + "a" * 2100 + ".com",
        "https://hooks.example.com/a b",
    ],
)
def test_bad_webhook_urls_are_refused(url: str) -> None:
    _, issues = webhook(url)
    assert fields_of(issues) == [WH_URL]
    assert "s3cretpw" not in issues[0].message


@pytest.mark.parametrize(
    "secret",
    [SIGNING, "whsec_" + "a" * 43 + "=", "whsec_" + "A" * 86, f"  {SIGNING}\n"],
)
def test_standard_webhooks_secrets_are_accepted(secret: str) -> None:
    value, issues = webhook("https://hooks.example.com/in", secret)
    assert issues == []
    assert value.signing_secret == secret.strip()


@pytest.mark.parametrize("secret", ["", "   "])
def test_empty_signing_secret_means_none(secret: str) -> None:
    # None reaches the service, which generates one in the scheme's format and reveals it once.
    value, issues = webhook("https://hooks.example.com/in", secret)
    assert issues == []
    assert value.signing_secret is None


@pytest.mark.parametrize(
    "secret",
    [
        "s" * 16,  # accepted by the scheme of our own, not a Standard Webhooks secret
        "a-long-free-form-secret-of-the-old-kind",
        "whsec_SECRETSIGNINGVALUE",  # base64 of an 18-byte key: too short
        "whsec_SECRET VALUE_1234567890123456789012",
        "whsec_" + "A" * 88,  # 66 bytes: too long
    ],
)
def test_other_secret_formats_are_refused_without_echo(secret: str) -> None:
    _, issues = webhook("https://hooks.example.com/in", secret)
    assert fields_of(issues) == [WH_SECRET]
    assert issues[0].message == (
        "Use a Standard Webhooks secret: whsec_ followed by the base64 of 24 to 64 random "
        "bytes, or leave it empty."
    )


def test_every_webhook_problem_is_reported_at_once() -> None:
    _, issues = webhook("ftp://x", "short")
    assert fields_of(issues) == [WH_URL, WH_SECRET]


# ---------------------------------------------------------------- config


@pytest.mark.parametrize(
    "config", [{}, {"allowedUpdates": ["message"]}, {"nested": {"a": [1, 2.5, None, True]}}]
)
def test_json_objects_are_accepted_as_config(config: dict[str, Any]) -> None:
    issues: list[FieldIssue] = []
    assert check_config(config, issues) == config
    assert issues == []


def test_absent_config_is_none() -> None:
    issues: list[FieldIssue] = []
    assert check_config(None, issues) is None
    assert issues == []


@pytest.mark.parametrize("config", [[], [1, 2], "text", 42, 1.5, True])
def test_config_that_is_not_an_object_is_refused(config: Any) -> None:
    issues: list[FieldIssue] = []
    assert check_config(config, issues) is None
    assert fields_of(issues) == ["config"]
    assert "object" in issues[0].message


def _config_of_size(size: int) -> dict[str, str]:
    overhead = len('{"k":""}')
    return {"k": "x" * (size - overhead)}


def test_config_of_exactly_16_kib_is_accepted() -> None:
    issues: list[FieldIssue] = []
    config = _config_of_size(CONFIG_MAX_BYTES)
    assert CONFIG_MAX_BYTES == 16 * 1024
    assert check_config(config, issues) == config
    assert issues == []


def test_config_over_16_kib_is_refused() -> None:
    issues: list[FieldIssue] = []
    assert check_config(_config_of_size(CONFIG_MAX_BYTES + 1), issues) is None
    assert fields_of(issues) == ["config"]
    assert str(CONFIG_MAX_BYTES) in issues[0].message


# ---------------------------------------------------------------- secrets never echoed


@pytest.mark.parametrize(
    ("gateway_type", "creds", "secret"),
    [
        (
            GatewayType.TELEGRAM_BOT,
            CredentialsInput(telegram_bot=TelegramBotCredentials(bot_token=TOKEN + "!")),
            TOKEN,
        ),
        (
            GatewayType.AI,
            CredentialsInput(
                ai=AICredentials(
                    provider=AIProvider.OPENAI, api_key=API_KEY + " x", base_url="ftp://h"
                )
            ),
            API_KEY,
        ),
        (
            GatewayType.WEBHOOK,
            CredentialsInput(webhook=WebhookCredentials(url="nope", signing_secret=SIGNING + " x")),
            SIGNING,
        ),
    ],
)
def test_no_issue_message_contains_the_submitted_secret(
    gateway_type: GatewayType, creds: CredentialsInput, secret: str
) -> None:
    value, issues = run(gateway_type, creds)
    assert issues
    for issue in issues:
        assert secret not in issue.message
        assert secret not in issue.field
    # The normalised value may be returned, but its repr (what a log or traceback shows) is masked.
    assert secret not in repr(value)


# ---------------------------------------------------------------- URLs that can never be called


@pytest.mark.parametrize("allow_private", [True, False])
def test_a_metadata_base_url_is_refused_on_save(allow_private: bool) -> None:
    creds = AICredentials(
        provider=AIProvider.OLLAMA, base_url="http://169.254.169.254/latest/meta-data"
    )
    _, issues = run(GatewayType.AI, CredentialsInput(ai=creds), allow_private=allow_private)
    assert [(i.field, i.message) for i in issues] == [
        (AI_URL, "the URL points to a cloud metadata service")
    ]


@pytest.mark.parametrize("allow_private", [True, False])
def test_a_metadata_webhook_url_is_refused_on_save(allow_private: bool) -> None:
    creds = WebhookCredentials(url="http://metadata.google.internal/computeMetadata/v1/")
    _, issues = run(
        GatewayType.WEBHOOK, CredentialsInput(webhook=creds), allow_private=allow_private
    )
    assert [(i.field, i.message) for i in issues] == [
        (WH_URL, "the URL points to a cloud metadata service")
    ]


@pytest.mark.parametrize(
    ("gateway_type", "creds", "field"),
    [
        (
            GatewayType.AI,
            CredentialsInput(ai=AICredentials(AIProvider.OLLAMA, base_url="http://10.1.2.3:11434")),
            AI_URL,
        ),
        (
            GatewayType.WEBHOOK,
            CredentialsInput(webhook=WebhookCredentials(url="http://localhost:9000/hook")),
            WH_URL,
        ),
    ],
)
def test_private_urls_are_refused_on_save_only_where_private_targets_are_not_allowed(
    gateway_type: GatewayType, creds: CredentialsInput, field: str
) -> None:
    _, refused = run(gateway_type, creds, allow_private=False)
    assert fields_of(refused) == [field]
    _, allowed = run(gateway_type, creds, allow_private=True)
    assert allowed == []
