"""Fake upstreams for the AI adapter tests: scripted replies and each provider's wire shapes.

`UPSTREAMS` describes, per provider, the URLs and auth header a real call must use and a
realistic success body; the tests assert requests against it, so a wrong path or header fails.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx

from app.gateways.credentials import AICredentials
from app.gateways.enums import AIProvider, GatewayType
from app.providers.base import GatewayHandle

# Looks like a key so a leak would be obvious; long enough that mask_tail keeps only "…CRET".
KEY = "sk-test-0123456789abcdef-SECRET"
GATEWAY_ID = "01890a5d-ac96-774b-bcce-b302099a8057"


@dataclass
class Upstream:
    """A MockTransport handler that records requests and plays replies in order (last repeats).

    A reply is an `httpx.Response` factory's arguments or an exception to raise; a fresh
    Response is built per request because one cannot be sent twice.
    """

    replies: list[tuple[int, Any, dict[str, str]] | Exception]
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        index = min(len(self.requests), len(self.replies)) - 1
        reply = self.replies[index]
        if isinstance(reply, Exception):
            raise reply
        status, body, headers = reply
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def last_json(self) -> Any:
        return json.loads(self.last.content)


def reply(status: int, body: Any = None, **headers: str) -> tuple[int, Any, dict[str, str]]:
    return (
        status,
        body if body is not None else {},
        {k.replace("_", "-"): v for k, v in headers.items()},
    )


def upstream(*replies: tuple[int, Any, dict[str, str]] | Exception) -> Upstream:
    return Upstream(list(replies))


def gateway(
    provider: AIProvider,
    *,
    api_key: str | None = KEY,
    base_url: str | None = None,
    model: str | None = "m-1",
    config: dict[str, Any] | None = None,
) -> GatewayHandle:
    return GatewayHandle(
        id=UUID(GATEWAY_ID),
        type=GatewayType.AI,
        credentials=AICredentials(provider, api_key=api_key, base_url=base_url, model=model),
        config=config or {},
    )


@dataclass(frozen=True)
class UpstreamSpec:
    provider: AIProvider
    models_url: str
    chat_url: str  # for model "m-1"
    auth: tuple[str, str] | None  # expected header (name, value) when a key is set
    models_body: dict[str, Any]
    chat_body: dict[str, Any]  # answers "Hello!", 11 prompt / 7 completion tokens
    finish_reason: str
    # The body sent for: SYSTEM "Be brief.", USER "Hi", temperature 0.5, maxTokens 50.
    expected_request: dict[str, Any]

    @property
    def needs_key(self) -> bool:
        return self.provider is not AIProvider.OLLAMA


_MESSAGES_LOWER = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]


def _openai(provider: AIProvider, base: str, max_tokens_field: str = "max_tokens") -> UpstreamSpec:
    return UpstreamSpec(
        provider=provider,
        models_url=f"{base}/models",
        chat_url=f"{base}/chat/completions",
        auth=("authorization", f"Bearer {KEY}"),
        models_body={"object": "list", "data": [{"id": "m-2"}, {"id": "m-1"}, {"id": "m-1"}]},
        chat_body={
            "id": "chatcmpl-1",
            "model": "m-1-2025",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Hello!"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        },
        finish_reason="stop",
        expected_request={
            "model": "m-1",
            "messages": _MESSAGES_LOWER,
            "temperature": 0.5,
            max_tokens_field: 50,
        },
    )


UPSTREAMS: dict[AIProvider, UpstreamSpec] = {
    AIProvider.OPENAI: _openai(
        AIProvider.OPENAI, "https://api.openai.com/v1", "max_completion_tokens"
    ),
    AIProvider.DEEPSEEK: _openai(AIProvider.DEEPSEEK, "https://api.deepseek.com"),
    AIProvider.GROK: _openai(AIProvider.GROK, "https://api.x.ai/v1"),
    AIProvider.MISTRAL: _openai(AIProvider.MISTRAL, "https://api.mistral.ai/v1"),
    AIProvider.GROQ: _openai(AIProvider.GROQ, "https://api.groq.com/openai/v1"),
    AIProvider.ANTHROPIC: UpstreamSpec(
        provider=AIProvider.ANTHROPIC,
        models_url="https://api.anthropic.com/v1/models?limit=1000",
        chat_url="https://api.anthropic.com/v1/messages",
        auth=("x-api-key", KEY),
        models_body={
            "data": [{"id": "m-2", "type": "model"}, {"id": "m-1", "type": "model"}],
            "has_more": False,
        },
        chat_body={
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "m-1-2025",
            "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": "!"}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 11, "output_tokens": 7},
        },
        finish_reason="end_turn",
        expected_request={
            "model": "m-1",
            "max_tokens": 50,
            "system": "Be brief.",
            "messages": [{"role": "user", "content": "Hi"}],
            "temperature": 0.5,
        },
    ),
    AIProvider.GEMINI: UpstreamSpec(
        provider=AIProvider.GEMINI,
        models_url="https://generativelanguage.googleapis.com/v1beta/models?pageSize=1000",
        chat_url="https://generativelanguage.googleapis.com/v1beta/models/m-1:generateContent",
        auth=("x-goog-api-key", KEY),
        models_body={
            "models": [
                {"name": "models/m-2", "supportedGenerationMethods": ["generateContent"]},
                {"name": "models/m-1", "supportedGenerationMethods": ["generateContent"]},
                {"name": "models/embed-1", "supportedGenerationMethods": ["embedContent"]},
            ]
        },
        chat_body={
            "candidates": [
                {
                    "content": {"role": "model", "parts": [{"text": "Hello"}, {"text": "!"}]},
                    "finishReason": "STOP",
                }
            ],
            "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 7},
            "modelVersion": "m-1-2025",
        },
        finish_reason="STOP",
        expected_request={
            "contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
            "systemInstruction": {"parts": [{"text": "Be brief."}]},
            "generationConfig": {"maxOutputTokens": 50, "temperature": 0.5},
        },
    ),
    AIProvider.OLLAMA: UpstreamSpec(
        provider=AIProvider.OLLAMA,
        models_url="http://localhost:11434/api/tags",
        chat_url="http://localhost:11434/api/chat",
        auth=("authorization", f"Bearer {KEY}"),
        models_body={"models": [{"name": "m-2", "model": "m-2"}, {"name": "m-1", "model": "m-1"}]},
        chat_body={
            "model": "m-1-2025",
            "message": {"role": "assistant", "content": "Hello!"},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 11,
            "eval_count": 7,
        },
        finish_reason="stop",
        expected_request={
            "model": "m-1",
            "messages": _MESSAGES_LOWER,
            "stream": False,
            "options": {"temperature": 0.5, "num_predict": 50},
        },
    ),
}

CHAT_PARAMS: dict[str, Any] = {
    "messages": [{"role": "SYSTEM", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
    "temperature": 0.5,
    "maxTokens": 50,
}
