"""sendMessage params and webhook config: every rule, reported per field before any call."""

from __future__ import annotations

from typing import Any

import pytest

from app.providers.base import ParamError
from app.providers.telegram.validation import (
    DEFAULT_ALLOWED_UPDATES,
    SendMessageParams,
    WebhookConfig,
    parse_send_message,
    parse_webhook_config,
)


@pytest.mark.parametrize(
    ("chat_id", "expected"),
    [
        (42, 42),
        (-1001234567890, -1001234567890),
        (2**63 - 1, 2**63 - 1),
        (-(2**63), -(2**63)),
        ("123456", 123456),
        (" -100987 ", -100987),
        ("@my_channel", "@my_channel"),
    ],
)
def test_valid_chat_ids(chat_id: Any, expected: int | str) -> None:
    parsed = parse_send_message({"chatId": chat_id, "text": "hi"})
    assert isinstance(parsed, SendMessageParams)
    assert parsed == SendMessageParams(chat_id=expected, text="hi", parse_mode=None)
    assert type(parsed.chat_id) is type(expected)


@pytest.mark.parametrize(
    "chat_id",
    [0, 2**63, -(2**63) - 1, "99999999999999999999", True, 1.5, "@ab", "@bad-name", "name", [], {}],
)
def test_invalid_chat_ids(chat_id: Any) -> None:
    errors = parse_send_message({"chatId": chat_id, "text": "hi"})
    assert isinstance(errors, list)
    assert [e.field for e in errors] == ["chatId"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"text": "hi"}, [ParamError("chatId", "is required")]),
        ({"chatId": None, "text": "hi"}, [ParamError("chatId", "is required")]),
        ({"chatId": 1}, [ParamError("text", "is required")]),
        ({"chatId": 1, "text": 5}, [ParamError("text", "must be a string")]),
        ({"chatId": 1, "text": ""}, [ParamError("text", "must not be blank")]),
        ({"chatId": 1, "text": " \n "}, [ParamError("text", "must not be blank")]),
        (
            {"chatId": 1, "text": "x" * 4097},
            [ParamError("text", "must be at most 4096 characters")],
        ),
        (
            {"chatId": 1, "text": "hi", "parseMode": "markdown"},
            [ParamError("parseMode", "must be one of MarkdownV2, HTML, Markdown")],
        ),
        ({"chatId": 1, "text": "hi", "chat_id": 2}, [ParamError("chat_id", "unknown parameter")]),
        (
            {},
            [ParamError("chatId", "is required"), ParamError("text", "is required")],
        ),
    ],
)
def test_param_errors(params: dict[str, Any], expected: list[ParamError]) -> None:
    assert parse_send_message(params) == expected


@pytest.mark.parametrize("mode", ["MarkdownV2", "HTML", "Markdown"])
def test_parse_modes_and_max_length(mode: str) -> None:
    parsed = parse_send_message({"chatId": 1, "text": "x" * 4096, "parseMode": mode})
    assert isinstance(parsed, SendMessageParams)
    assert parsed.parse_mode == mode


# Every update kind of the Bot API (reference B.1.4, plus `subscription`), written out here rather
# than taken from the code under test.
EVERY_UPDATE_KIND = {
    "message", "edited_message", "channel_post", "edited_channel_post",
    "business_connection", "business_message", "edited_business_message",
    "deleted_business_messages", "guest_message", "message_reaction",
    "message_reaction_count", "inline_query", "chosen_inline_result", "callback_query",
    "shipping_query", "pre_checkout_query", "purchased_paid_media", "subscription", "poll",
    "poll_answer", "my_chat_member", "chat_member", "chat_join_request", "chat_boost",
    "removed_chat_boost", "managed_bot",
}  # fmt: skip


def test_webhook_config_defaults() -> None:
    assert parse_webhook_config({}) == WebhookConfig(DEFAULT_ALLOWED_UPDATES, 40)


def test_by_default_every_update_kind_is_requested_by_name() -> None:
    # Once nine kinds only: payments (pre_checkout_query), polls, boosts, reactions and business
    # updates were never delivered although the inbox stores them.
    assert set(DEFAULT_ALLOWED_UPDATES) == EVERY_UPDATE_KIND
    assert len(DEFAULT_ALLOWED_UPDATES) == len(EVERY_UPDATE_KIND)
    # `[]` would mean "all but these three": they must be named.
    assert {"chat_member", "message_reaction", "message_reaction_count"} <= set(
        DEFAULT_ALLOWED_UPDATES
    )


def test_every_update_kind_is_accepted_in_the_config() -> None:
    config = parse_webhook_config({"allowedUpdates": sorted(EVERY_UPDATE_KIND)})
    assert isinstance(config, WebhookConfig)
    assert set(config.allowed_updates) == EVERY_UPDATE_KIND


def test_webhook_config_custom_values() -> None:
    config = parse_webhook_config(
        {"allowedUpdates": ["message", "chat_member", "message"], "maxConnections": 100}
    )
    assert config == WebhookConfig(("message", "chat_member"), 100)


@pytest.mark.parametrize(
    ("config", "field", "message"),
    [
        ({"allowedUpdates": ["message", "bogus"]}, "allowedUpdates", "unknown update types: bogus"),
        ({"allowedUpdates": []}, "allowedUpdates", "at least one"),
        ({"allowedUpdates": "message"}, "allowedUpdates", "must be a list"),
        ({"allowedUpdates": [1]}, "allowedUpdates", "must be a list"),
        ({"maxConnections": 0}, "maxConnections", "from 1 to 100"),
        ({"maxConnections": 101}, "maxConnections", "from 1 to 100"),
        ({"maxConnections": "40"}, "maxConnections", "from 1 to 100"),
        ({"maxConnections": True}, "maxConnections", "from 1 to 100"),
    ],
)
def test_webhook_config_errors(config: dict[str, Any], field: str, message: str) -> None:
    errors = parse_webhook_config(config)
    assert isinstance(errors, list)
    assert len(errors) == 1
    assert errors[0].field == field
    assert message in errors[0].message
