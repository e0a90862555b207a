"""`AIGatewayProvider`: the `Provider` for gateways of type AI, dispatching to one adapter per API.

It owns the policy the adapters do not: which base URL to call (the user's own, else the
operator's override, else the public default), the SSRF guard on user-supplied URLs, model
resolution, retries (idempotent model listings only: a chat costs tokens and is never repeated
behind the user's back), an overall chat deadline, and logging without secrets.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import Any

import httpx

from app.core.clock import Clock
from app.core.http import Timeouts, retry_idempotent
from app.core.outbound import UnsafeTargetError, ensure_public_target
from app.gateways.credentials import AICredentials
from app.gateways.enums import AIProvider, GatewayType
from app.providers.ai.adapter import AIAdapter
from app.providers.ai.anthropic import AnthropicAdapter
from app.providers.ai.gemini import GeminiAdapter
from app.providers.ai.ollama import OllamaAdapter
from app.providers.ai.openai_compatible import OpenAICompatibleAdapter
from app.providers.ai.types import (
    ChatCompletion,
    ChatRequest,
    completion_to_dict,
    parse_chat_params,
)
from app.providers.base import (
    ActionParamsError,
    ActionSpec,
    BadRequestError,
    CheckResult,
    ConnectResult,
    GatewayHandle,
    ParamError,
    ProviderError,
    UnsupportedActionError,
    UpstreamTimeoutError,
)

logger = logging.getLogger("app.providers.ai")

AdapterFactory = Callable[[httpx.AsyncClient, Timeouts], AIAdapter]

DEFAULT_BASE_URLS: dict[AIProvider, str] = {
    AIProvider.OPENAI: "https://api.openai.com/v1",
    AIProvider.ANTHROPIC: "https://api.anthropic.com",
    AIProvider.DEEPSEEK: "https://api.deepseek.com",
    AIProvider.GROK: "https://api.x.ai/v1",
    AIProvider.GEMINI: "https://generativelanguage.googleapis.com/v1beta",
    AIProvider.MISTRAL: "https://api.mistral.ai/v1",
    AIProvider.GROQ: "https://api.groq.com/openai/v1",
    AIProvider.OLLAMA: "http://localhost:11434",
}

ADAPTERS: dict[AIProvider, AdapterFactory] = {
    # OpenAI's reasoning models refuse `max_tokens`; every OpenAI chat model takes the new name.
    AIProvider.OPENAI: partial(
        OpenAICompatibleAdapter, upstream="OpenAI", max_tokens_field="max_completion_tokens"
    ),
    AIProvider.ANTHROPIC: AnthropicAdapter,
    AIProvider.DEEPSEEK: partial(OpenAICompatibleAdapter, upstream="DeepSeek"),
    AIProvider.GROK: partial(OpenAICompatibleAdapter, upstream="xAI"),
    AIProvider.GEMINI: GeminiAdapter,
    AIProvider.MISTRAL: partial(OpenAICompatibleAdapter, upstream="Mistral"),
    AIProvider.GROQ: partial(OpenAICompatibleAdapter, upstream="Groq"),
    AIProvider.OLLAMA: OllamaAdapter,
}

ACTIONS = (
    ActionSpec("chat", "Send {messages, model?, temperature?, maxTokens?}; returns the reply."),
    ActionSpec("listModels", "List the model ids the credentials can use."),
    ActionSpec("validateKey", "Check the API key by listing models (no tokens are spent)."),
)


class AIGatewayProvider:
    # Annotated with the protocol's types: protocol attributes are invariant, so an inferred
    # `tuple[...]` would not satisfy `Sequence[...]`.
    type: GatewayType = GatewayType.AI
    name: str = "AI provider"
    description: str = (
        "Chat completions and model listings from OpenAI, Anthropic, DeepSeek, xAI Grok, "
        "Google Gemini, Mistral, Groq or a self-hosted Ollama."
    )
    actions: Sequence[ActionSpec] = ACTIONS
    ai_providers: Sequence[AIProvider] = tuple(AIProvider)

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        timeouts: Timeouts,
        allow_private_targets: bool,
        base_urls: Mapping[AIProvider, str] | None = None,
        clock: Clock,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.adapters: dict[AIProvider, AIAdapter] = {
            provider: make(client, timeouts) for provider, make in ADAPTERS.items()
        }
        self._base_urls = {**DEFAULT_BASE_URLS, **(base_urls or {})}
        self._allow_private = allow_private_targets
        # httpx's read timeout restarts with every byte, and DeepSeek keeps a queued request
        # alive with blank lines for up to 10 minutes: only a whole-call deadline bounds a chat.
        self._chat_deadline = timeouts.connect + timeouts.chat_read
        self._clock = clock  # kept for parity with other providers; latency uses perf_counter
        self._sleep = sleep

    # ------------------------------------------------------------------ Provider protocol

    async def validate_credentials(self, gateway: GatewayHandle) -> CheckResult:
        creds = _ai_credentials(gateway)
        models = await self._list_models(gateway)
        details: dict[str, Any] = {"models": len(models), "provider": creds.provider.value}
        if creds.model and creds.model not in models:
            # A stale default model is worth showing, not worth failing the check for: some
            # upstreams accept aliases (e.g. "-latest") that their listing does not include.
            details["modelAvailable"] = False
        return CheckResult(details=details)

    async def check_health(self, gateway: GatewayHandle) -> CheckResult:
        # Listing models is authenticated and free; a completion would cost tokens.
        return await self.validate_credentials(gateway)

    async def connect(self, gateway: GatewayHandle) -> ConnectResult:
        result = await self.validate_credentials(gateway)
        return ConnectResult(config_updates={"modelCount": result.details["models"]})

    async def disconnect(self, gateway: GatewayHandle) -> None:
        """Nothing to undo upstream: an AI gateway registers nothing there."""

    async def execute(
        self, gateway: GatewayHandle, action: str, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        if action == "chat":
            return completion_to_dict(await self.chat(gateway, parse_chat_params(params)))
        if action == "listModels":
            models = await self._list_models(gateway)
            return {"models": models, "count": len(models)}
        if action == "validateKey":
            models = await self._list_models(gateway)
            return {"valid": True, "models": len(models)}
        raise UnsupportedActionError(action, [spec.name for spec in self.actions])

    # ------------------------------------------------------------------ typed entry points

    async def chat(self, gateway: GatewayHandle, request: ChatRequest) -> ChatCompletion:
        """One completion, never retried (a retry would bill the user twice)."""
        creds = _ai_credentials(gateway)
        model = _resolve_model(request, creds, gateway)
        base_url = await self._base_url(creds)
        adapter = self.adapters[creds.provider]
        try:
            async with asyncio.timeout(self._chat_deadline):
                completion = await adapter.chat(creds, base_url, request, model)
        except TimeoutError as exc:
            error = UpstreamTimeoutError(f"{adapter.upstream} did not answer in time")
            _log_failure("ai.chat.failed", creds, error)
            raise error from exc
        except ProviderError as exc:
            _log_failure("ai.chat.failed", creds, exc)
            raise
        logger.info(
            "ai.chat.succeeded",
            extra={"provider": creds.provider.value, "latency_ms": round(completion.latency_ms)},
        )
        return completion

    async def _list_models(self, gateway: GatewayHandle) -> list[str]:
        """Sorted, de-duplicated model ids; a GET, so transient failures are retried."""
        creds = _ai_credentials(gateway)
        base_url = await self._base_url(creds)
        adapter = self.adapters[creds.provider]
        try:
            models = await retry_idempotent(
                lambda: adapter.list_models(creds, base_url), sleep=self._sleep
            )
        except ProviderError as exc:
            _log_failure("ai.models.failed", creds, exc)
            raise
        return sorted(set(models))

    async def _base_url(self, creds: AICredentials) -> str:
        """The user's URL (checked against SSRF on every call), else the operator's/default."""
        if not creds.base_url:
            return self._base_urls[creds.provider].rstrip("/")
        try:
            await ensure_public_target(creds.base_url, allow_private=self._allow_private)
        except UnsafeTargetError as exc:
            raise BadRequestError(f"baseUrl refused: {exc}") from exc
        return creds.base_url.rstrip("/")


def _ai_credentials(gateway: GatewayHandle) -> AICredentials:
    if not isinstance(gateway.credentials, AICredentials):
        # A registry bug, not user input: the registry routes only AI gateways here.
        raise TypeError(f"gateway {gateway.id} has no AI credentials")
    return gateway.credentials


def _resolve_model(request: ChatRequest, creds: AICredentials, gateway: GatewayHandle) -> str:
    configured = gateway.config.get("defaultModel")
    configured = configured if isinstance(configured, str) else None
    model = request.model or creds.model or configured
    if not model:
        raise ActionParamsError(
            [ParamError("model", "model is required: none given and the gateway has no default")]
        )
    return model


def _log_failure(event: str, creds: AICredentials, error: ProviderError) -> None:
    # Provider, code and status only: messages quote upstream text, which is not ours to log.
    logger.warning(
        event,
        extra={
            "provider": creds.provider.value,
            "code": error.code.value,
            "status": error.upstream_status,
        },
    )
