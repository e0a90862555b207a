"""Adapter for the OpenAI chat-completions dialect: OpenAI, DeepSeek, xAI (Grok), Mistral, Groq.

All five take `Authorization: Bearer`, list models at `GET {base}/models` and chat at
`POST {base}/chat/completions`. They differ in error bodies and in one request field, which is
why `map_openai_error` reads every known body shape and the token-limit field is a parameter:

- OpenAI: `{"error": {"message", "type", "code"}}`; reasoning models reject `max_tokens` and
  want `max_completion_tokens`, which its other chat models accept too.
- Mistral: `{"object": "error", "message", "type", "code"}`; unknown fields are rejected, so it
  must get `max_tokens` (as must DeepSeek).
- xAI: `{"code", "error": "<text>"}`, and a wrong key is a 400 "Incorrect API key", not a 401.
- DeepSeek and Mistral say "out of money" with 402; OpenAI with 429 `insufficient_quota`.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

from app.core.http import Timeouts, parse_retry_after
from app.gateways.credentials import AICredentials
from app.providers.ai.adapter import HttpAdapter, describe, status_error
from app.providers.ai.payload import arr, integer, obj, text, try_json
from app.providers.ai.types import ChatCompletion, ChatMessage, ChatRequest, ChatRole
from app.providers.base import (
    AuthInvalidError,
    ProviderError,
    QuotaExhaustedError,
    RateLimitedError,
)

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_QUOTA_MARKERS = ("insufficient_quota", "exceeded your current quota")
_BAD_KEY_MARKERS = ("incorrect api key", "invalid api key")


class OpenAICompatibleAdapter(HttpAdapter):
    def __init__(
        self,
        client: httpx.AsyncClient,
        timeouts: Timeouts,
        *,
        upstream: str,
        max_tokens_field: str = "max_tokens",
    ) -> None:
        super().__init__(client, timeouts, upstream=upstream, map_error=map_openai_error)
        self._max_tokens_field = max_tokens_field

    def _headers(self, creds: AICredentials) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.require_key(creds)}"}

    async def list_models(self, creds: AICredentials, base_url: str) -> list[str]:
        body = await self.request(
            "GET", f"{base_url}/models", creds=creds, headers=self._headers(creds)
        )
        ids = (text(obj(item).get("id")) for item in arr(obj(body).get("data")))
        return [model_id for model_id in ids if model_id]

    async def chat(
        self, creds: AICredentials, base_url: str, request: ChatRequest, default_model: str
    ) -> ChatCompletion:
        model = request.model or default_model
        payload: dict[str, Any] = {
            "model": model,
            "messages": [
                {"role": m.role.value.lower(), "content": m.content} for m in request.messages
            ],
        }
        if request.temperature is not None:
            payload["temperature"] = request.temperature
        if request.max_tokens is not None:
            payload[self._max_tokens_field] = request.max_tokens
        headers = self._headers(creds)
        started = time.perf_counter()
        body = obj(
            await self.request(
                "POST",
                f"{base_url}/chat/completions",
                creds=creds,
                headers=headers,
                json=payload,
                chat=True,
            )
        )
        latency_ms = (time.perf_counter() - started) * 1000
        choice = obj(next(iter(arr(body.get("choices"))), None))
        usage = obj(body.get("usage"))
        return ChatCompletion(
            model=text(body.get("model")) or model,
            # content is null when the model answers with a refusal or tool calls only.
            message=ChatMessage(
                ChatRole.ASSISTANT, text(obj(choice.get("message")).get("content")) or ""
            ),
            finish_reason=text(choice.get("finish_reason")),
            prompt_tokens=integer(usage.get("prompt_tokens")),
            completion_tokens=integer(usage.get("completion_tokens")),
            latency_ms=latency_ms,
        )


def map_openai_error(response: httpx.Response, upstream: str) -> ProviderError:
    """Map an error answer of any OpenAI-dialect upstream onto the provider error tree."""
    status = response.status_code
    body = obj(try_json(response))
    error = body.get("error")
    if isinstance(error, dict):  # OpenAI, DeepSeek, Groq
        detail = text(error.get("message"))
        codes = f"{text(error.get('code')) or ''} {text(error.get('type')) or ''}".lower()
    else:  # xAI: "error" is the text; Mistral: top-level "message"
        detail = text(error) or text(body.get("message"))
        codes = f"{text(body.get('code')) or ''} {text(body.get('type')) or ''}".lower()
    lowered = f"{codes} {(detail or '').lower()}"
    message = describe(upstream, status, detail)

    if status == 400 and any(marker in lowered for marker in _BAD_KEY_MARKERS):
        return AuthInvalidError(message, upstream_status=status)
    if status == 402 or (status == 429 and any(m in lowered for m in _QUOTA_MARKERS)):
        # Out of credit: retrying cannot help until someone pays, so it is not a rate limit.
        return QuotaExhaustedError(message, upstream_status=status)
    if status == 429:
        return RateLimitedError(
            message, upstream_status=status, retry_after=_rate_limit_wait(response.headers)
        )
    return status_error(response, upstream, detail)


def _rate_limit_wait(headers: httpx.Headers) -> float | None:
    """Retry-After if sent, else the reset time of whichever window is exhausted."""
    retry_after = parse_retry_after(headers.get("retry-after"))
    if retry_after is not None:
        return retry_after
    exhausted = [
        parse_reset_duration(headers.get(f"x-ratelimit-reset-{kind}"))
        for kind in ("requests", "tokens")
        if headers.get(f"x-ratelimit-remaining-{kind}", "").strip() == "0"
    ]
    waits = [wait for wait in exhausted if wait is not None]
    if waits:
        return max(waits)
    return parse_reset_duration(headers.get("x-ratelimit-reset-requests"))


def parse_reset_duration(value: str | None) -> float | None:
    """Seconds from an `x-ratelimit-reset-*` duration such as "6s", "12ms" or "1m30.5s"."""
    if not value:
        return None
    value = value.strip()
    parts = list(_DURATION_PART.finditer(value))
    if not parts or "".join(p.group(0) for p in parts) != value:
        return None
    return sum(float(p.group(1)) * _UNIT_SECONDS[p.group(2)] for p in parts)
