"""Adapter for the Anthropic Messages API (`POST /v1/messages`), which is not OpenAI-shaped.

Differences that matter: the key goes in `x-api-key` and `anthropic-version` is mandatory;
`max_tokens` is required; system prompts are a top-level `system` string, not a message; the
answer is a list of content blocks. Errors are `{"type": "error", "error": {"type", "message"}}`
where 529 `overloaded_error` is an outage (not a rate limit) and a 429 carrying
`error.details.error_code = "enforced_spend_limit_reached"` is a spending cap (not retryable).
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from app.core.http import Timeouts
from app.gateways.credentials import AICredentials
from app.providers.ai.adapter import HttpAdapter, describe, status_error
from app.providers.ai.payload import arr, integer, obj, text, try_json
from app.providers.ai.types import ChatCompletion, ChatMessage, ChatRequest, ChatRole
from app.providers.base import ProviderError, QuotaExhaustedError, UnavailableError

ANTHROPIC_VERSION = "2023-06-01"
# The API has no default; 1024 answers most chat turns without surprising anybody's bill.
DEFAULT_MAX_TOKENS = 1024
# One page is enough: the API allows limit up to 1000 and lists a few dozen models.
MODELS_PAGE_LIMIT = 1000


class AnthropicAdapter(HttpAdapter):
    def __init__(self, client: httpx.AsyncClient, timeouts: Timeouts) -> None:
        super().__init__(client, timeouts, upstream="Anthropic", map_error=map_anthropic_error)

    def _headers(self, creds: AICredentials) -> dict[str, str]:
        return {"x-api-key": self.require_key(creds), "anthropic-version": ANTHROPIC_VERSION}

    async def list_models(self, creds: AICredentials, base_url: str) -> list[str]:
        body = await self.request(
            "GET",
            f"{base_url}/v1/models",
            creds=creds,
            headers=self._headers(creds),
            params={"limit": MODELS_PAGE_LIMIT},
        )
        ids = (text(obj(item).get("id")) for item in arr(obj(body).get("data")))
        return [model_id for model_id in ids if model_id]

    async def chat(
        self, creds: AICredentials, base_url: str, request: ChatRequest, default_model: str
    ) -> ChatCompletion:
        model = request.model or default_model
        system = [m.content for m in request.messages if m.role is ChatRole.SYSTEM]
        payload: dict[str, Any] = {
            "model": model,
            "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
            "messages": [
                {"role": m.role.value.lower(), "content": m.content}
                for m in request.messages
                if m.role is not ChatRole.SYSTEM
            ],
        }
        if system:
            payload["system"] = "\n\n".join(system)
        if request.temperature is not None:
            # Anthropic's range is 0-1 where OpenAI's is 0-2; the upstream rejects > 1 with a 400
            # that names the field, clearer than silently rescaling the user's value.
            payload["temperature"] = request.temperature
        headers = self._headers(creds)
        started = time.perf_counter()
        body = obj(
            await self.request(
                "POST",
                f"{base_url}/v1/messages",
                creds=creds,
                headers=headers,
                json=payload,
                chat=True,
            )
        )
        latency_ms = (time.perf_counter() - started) * 1000
        blocks = (obj(block) for block in arr(body.get("content")))
        answer = "".join(text(b.get("text")) or "" for b in blocks if b.get("type") == "text")
        usage = obj(body.get("usage"))
        stop_reason = text(body.get("stop_reason"))
        return ChatCompletion(
            model=text(body.get("model")) or model,
            message=ChatMessage(ChatRole.ASSISTANT, answer),
            finish_reason=stop_reason,
            prompt_tokens=integer(usage.get("input_tokens")),
            completion_tokens=integer(usage.get("output_tokens")),
            latency_ms=latency_ms,
            # The safety classifiers stopped the answer; any text before that is kept as is.
            refused=stop_reason == "refusal",
        )


def map_anthropic_error(response: httpx.Response, upstream: str) -> ProviderError:
    """Map an Anthropic error answer onto the provider error tree."""
    status = response.status_code
    error = obj(obj(try_json(response)).get("error"))
    detail = text(error.get("message"))
    error_type = text(error.get("type"))
    message = describe(upstream, status, detail)

    if status == 429:
        if text(obj(error.get("details")).get("error_code")) == "enforced_spend_limit_reached":
            return QuotaExhaustedError(message, upstream_status=status)
    elif status == 400 and "credit balance is too low" in (detail or "").lower():
        # The prepaid balance ran out: a billing problem, not a malformed request.
        return QuotaExhaustedError(message, upstream_status=status)
    elif status == 529 or error_type == "overloaded_error":
        return UnavailableError(message, upstream_status=status)
    return status_error(response, upstream, detail)
