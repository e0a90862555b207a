"""Data each scenario needs, written through the app's own services inside the server process
(right after its lifespan started, before it serves), then handed to the runner as JSON."""

from __future__ import annotations

import secrets
from typing import Any, Literal

from app.container import Services
from app.gateways.credentials import TelegramBotCredentials
from app.gateways.enums import GatewayStatus, GatewayType
from app.gateways.inputs import CreateGatewayInput, CredentialsInput
from app.gateways.lifecycle import hash_webhook_secret
from app.gateways.models import Gateway
from app.organizations.service import create_organization
from app.service_context import ServiceContext

Scenario = Literal["gateways", "webhook", "fanout"]

EMAIL = "bench@example.test"
PASSWORD = "correct horse battery staple"  # noqa: S105 - a throwaway benchmark account


def _telegram_input(index: int) -> CreateGatewayInput:
    token = f"{700000000 + index}:{secrets.token_urlsafe(27)}"
    return CreateGatewayInput(
        name=f"bench gateway {index:03d}",
        type=GatewayType.TELEGRAM_BOT,
        credentials=CredentialsInput(telegram_bot=TelegramBotCredentials(bot_token=token)),
    )


async def seed(services: Services, scenario: Scenario, gateway_count: int) -> dict[str, Any]:
    """Create one user (and an organization unless the scenario is personal); returns what the
    load generator and the clients need: token, organization id, gateway ids, webhook secret."""
    issued = await services.auth.register(EMAIL, PASSWORD, "Bench User")
    personal = ServiceContext(user_id=issued.user.id)
    data: dict[str, Any] = {"token": issued.token, "organization_id": None}
    ctx = personal
    if scenario != "webhook":
        org = await create_organization(personal, "Bench Org", "bench-org")
        ctx = ServiceContext(user_id=issued.user.id, organization_id=org.id)
        data["organization_id"] = str(org.id)
    gateways = [
        await services.gateways.create(ctx, _telegram_input(i)) for i in range(gateway_count)
    ]
    data["gateway_ids"] = [str(g.id) for g in gateways]
    if scenario == "webhook":
        # What a successful connect leaves behind: CONNECTED, with a webhook secret set.
        secret = secrets.token_urlsafe(32)
        target = gateways[0]
        await Gateway.filter(id=target.id).update(webhook_secret_hash=hash_webhook_secret(secret))
        await services.gateways.status.change(target.id, GatewayStatus.CONNECTED, cause="bench")
        services.webhook_directory.invalidate(target.id)
        data["webhook_secret"] = secret
    return data
