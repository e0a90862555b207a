"""GraphQL input types of gateways and their conversion into the service's input dataclasses."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from app.gateways import inputs
from app.gateways.credentials import (
    AICredentials,
    TelegramBotCredentials,
    WebhookCredentials,
    mask_tail,
)
from app.gateways.service import GatewayFilter as ServiceFilter
from app.graphql.scalars import AIProvider, GatewayStatus, GatewayType


@strawberry.input
class GatewayFilter:
    type: GatewayType | None = None
    status: GatewayStatus | None = None
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the name."
    )

    def to_service(self) -> ServiceFilter:
        return ServiceFilter(type=self.type, status=self.status, search=self.search)


# The credentials inputs hold secrets as the client sent them: their reprs (what a log line or
# a traceback with locals shows) are masked like the credentials they become.


@strawberry.input
class TelegramBotCredentialsInput:
    bot_token: str

    def __repr__(self) -> str:
        return f"TelegramBotCredentialsInput(bot_token={mask_tail(self.bot_token)!r})"


@strawberry.input
class AICredentialsInput:
    provider: AIProvider
    api_key: str | None = strawberry.field(
        default=None, description="Required for every provider except OLLAMA."
    )
    base_url: str | None = None
    model: str | None = None

    def __repr__(self) -> str:
        key = mask_tail(self.api_key) if self.api_key else None
        return f"AICredentialsInput(provider={self.provider.value}, api_key={key!r})"


@strawberry.input
class WebhookCredentialsInput:
    url: str
    signing_secret: str | None = None

    def __repr__(self) -> str:
        secret = "***" if self.signing_secret else None
        return f"WebhookCredentialsInput(signing_secret={secret!r})"


@strawberry.input(one_of=True, description="Exactly one member, matching the gateway's type.")
class GatewayCredentialsInput:
    telegram_bot: TelegramBotCredentialsInput | None = strawberry.UNSET
    ai: AICredentialsInput | None = strawberry.UNSET
    webhook: WebhookCredentialsInput | None = strawberry.UNSET

    def to_service(self) -> inputs.CredentialsInput:
        telegram = self.telegram_bot
        ai = self.ai
        webhook = self.webhook
        return inputs.CredentialsInput(
            telegram_bot=TelegramBotCredentials(bot_token=telegram.bot_token) if telegram else None,
            ai=AICredentials(
                provider=ai.provider, api_key=ai.api_key, base_url=ai.base_url, model=ai.model
            )
            if ai
            else None,
            webhook=WebhookCredentials(url=webhook.url, signing_secret=webhook.signing_secret)
            if webhook
            else None,
        )


@strawberry.input
class CreateGatewayInput:
    name: str
    type: GatewayType
    credentials: GatewayCredentialsInput
    config: JSON | None = None

    def to_service(self) -> inputs.CreateGatewayInput:
        return inputs.CreateGatewayInput(
            name=self.name,
            type=self.type,
            credentials=self.credentials.to_service(),
            config=self.config,
        )


@strawberry.input(
    description="Absent fields stay as they are: renaming never requires re-entering credentials."
)
class UpdateGatewayInput:
    name: str | None = None
    credentials: GatewayCredentialsInput | None = None
    config: JSON | None = None

    def to_service(self) -> inputs.UpdateGatewayInput:
        return inputs.UpdateGatewayInput(
            name=self.name,
            credentials=self.credentials.to_service() if self.credentials else None,
            config=self.config,
        )
