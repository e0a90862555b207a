"""The provider-neutral chat vocabulary, and validation of the `chat` action's params.

Every adapter translates `ChatRequest` into its upstream's wire format and its answer back into
`ChatCompletion`, so nothing above the adapters ever sees an upstream-shaped dict. Roles use the
GraphQL enum values (`ChatRole` in contract.graphql); adapters lower-case them on the wire.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.providers.base import ActionParamsError, ParamError

MAX_MESSAGES = 100
MAX_CONTENT_CHARS = 100_000
MAX_MODEL_CHARS = 200
MAX_TOKENS_LIMIT = 100_000
TEMPERATURE_RANGE = (0.0, 2.0)

_KNOWN_PARAMS = frozenset({"messages", "model", "temperature", "maxTokens"})


class ChatRole(StrEnum):
    SYSTEM = "SYSTEM"
    USER = "USER"
    ASSISTANT = "ASSISTANT"


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: ChatRole
    content: str


@dataclass(frozen=True, slots=True)
class ChatRequest:
    messages: list[ChatMessage]
    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class ChatCompletion:
    model: str
    message: ChatMessage
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_ms: float
    refused: bool = False
    """The model declined to answer; `message.content` then holds its explanation, if it gave one
    (OpenAI's `refusal` text), so a refusal never reads as an empty reply."""


def completion_to_dict(completion: ChatCompletion) -> dict[str, Any]:
    """The JSON shape of `AIChatCompletion` (camelCase keys), for `executeGatewayAction`."""
    return {
        "model": completion.model,
        "message": {
            "role": completion.message.role.value,
            "content": completion.message.content,
        },
        "finishReason": completion.finish_reason,
        "promptTokens": completion.prompt_tokens,
        "completionTokens": completion.completion_tokens,
        "latencyMs": completion.latency_ms,
        "refused": completion.refused,
    }


def parse_chat_params(params: Mapping[str, Any]) -> ChatRequest:
    """Validate untrusted `chat` params; every problem is reported at once, by dotted field path.

    Unknown keys are rejected rather than ignored: `max_tokens` instead of `maxTokens` would
    otherwise be silently dropped and the user would wonder why the limit had no effect.
    """
    errors: list[ParamError] = [
        ParamError(str(key), "unknown parameter") for key in params if key not in _KNOWN_PARAMS
    ]
    messages = _parse_messages(params.get("messages"), errors)
    model = _parse_model(params.get("model"), errors)
    temperature = _parse_temperature(params.get("temperature"), errors)
    max_tokens = _parse_max_tokens(params.get("maxTokens"), errors)
    if errors:
        raise ActionParamsError(errors)
    return ChatRequest(
        messages=messages, model=model, temperature=temperature, max_tokens=max_tokens
    )


def _parse_messages(value: Any, errors: list[ParamError]) -> list[ChatMessage]:
    if value is None:
        errors.append(ParamError("messages", "is required"))
        return []
    if not isinstance(value, list):
        errors.append(ParamError("messages", "must be a list of {role, content} objects"))
        return []
    if not 1 <= len(value) <= MAX_MESSAGES:
        errors.append(ParamError("messages", f"must hold 1 to {MAX_MESSAGES} messages"))
        return []
    messages: list[ChatMessage] = []
    for index, item in enumerate(value):
        message = _parse_message(item, f"messages.{index}", errors)
        if message is not None:
            messages.append(message)
    if len(messages) == len(value) and all(m.role is ChatRole.SYSTEM for m in messages):
        # Anthropic and Gemini reject a conversation made only of instructions.
        errors.append(ParamError("messages", "needs at least one USER or ASSISTANT message"))
    return messages


def _parse_message(item: Any, path: str, errors: list[ParamError]) -> ChatMessage | None:
    if not isinstance(item, Mapping):
        errors.append(ParamError(path, "must be an object with role and content"))
        return None
    role: ChatRole | None = None
    raw_role = item.get("role")
    if isinstance(raw_role, str) and raw_role.upper() in ChatRole.__members__:
        role = ChatRole[raw_role.upper()]
    else:
        errors.append(ParamError(f"{path}.role", "must be one of SYSTEM, USER, ASSISTANT"))
    content = item.get("content")
    if not isinstance(content, str):
        errors.append(ParamError(f"{path}.content", "must be a string"))
        return None
    if len(content) > MAX_CONTENT_CHARS:
        errors.append(
            ParamError(f"{path}.content", f"must be at most {MAX_CONTENT_CHARS} characters")
        )
        return None
    if not content.strip():
        # Anthropic rejects blank text blocks; failing here names the offending message.
        errors.append(ParamError(f"{path}.content", "must not be blank"))
        return None
    return ChatMessage(role, content) if role is not None else None


def _parse_model(value: Any, errors: list[ParamError]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append(ParamError("model", "must be a string"))
        return None
    model = value.strip()
    if len(model) > MAX_MODEL_CHARS:
        errors.append(ParamError("model", f"must be at most {MAX_MODEL_CHARS} characters"))
        return None
    return model or None


def _parse_temperature(value: Any, errors: list[ParamError]) -> float | None:
    if value is None:
        return None
    low, high = TEMPERATURE_RANGE
    # bool is an int subclass: `true` must not pass as a temperature of 1.
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        errors.append(ParamError("temperature", f"must be a number from {low:g} to {high:g}"))
        return None
    return float(value)


def _parse_max_tokens(value: Any, errors: list[ParamError]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TOKENS_LIMIT:
        errors.append(ParamError("maxTokens", f"must be an integer from 1 to {MAX_TOKENS_LIMIT}"))
        return None
    return value
