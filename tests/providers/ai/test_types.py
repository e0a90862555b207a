"""`chat` params validation and the completion's JSON shape."""

from __future__ import annotations

from typing import Any

import pytest

from app.providers.ai.types import (
    MAX_CONTENT_CHARS,
    ChatCompletion,
    ChatMessage,
    ChatRequest,
    ChatRole,
    completion_to_dict,
    parse_chat_params,
)
from app.providers.base import ActionParamsError

HI = {"role": "USER", "content": "Hi"}


def test_parses_a_valid_request_accepting_any_role_case() -> None:
    request = parse_chat_params(
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "User", "content": "Hi"},
                {"role": "ASSISTANT", "content": "Hello"},
            ],
            "model": " gpt-x ",
            "temperature": 2,
            "maxTokens": 100_000,
        }
    )
    assert request == ChatRequest(
        messages=[
            ChatMessage(ChatRole.SYSTEM, "Be brief."),
            ChatMessage(ChatRole.USER, "Hi"),
            ChatMessage(ChatRole.ASSISTANT, "Hello"),
        ],
        model="gpt-x",
        temperature=2.0,
        max_tokens=100_000,
    )


def test_optional_params_default_to_none() -> None:
    request = parse_chat_params({"messages": [HI], "model": "  "})
    assert (request.model, request.temperature, request.max_tokens) == (None, None, None)


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({}, ["messages"]),
        ({"messages": "Hi"}, ["messages"]),
        ({"messages": []}, ["messages"]),
        ({"messages": [HI] * 101}, ["messages"]),
        ({"messages": ["Hi"]}, ["messages.0"]),
        ({"messages": [HI, {"role": "tool", "content": "x"}]}, ["messages.1.role"]),
        ({"messages": [{"content": "x"}]}, ["messages.0.role"]),
        ({"messages": [{"role": "USER", "content": 3}]}, ["messages.0.content"]),
        ({"messages": [{"role": "USER", "content": " \n"}]}, ["messages.0.content"]),
        (
            {"messages": [{"role": "USER", "content": "x" * (MAX_CONTENT_CHARS + 1)}]},
            ["messages.0.content"],
        ),
        ({"messages": [{"role": "SYSTEM", "content": "Only rules"}]}, ["messages"]),
        ({"messages": [HI], "temperature": 2.5}, ["temperature"]),
        ({"messages": [HI], "temperature": -0.1}, ["temperature"]),
        ({"messages": [HI], "temperature": True}, ["temperature"]),
        ({"messages": [HI], "temperature": float("nan")}, ["temperature"]),
        ({"messages": [HI], "temperature": "1"}, ["temperature"]),
        ({"messages": [HI], "maxTokens": 0}, ["maxTokens"]),
        ({"messages": [HI], "maxTokens": 100_001}, ["maxTokens"]),
        ({"messages": [HI], "maxTokens": 1.5}, ["maxTokens"]),
        ({"messages": [HI], "model": "m" * 201}, ["model"]),
        ({"messages": [HI], "model": 4}, ["model"]),
        ({"messages": [HI], "max_tokens": 5}, ["max_tokens"]),
        (
            {"messages": [{"role": "bot", "content": ""}], "temperature": 3, "maxTokens": 0},
            ["messages.0.role", "messages.0.content", "temperature", "maxTokens"],
        ),
    ],
)
def test_invalid_params_are_reported_by_field_path(
    params: dict[str, Any], fields: list[str]
) -> None:
    with pytest.raises(ActionParamsError) as caught:
        parse_chat_params(params)
    assert [error.field for error in caught.value.errors] == fields


def test_completion_to_dict_uses_the_graphql_shape() -> None:
    completion = ChatCompletion(
        model="m-1",
        message=ChatMessage(ChatRole.ASSISTANT, "Hello!"),
        finish_reason="stop",
        prompt_tokens=11,
        completion_tokens=None,
        latency_ms=12.5,
    )
    assert completion_to_dict(completion) == {
        "model": "m-1",
        "message": {"role": "ASSISTANT", "content": "Hello!"},
        "finishReason": "stop",
        "promptTokens": 11,
        "completionTokens": None,
        "latencyMs": 12.5,
        "refused": False,
    }
