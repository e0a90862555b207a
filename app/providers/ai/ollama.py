"""Adapter for Ollama's native API (`POST /api/chat`, `GET /api/tags`).

A local Ollama has no authentication; Ollama's cloud (base URL https://ollama.com) wants a Bearer
key, so one is sent whenever the credentials carry a key. `/api/chat` streams NDJSON unless told
`"stream": false`. Errors are `{"error": "<text>"}`: a model that was never pulled is a 404
("model 'x' not found"), which is the user's configuration, not an outage.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from app.core.http import Timeouts
from app.gateways.credentials import AICredentials
from app.providers.ai.adapter import HttpAdapter, status_error
from app.providers.ai.payload import arr, integer, obj, text, try_json
from app.providers.ai.types import ChatCompletion, ChatMessage, ChatRequest, ChatRole
from app.providers.base import ProviderError


class OllamaAdapter(HttpAdapter):
    def __init__(self, client: httpx.AsyncClient, timeouts: Timeouts) -> None:
        super().__init__(client, timeouts, upstream="Ollama", map_error=map_ollama_error)

    @staticmethod
    def _headers(creds: AICredentials) -> dict[str, str]:
        return {"Authorization": f"Bearer {creds.api_key}"} if creds.api_key else {}

    async def list_models(self, creds: AICredentials, base_url: str) -> list[str]:
        body = await self.request(
            "GET", f"{base_url}/api/tags", creds=creds, headers=self._headers(creds)
        )
        names = (text(obj(item).get("name")) for item in arr(obj(body).get("models")))
        return [name for name in names if name]

    async def chat(
        self, creds: AICredentials, base_url: str, request: ChatRequest, default_model: str
    ) -> ChatCompletion:
        model = request.model or default_model
        payload: dict[str, Any] = {
            "model": model,
            "messages": [
                {"role": m.role.value.lower(), "content": m.content} for m in request.messages
            ],
            "stream": False,
        }
        options: dict[str, Any] = {}
        if request.temperature is not None:
            options["temperature"] = request.temperature
        if request.max_tokens is not None:
            options["num_predict"] = request.max_tokens
        if options:
            payload["options"] = options
        headers = self._headers(creds)
        started = time.perf_counter()
        body = obj(
            await self.request(
                "POST",
                f"{base_url}/api/chat",
                creds=creds,
                headers=headers,
                json=payload,
                chat=True,
            )
        )
        latency_ms = (time.perf_counter() - started) * 1000
        return ChatCompletion(
            model=text(body.get("model")) or model,
            message=ChatMessage(
                ChatRole.ASSISTANT, text(obj(body.get("message")).get("content")) or ""
            ),
            finish_reason=text(body.get("done_reason")),
            prompt_tokens=integer(body.get("prompt_eval_count")),
            completion_tokens=integer(body.get("eval_count")),
            latency_ms=latency_ms,
        )


def map_ollama_error(response: httpx.Response, upstream: str) -> ProviderError:
    """Map an Ollama error answer onto the provider error tree (404 included: BadRequest)."""
    return status_error(response, upstream, text(obj(try_json(response)).get("error")))
