"""Adapter for the Gemini API (`models/{model}:generateContent`), which is not OpenAI-shaped.

The key goes in the `x-goog-api-key` header, never in `?key=`: URLs end up in access logs and
in httpx exception text. Roles are `user` and `model`; system prompts go to `systemInstruction`.
Errors follow google.rpc.Status: `{"error": {"code", "message", "status", "details": [...]}}`.
A bad key is a 400 `INVALID_ARGUMENT` (not a 401) whose `ErrorInfo.reason` is `API_KEY_INVALID`;
some answers carry no `details`, so "API key not valid" / "API Key not found" in the message
says it too; a 403 saying the key was reported as leaked (Google disabled it) or that the caller
is unregistered (no key arrived) is a bad key too, not a permission. A 429 `RESOURCE_EXHAUSTED`
is a quota when its `QuotaFailure` names a per-day quota (sticky until the daily reset; a
per-minute one listed beside it does not make it a rate limit) and a rate limit otherwise.
Either way `RetryInfo.retryDelay`, else `Retry-After`, is the wait.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import quote

import httpx

from app.core.http import Timeouts, parse_retry_after
from app.gateways.credentials import AICredentials
from app.providers.ai.adapter import HttpAdapter, describe, status_error
from app.providers.ai.payload import arr, integer, obj, text, try_json
from app.providers.ai.types import ChatCompletion, ChatMessage, ChatRequest, ChatRole
from app.providers.base import (
    AuthInvalidError,
    BadRequestError,
    ProviderError,
    QuotaExhaustedError,
    UnavailableError,
)

MODEL_PREFIX = "models/"
# The API's maximum page size; its model list is far shorter, so one page is all of it.
MODELS_PAGE_SIZE = 1000
_DURATION = re.compile(r"(\d+(?:\.\d+)?)s")
# Lower-cased; "API Key not found" is what a deleted key gets, "expired" a rotated one.
_BAD_KEY_MARKERS = ("api key not valid", "api key not found", "api key expired")
# 403 PERMISSION_DENIED answers that are about the key itself, not what it may do: Google
# disabled a leaked key, or did not take what was sent as a key at all.
_DEAD_KEY_MARKERS = ("reported as leaked", "unregistered callers")
_ROLES = {ChatRole.USER: "user", ChatRole.ASSISTANT: "model"}
# Finish reasons meaning the answer was withheld by a safety filter, not cut short or finished.
_REFUSAL_REASONS = frozenset({"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII"})


class GeminiAdapter(HttpAdapter):
    def __init__(self, client: httpx.AsyncClient, timeouts: Timeouts) -> None:
        super().__init__(client, timeouts, upstream="Gemini", map_error=map_gemini_error)

    def _headers(self, creds: AICredentials) -> dict[str, str]:
        return {"x-goog-api-key": self.require_key(creds)}

    async def list_models(self, creds: AICredentials, base_url: str) -> list[str]:
        body = await self.request(
            "GET",
            f"{base_url}/models",
            creds=creds,
            headers=self._headers(creds),
            params={"pageSize": MODELS_PAGE_SIZE},
        )
        models: list[str] = []
        for item in arr(obj(body).get("models")):
            model = obj(item)
            name = text(model.get("name"))
            methods = model.get("supportedGenerationMethods")
            # Embedding-only models cannot chat; list only what `chat` could use.
            if name and (methods is None or "generateContent" in arr(methods)):
                models.append(name.removeprefix(MODEL_PREFIX))
        return models

    async def chat(
        self, creds: AICredentials, base_url: str, request: ChatRequest, default_model: str
    ) -> ChatCompletion:
        model = (request.model or default_model).removeprefix(MODEL_PREFIX)
        payload: dict[str, Any] = {
            "contents": [
                {"role": _ROLES[m.role], "parts": [{"text": m.content}]}
                for m in request.messages
                if m.role is not ChatRole.SYSTEM
            ],
        }
        system = [{"text": m.content} for m in request.messages if m.role is ChatRole.SYSTEM]
        if system:
            payload["systemInstruction"] = {"parts": system}
        config: dict[str, Any] = {}
        if request.max_tokens is not None:
            config["maxOutputTokens"] = request.max_tokens
        if request.temperature is not None:
            config["temperature"] = request.temperature
        if config:
            payload["generationConfig"] = config
        # The model is user input inside the path: quote it so "a/../b" cannot pick another route.
        url = f"{base_url}/models/{quote(model, safe='')}:generateContent"
        headers = self._headers(creds)
        started = time.perf_counter()
        body = obj(
            await self.request("POST", url, creds=creds, headers=headers, json=payload, chat=True)
        )
        latency_ms = (time.perf_counter() - started) * 1000
        candidates = arr(body.get("candidates"))
        if not candidates:
            reason = text(obj(body.get("promptFeedback")).get("blockReason"))
            if reason:
                raise BadRequestError(f"{self.upstream}: prompt blocked: {reason}")
            raise UnavailableError(f"{self.upstream} returned no candidates")
        candidate = obj(candidates[0])
        parts = (obj(part) for part in arr(obj(candidate.get("content")).get("parts")))
        # Thinking models may return thought summaries as parts flagged `thought`: not the answer.
        answer = "".join(text(p.get("text")) or "" for p in parts if not p.get("thought"))
        usage = obj(body.get("usageMetadata"))
        finish_reason = text(candidate.get("finishReason"))
        return ChatCompletion(
            model=text(body.get("modelVersion")) or model,
            message=ChatMessage(ChatRole.ASSISTANT, answer),
            finish_reason=finish_reason,
            prompt_tokens=integer(usage.get("promptTokenCount")),
            completion_tokens=integer(usage.get("candidatesTokenCount")),
            latency_ms=latency_ms,
            refused=finish_reason in _REFUSAL_REASONS,
        )


def map_gemini_error(response: httpx.Response, upstream: str) -> ProviderError:
    """Map a Gemini (google.rpc.Status) error answer onto the provider error tree."""
    status = response.status_code
    error = obj(obj(try_json(response)).get("error"))
    detail = text(error.get("message"))
    details = [obj(d) for d in arr(error.get("details"))]
    message = describe(upstream, status, detail)

    if status == 400 and (
        any(d.get("reason") == "API_KEY_INVALID" for d in details)
        or any(marker in (detail or "").lower() for marker in _BAD_KEY_MARKERS)
    ):
        return AuthInvalidError(message, upstream_status=status)
    if status == 403 and any(marker in (detail or "").lower() for marker in _DEAD_KEY_MARKERS):
        return AuthInvalidError(message, upstream_status=status)
    if status == 429:
        delays = (_parse_duration(text(d.get("retryDelay"))) for d in details)
        retry_after = next((delay for delay in delays if delay is not None), None)
        if retry_after is None:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
        quota_ids = [
            text(obj(violation).get("quotaId")) or ""
            for d in details
            for violation in arr(d.get("violations"))
        ]
        if any("PerDay" in quota_id for quota_id in quota_ids):
            # Not retryable today, but the wait Google names is still the user's best hint.
            return QuotaExhaustedError(message, upstream_status=status, retry_after=retry_after)
        return status_error(response, upstream, detail, retry_after=retry_after)
    return status_error(response, upstream, detail)


def _parse_duration(value: str | None) -> float | None:
    """Seconds from a protobuf Duration in JSON form, e.g. "30s" or "1.5s"."""
    match = _DURATION.fullmatch(value.strip()) if value else None
    return float(match.group(1)) if match else None
