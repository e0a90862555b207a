"""The explicit registry: one provider per gateway type, built once in the lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import httpx

from app.config import Settings
from app.core.clock import Clock
from app.core.http import Timeouts
from app.gateways.enums import AIProvider, GatewayType
from app.providers.ai.provider import AIGatewayProvider
from app.providers.base import Provider
from app.providers.telegram.provider import TelegramProvider
from app.providers.webhook.provider import WebhookTargetProvider


class ProviderRegistry:
    def __init__(self, providers: Mapping[GatewayType, Provider]) -> None:
        missing = set(GatewayType) - set(providers)
        if missing:
            raise ValueError(f"no provider for {', '.join(sorted(missing))}")
        self._providers = dict(providers)

    def get(self, gateway_type: GatewayType) -> Provider:
        return self._providers[gateway_type]

    def all(self) -> list[Provider]:
        return [self._providers[t] for t in GatewayType]


def ai_base_urls(settings: Settings) -> dict[AIProvider, str]:
    """Operator overrides of the AI providers' default base URLs (tests point them at fakes)."""
    configured = {
        AIProvider.OPENAI: settings.openai_base_url,
        AIProvider.ANTHROPIC: settings.anthropic_base_url,
        AIProvider.DEEPSEEK: settings.deepseek_base_url,
        AIProvider.GROK: settings.grok_base_url,
        AIProvider.GEMINI: settings.gemini_base_url,
        AIProvider.MISTRAL: settings.mistral_base_url,
        AIProvider.GROQ: settings.groq_base_url,
        AIProvider.OLLAMA: settings.ollama_base_url,
    }
    return {provider: url for provider, url in configured.items() if url}


def timeouts_of(settings: Settings) -> Timeouts:
    return Timeouts(
        connect=settings.http_connect_timeout,
        read=settings.http_read_timeout,
        chat_read=settings.ai_chat_timeout,
    )


def build_registry(
    settings: Settings,
    client: httpx.AsyncClient,
    clock: Clock,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> ProviderRegistry:
    timeouts = timeouts_of(settings)
    allow_private = settings.private_targets_allowed
    return ProviderRegistry(
        {
            GatewayType.TELEGRAM_BOT: TelegramProvider(
                client,
                api_base_url=settings.telegram_api_base_url,
                public_base_url=settings.public_base_url,
                timeouts=timeouts,
                clock=clock,
                sleep=sleep,
            ),
            GatewayType.AI: AIGatewayProvider(
                client,
                timeouts=timeouts,
                allow_private_targets=allow_private,
                base_urls=ai_base_urls(settings),
                clock=clock,
            ),
            GatewayType.WEBHOOK: WebhookTargetProvider(
                client, timeouts=timeouts, allow_private_targets=allow_private, clock=clock
            ),
        }
    )
