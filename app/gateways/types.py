"""GraphQL types of gateways: the gateway itself, its masked credentials, circuit and page."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from app.audit import service as audit_service
from app.audit.types import AuditEvent
from app.auth.types import User
from app.core.circuit_breaker import CircuitStats as BreakerStats
from app.gateways.credentials import (
    AICredentials,
    Credentials,
    TelegramBotCredentials,
    WebhookCredentials,
)
from app.gateways.models import Gateway as GatewayRow
from app.graphql.context import Info
from app.graphql.permissions import require_scope
from app.graphql.scalars import AIProvider, CircuitState, GatewayStatus, GatewayType
from app.organizations.types import Organization
from app.providers.base import ActionSpec


@strawberry.type(description="Masked view of Telegram bot credentials: never the token itself.")
class TelegramBotCredentialInfo:
    bot_token_hint: str = strawberry.field(
        description='Bot id and the last 4 characters, e.g. "123456789:…x9Qa".'
    )
    bot_username: str | None


@strawberry.type(description="Masked view of AI credentials: never the key itself.")
class AICredentialInfo:
    provider: AIProvider
    api_key_hint: str | None = strawberry.field(
        description='Last 4 characters, e.g. "…9f3A"; null when the provider needs no key '
        "(local Ollama)."
    )
    base_url: str | None
    model: str | None


@strawberry.type
class WebhookCredentialInfo:
    url: str
    has_signing_secret: bool


@strawberry.type(
    description="The stored credentials cannot be decrypted with any configured key: the gateway "
    "needs new credentials."
)
class UndecryptableCredentialInfo:
    message: str


CredentialInfo = Annotated[
    TelegramBotCredentialInfo
    | AICredentialInfo
    | WebhookCredentialInfo
    | UndecryptableCredentialInfo,
    strawberry.union("CredentialInfo"),
]


@strawberry.type
class GatewayAction:
    name: str
    description: str

    @classmethod
    def from_spec(cls, spec: ActionSpec) -> GatewayAction:
        return cls(name=spec.name, description=spec.description)


@strawberry.type
class CircuitStats:
    state: CircuitState
    failures: int = strawberry.field(description="Failures inside the current window.")
    successes: int
    last_failure_at: datetime | None
    last_state_change_at: datetime | None
    retry_after_seconds: float | None = strawberry.field(
        description="Seconds until an OPEN circuit lets a probe through; null unless OPEN."
    )

    @classmethod
    def from_stats(cls, stats: BreakerStats | None) -> CircuitStats:
        if stats is None:  # no call made yet in this process: a fresh, closed circuit
            return cls(
                state=CircuitState.CLOSED,
                failures=0,
                successes=0,
                last_failure_at=None,
                last_state_change_at=None,
                retry_after_seconds=None,
            )
        return cls(
            state=stats.state,
            failures=stats.failures,
            successes=stats.successes,
            last_failure_at=stats.last_failure_at,
            last_state_change_at=stats.last_state_change_at,
            retry_after_seconds=stats.retry_after_seconds,
        )


@strawberry.type
class Gateway:
    id: strawberry.ID
    name: str
    type: GatewayType
    status: GatewayStatus
    config: JSON = strawberry.field(description="Non-secret configuration.")
    last_connected_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    # Plain values, filled by `app.gateways.nodes` for what the query selects: a field with a
    # resolver costs strawberry an Info object and argument handling per item, which on a page
    # of 50 was a third of the request (bench/ gateways). Unselected ones hold UNSELECTED.
    owner: User
    organization: Organization | None
    credential_info: CredentialInfo
    circuit: CircuitStats
    row: strawberry.Private[GatewayRow]
    revealed_signing_secret: str | None = strawberry.field(
        default=None,
        description="A webhook gateway's generated Standard Webhooks signing secret "
        "(whsec_...). Present only in the response of the mutation that generated it "
        "(createGateway or updateGateway without a signingSecret, "
        "rotateWebhookSigningSecret); null everywhere else, including every later read. "
        "Store it when you see it: it is never shown again.",
    )

    @strawberry.field
    def supported_actions(self, info: Info) -> list[GatewayAction]:
        provider = info.context.services.providers.get(self.row.type)
        return [GatewayAction.from_spec(a) for a in provider.actions]

    @strawberry.field
    async def audit_events(self, info: Info, first: int = 20) -> list[AuditEvent]:
        rows = await audit_service.list_events(
            require_scope(info), gateway_id=UUID(self.id), first=first
        )
        return [AuditEvent.from_row(r) for r in rows]


def credential_info_of(row: GatewayRow, credentials: Credentials | None) -> CredentialInfo:
    """The masked view of a gateway's credentials (None = no configured key decrypts them)."""
    match credentials:
        case TelegramBotCredentials():
            username = row.config.get("botUsername")
            return TelegramBotCredentialInfo(
                bot_token_hint=credentials.hint(),
                bot_username=username if isinstance(username, str) else None,
            )
        case AICredentials():
            return AICredentialInfo(
                provider=credentials.provider,
                api_key_hint=credentials.hint(),
                base_url=credentials.base_url,
                model=credentials.model,
            )
        case WebhookCredentials():
            return WebhookCredentialInfo(
                url=credentials.url, has_signing_secret=credentials.signing_secret is not None
            )
    return UndecryptableCredentialInfo(
        message="The stored credentials cannot be decrypted; enter new credentials."
    )


@strawberry.type
class GatewayPage:
    items: list[Gateway]
    total: int
    page: int
    page_size: int

    @strawberry.field
    def total_pages(self) -> int:
        return (self.total + self.page_size - 1) // self.page_size

    @strawberry.field
    def has_next_page(self) -> bool:
        return self.page * self.page_size < self.total

    @strawberry.field
    def has_previous_page(self) -> bool:
        return self.page > 1


@strawberry.type
class DeletedGateway:
    id: strawberry.ID


@strawberry.type
class ProviderInfo:
    type: GatewayType
    name: str
    description: str
    actions: list[GatewayAction]
    ai_providers: list[AIProvider] = strawberry.field(
        description="For type AI: the providers it can talk to; empty otherwise."
    )
