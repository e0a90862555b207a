"""Adapter for the OpenAI chat-completions dialect: OpenAI, DeepSeek, xAI (Grok), Mistral, Groq.

All five take `Authorization: Bearer`, list models at `GET {base}/models` and chat at
`POST {base}/chat/completions`. They differ in error bodies and in one request field, which is
why `map_openai_error` reads every known body shape and the token-limit field is a parameter:

- OpenAI: `{"error": {"message", "type", "code"}}`; reasoning models reject `max_tokens` and
  want `max_completion_tokens`, which its other chat models accept too.
- Mistral: `{"object": "error", "message", "type", "code"}`; unknown fields are rejected, so it
  must get `max_tokens` (as must DeepSeek). On a 422 `message` is not a string but a validation
  object, `{"detail": [{"loc": ["body", ...], "msg", ...}]}` (some routes answer that object
  alone): its field paths and messages become the error's detail.
- xAI: `{"code", "error": "<text>"}`, and a wrong key is a 400 "Incorrect API key", not a 401;
  a team without credits (or past its spending limit) is a 403, not a permission problem.
- DeepSeek and Mistral say "out of money" with 402; OpenAI with 429 `insufficient_quota`.
- OpenAI and Groq put the wait in the 429's text ("Please try again in 8.53s") as well as in
  headers; the text is used when no header says it.
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
    BadRequestError,
    ProviderError,
    QuotaExhaustedError,
    RateLimitedError,
)

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_QUOTA_MARKERS = (
    "insufficient_quota",
    "exceeded your current quota",
    # xAI, on a 403: "Your newly created team doesn't have any credits or licenses yet",
    # "You have run out of credits", "... has either used all available credits or reached its
    # monthly spending limit" (code "personal-team-blocked:spending-limit").
    "any credits",
    "out of credits",
    "available credits",
    "spending limit",
    "spending-limit",
)
_BAD_KEY_MARKERS = ("incorrect api key", "invalid api key")
_WAIT_IN_TEXT = re.compile(r"try again in ((?:\d+(?:\.\d+)?(?:ms|s|m|h))+)", re.IGNORECASE)


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
        message = obj(choice.get("message"))
        # content is null when the model refuses (the explanation is in `refusal`) or answers
        # with tool calls only; a refusal must not come back as an empty reply.
        refusal = text(message.get("refusal"))
        usage = obj(body.get("usage"))
        return ChatCompletion(
            model=text(body.get("model")) or model,
            message=ChatMessage(ChatRole.ASSISTANT, text(message.get("content")) or refusal or ""),
            finish_reason=text(choice.get("finish_reason")),
            prompt_tokens=integer(usage.get("prompt_tokens")),
            completion_tokens=integer(usage.get("completion_tokens")),
            latency_ms=latency_ms,
            refused=bool(refusal),
        )


def map_openai_error(response: httpx.Response, upstream: str) -> ProviderError:
    """Map an error answer of any OpenAI-dialect upstream onto the provider error tree."""
    status = response.status_code
    body = obj(try_json(response))
    error = body.get("error")
    if isinstance(error, dict):  # OpenAI, DeepSeek, Groq
        detail = text(error.get("message"))
        codes = f"{text(error.get('code')) or ''} {text(error.get('type')) or ''}".lower()
    else:  # xAI: "error" is the text; Mistral: top-level "message", or a validation object
        detail = (
            text(error)
            or text(body.get("message"))
            or validation_detail(body.get("message"))
            or validation_detail(body)
        )
        codes = f"{text(body.get('code')) or ''} {text(body.get('type')) or ''}".lower()
    lowered = f"{codes} {(detail or '').lower()}"
    message = describe(upstream, status, detail)

    if status == 400 and any(marker in lowered for marker in _BAD_KEY_MARKERS):
        return AuthInvalidError(message, upstream_status=status)
    if status == 402 or (status in (403, 429) and any(m in lowered for m in _QUOTA_MARKERS)):
        # Out of credit: retrying cannot help until someone pays, so it is not a rate limit,
        # and the key is allowed to do the call, so it is not a permission problem either.
        return QuotaExhaustedError(message, upstream_status=status)
    if status == 429 and "request too large" in lowered:
        # "Request too large for gpt-4o ... on tokens per min (TPM): Limit 30000, Requested
        # 31538": the request alone exceeds the per-minute allowance, so no wait can help.
        return BadRequestError(message, upstream_status=status)
    if status == 429:
        return RateLimitedError(
            message,
            upstream_status=status,
            retry_after=_rate_limit_wait(response.headers, detail),
        )
    return status_error(response, upstream, detail)


def validation_detail(value: Any) -> str | None:
    """ "messages.0.content: Field required; ..." from a FastAPI-style `{"detail": [...]}`.

    The offending `input` values are left out: they are the user's own request, possibly long.
    """
    detail = obj(value).get("detail")
    if isinstance(detail, str):
        return detail
    problems: list[str] = []
    for item in arr(detail):
        entry = obj(item)
        loc = [
            str(part)
            for part in arr(entry.get("loc"))
            if isinstance(part, str | int) and not isinstance(part, bool)
        ]
        if loc[:1] == ["body"]:  # where FastAPI found the field, not part of its path
            loc = loc[1:]
        msg = text(entry.get("msg"))
        if msg:
            problems.append(f"{'.'.join(loc)}: {msg}" if loc else msg)
    return "; ".join(problems) or None


def _rate_limit_wait(headers: httpx.Headers, detail: str | None) -> float | None:
    """Retry-After if sent, else the reset of whichever window is exhausted, else the wait the
    message names ("Please try again in 8.53s"), else when the request window resets."""
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
    in_text = _WAIT_IN_TEXT.search(detail or "")
    if in_text is not None:
        wait = parse_reset_duration(in_text.group(1))
        if wait is not None:
            return wait
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
