"""Checks on what users send the Telegram provider: action params and gateway config.

All checks run before any upstream call, and report every problem at once as `ParamError`s with
the camelCase field names the user typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.providers.base import ParamError
from app.providers.telegram.update_types import UPDATE_TYPES

MAX_TEXT_LENGTH = 4096
PARSE_MODES = ("MarkdownV2", "HTML", "Markdown")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# "@channelusername": Telegram usernames are 4/5-32 characters of letters, digits, underscore.
_CHANNEL = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")
_NUMERIC = re.compile(r"-?\d{1,19}")

# Unknown names are refused: Telegram would ignore them silently and the user would wonder why
# nothing arrives.
KNOWN_UPDATE_TYPES = frozenset(UPDATE_TYPES)
# Every kind the inbox stores, named one by one: `[]` silently means "all but chat_member and
# reactions", and omitting the field keeps whatever a previous owner of the bot configured. A
# shorter list here once meant payments (pre_checkout_query), polls, boosts and business updates
# never arrived although the inbox reads them.
DEFAULT_ALLOWED_UPDATES: tuple[str, ...] = UPDATE_TYPES
DEFAULT_MAX_CONNECTIONS = 40


@dataclass(frozen=True, slots=True)
class SendMessageParams:
    chat_id: int | str
    text: str
    parse_mode: str | None


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    allowed_updates: tuple[str, ...]
    max_connections: int


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def unknown_params(params: Mapping[str, Any], known: Sequence[str]) -> list[ParamError]:
    """One error per key nobody reads: a typo ("chat_id") should not be silently ignored."""
    return [ParamError(key, "unknown parameter") for key in params if key not in known]


def parse_chat_id(value: object) -> int | str | ParamError:
    """An int64 chat id (given as int or numeric string) or an "@channel" username."""
    if isinstance(value, str) and _NUMERIC.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        if value == 0 or not _INT64_MIN <= value <= _INT64_MAX:
            return ParamError("chatId", "must be a non-zero 64-bit integer")
        return value
    if isinstance(value, str):
        if _CHANNEL.fullmatch(value):
            return value
        return ParamError("chatId", 'must be a chat id or a "@channelusername"')
    return ParamError("chatId", 'must be an integer chat id or a "@channelusername" string')


def parse_send_message(params: Mapping[str, Any]) -> SendMessageParams | list[ParamError]:
    errors = unknown_params(params, ("chatId", "text", "parseMode"))

    chat_id: int | str | None = None
    if "chatId" not in params or params["chatId"] is None:
        errors.append(ParamError("chatId", "is required"))
    else:
        parsed = parse_chat_id(params["chatId"])
        if isinstance(parsed, ParamError):
            errors.append(parsed)
        else:
            chat_id = parsed

    text = params.get("text")
    if text is None:
        errors.append(ParamError("text", "is required"))
    elif not isinstance(text, str):
        errors.append(ParamError("text", "must be a string"))
    elif not text.strip():
        errors.append(ParamError("text", "must not be blank"))
    elif len(text) > MAX_TEXT_LENGTH:
        # Telegram counts after entity parsing; checking the raw text is stricter but predictable.
        errors.append(ParamError("text", f"must be at most {MAX_TEXT_LENGTH} characters"))

    parse_mode = params.get("parseMode")
    if parse_mode is not None and parse_mode not in PARSE_MODES:
        errors.append(ParamError("parseMode", f"must be one of {', '.join(PARSE_MODES)}"))

    if errors or chat_id is None or not isinstance(text, str):
        return errors
    return SendMessageParams(chat_id=chat_id, text=text, parse_mode=parse_mode)


def parse_webhook_config(config: Mapping[str, Any]) -> WebhookConfig | list[ParamError]:
    """`allowedUpdates` and `maxConnections` from a gateway's config, with defaults."""
    errors: list[ParamError] = []

    allowed: tuple[str, ...] = DEFAULT_ALLOWED_UPDATES
    raw_allowed = config.get("allowedUpdates")
    if raw_allowed is not None:
        if not isinstance(raw_allowed, list) or not all(isinstance(u, str) for u in raw_allowed):
            errors.append(ParamError("allowedUpdates", "must be a list of update type names"))
        elif not raw_allowed:
            errors.append(ParamError("allowedUpdates", "must name at least one update type"))
        else:
            unknown = sorted(set(raw_allowed) - KNOWN_UPDATE_TYPES)
            if unknown:
                errors.append(
                    ParamError("allowedUpdates", f"unknown update types: {', '.join(unknown)}")
                )
            allowed = tuple(dict.fromkeys(raw_allowed))  # de-duplicated, order kept

    max_connections = config.get("maxConnections", DEFAULT_MAX_CONNECTIONS)
    if not _is_int(max_connections) or not 1 <= max_connections <= 100:
        errors.append(ParamError("maxConnections", "must be an integer from 1 to 100"))

    if errors:
        return errors
    return WebhookConfig(allowed_updates=allowed, max_connections=max_connections)
