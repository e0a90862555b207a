"""Operator bootstrapping without the API: accounts, organizations and development demo data.

Everything goes through the same services as the API (validation, password hashing, encrypted
credentials, audit events), so a row made here is indistinguishable from one made by a client.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field

from app.auth.models import User
from app.container import Services
from app.gateways.credentials import AICredentials, TelegramBotCredentials, WebhookCredentials
from app.gateways.enums import AIProvider, GatewayType
from app.gateways.inputs import CreateGatewayInput, CredentialsInput
from app.organizations.models import Organization
from app.organizations.service import create_organization
from app.service_context import ServiceContext

log = logging.getLogger("app.seed")

DEMO_EMAIL = "demo@example.com"
DEMO_NAME = "Demo User"
DEMO_ORGANIZATION = ("Demo Organization", "demo")


class DemoExistsError(Exception):
    """The demo account is already there: the demo data was made before."""


def generate_password() -> str:
    # 24 url-safe characters (~143 bits): well inside the 10..256 character rule.
    return secrets.token_urlsafe(18)


async def ensure_user(
    services: Services, email: str, name: str, password: str | None
) -> tuple[User, bool]:
    """The user with `email`, created with `password` if absent; -> (user, created).

    `password` None means "must exist already" (ConflictError-free lookup for `--organization`).
    """
    existing = await User.get_or_none(email=email.strip().lower())
    if existing is not None:
        return existing, False
    if password is None:
        raise LookupError(f"no user with the email {email.strip().lower()!r}")
    user = await services.auth.create_user(email, password, name)
    log.info("seed.user.created", extra={"user_id": str(user.id)})
    return user, True


async def make_owner(user: User, name: str, slug: str | None) -> Organization:
    """A new organization with `user` as its OWNER (the organizations service's rules)."""
    return await create_organization(ServiceContext(user_id=user.id), name, slug)


def _telegram(name: str, bot_id: int) -> CreateGatewayInput:
    # Well-formed but made up: Telegram would refuse it, and demo never asks Telegram.
    token = f"{bot_id}:" + secrets.token_urlsafe(26)[:35]
    credentials = CredentialsInput(telegram_bot=TelegramBotCredentials(bot_token=token))
    return CreateGatewayInput(name=name, type=GatewayType.TELEGRAM_BOT, credentials=credentials)


def _ai(name: str, provider: AIProvider, **options: str) -> CreateGatewayInput:
    api_key = None if provider is AIProvider.OLLAMA else "demo-" + secrets.token_hex(16)
    credentials = CredentialsInput(ai=AICredentials(provider=provider, api_key=api_key, **options))
    return CreateGatewayInput(name=name, type=GatewayType.AI, credentials=credentials)


def _webhook(name: str, path: str) -> CreateGatewayInput:
    # `.invalid` names never resolve (RFC 2606): a test of this gateway fails, it never reaches
    # anyone.
    # No signing secret: the service generates one in the Standard Webhooks format.
    hook = WebhookCredentials(url=f"https://hooks.example.invalid/{path}")
    credentials = CredentialsInput(webhook=hook)
    return CreateGatewayInput(name=name, type=GatewayType.WEBHOOK, credentials=credentials)


def demo_gateways() -> tuple[list[CreateGatewayInput], list[CreateGatewayInput]]:
    """(personal, organization) gateways: a few of each type, all DISCONNECTED."""
    personal = [
        _telegram("Support bot", 100000001),
        _ai("Personal assistant", AIProvider.OPENAI, model="gpt-4o-mini"),
        _webhook("Personal notifications", "personal"),
    ]
    organization = [
        _telegram("Team alerts bot", 100000002),
        _telegram("Sales bot", 100000003),
        _ai("Team Claude", AIProvider.ANTHROPIC),
        _ai("Local Llama", AIProvider.OLLAMA, base_url="http://127.0.0.1:11434", model="llama3"),
        _webhook("Orders webhook", "orders"),
        _webhook("CRM sync", "crm"),
    ]
    return personal, organization


@dataclass
class DemoData:
    email: str
    password: str
    organization: Organization
    gateways: dict[GatewayType, int] = field(default_factory=dict)


async def seed_demo(services: Services, password: str | None = None) -> DemoData:
    """The demo account (password generated unless given), its organization and gateways.

    Refuses (DemoExistsError) when the demo account exists, instead of adding a second set; no
    upstream is called: gateways are created, not connected.
    """
    if await User.filter(email=DEMO_EMAIL).exists():
        raise DemoExistsError(DEMO_EMAIL)
    password = password or generate_password()
    user = await services.auth.create_user(DEMO_EMAIL, password, DEMO_NAME)
    organization = await make_owner(user, *DEMO_ORGANIZATION)
    personal, shared = demo_gateways()
    counts: dict[GatewayType, int] = {}
    for scope, inputs in (
        (ServiceContext(user_id=user.id), personal),
        (ServiceContext(user_id=user.id, organization_id=organization.id), shared),
    ):
        for data in inputs:
            await services.gateways.create(scope, data)
            counts[data.type] = counts.get(data.type, 0) + 1
    log.info("seed.demo.created", extra={"user_id": str(user.id)})
    return DemoData(DEMO_EMAIL, password, organization, counts)
