"""Nested owner / organization fields go through per-request DataLoaders: a constant number of
SQL statements, whatever the page size."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from app.auth.models import User
from app.gateways.credentials import TelegramBotCredentials
from app.gateways.enums import GatewayType
from app.gateways.inputs import CreateGatewayInput, CredentialsInput
from app.organizations.models import OrganizationRole
from app.service_context import ServiceContext
from tests.support.harness import Harness

PAGE = """query($n: Int!) { gateways(pageSize: $n) { total items {
  owner { id email } organization { id name } credentialInfo { __typename } } } }"""


class StatementLog(logging.Handler):
    """Collects every statement Tortoise sends (it logs each one at DEBUG before running it)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "%s: %s" and isinstance(record.args, tuple):
            self.statements.append(str(record.args[0]))


@contextmanager
def statements() -> Iterator[list[str]]:
    logger = logging.getLogger("tortoise.db_client")
    handler = StatementLog()
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield handler.statements
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def fill_organization(h: Harness) -> tuple[str, str, dict[str, str]]:
    """An organization with 60 gateways owned by three different people; (token, org, owners)."""
    emails = ["owner@example.com", "admin1@example.com", "admin2@example.com"]
    token = await h.register(emails[0])
    for email in emails[1:]:
        await h.register(email)
    org = await h.create_org(token, "Loaded Org", "loaded")
    for email in emails[1:]:
        await h.add_member(token, org, email, "ADMIN")
    users = {u.email: u for u in await User.filter(email__in=emails)}
    service = h.services.gateways
    for i in range(60):
        owner = users[emails[i % 3]]
        ctx = ServiceContext(
            user_id=owner.id, organization_id=UUID(org), role=OrganizationRole.ADMIN
        )
        creds = TelegramBotCredentials(bot_token=f"{100000 + i}:" + "S" * 35)
        await service.create(
            ctx,
            CreateGatewayInput(
                name=f"gw {i}",
                type=GatewayType.TELEGRAM_BOT,
                credentials=CredentialsInput(telegram_bot=creds),
            ),
        )
    return token, org, {str(u.id): u.email for u in users.values()}


async def count_page(h: Harness, token: str, org: str, n: int) -> tuple[list[str], Any]:
    with statements() as seen:
        data = await h.gql(PAGE, {"n": n}, token=token, org=org)
    return list(seen), data["gateways"]


async def test_statement_count_does_not_grow_with_page_size(any_harness: Harness) -> None:
    token, org, owners = await fill_organization(any_harness)
    # Warm up: the first authenticated request also stamps the token's last use.
    await any_harness.gql(PAGE, {"n": 1}, token=token, org=org)

    small, small_page = await count_page(any_harness, token, org, 5)
    large, large_page = await count_page(any_harness, token, org, 50)
    small_again, _ = await count_page(any_harness, token, org, 5)

    assert len(small_page["items"]) == 5
    assert len(large_page["items"]) == 50
    assert large_page["total"] == 60
    for item in large_page["items"]:
        assert owners[item["owner"]["id"]] == item["owner"]["email"]
        assert item["organization"] == {"id": org, "name": "Loaded Org"}
        assert item["credentialInfo"]["__typename"] == "TelegramBotCredentialInfo"
    assert {i["owner"]["email"] for i in large_page["items"]} == set(owners.values())

    assert len(large) == len(small) == len(small_again), "\n".join(["5:", *small, "50:", *large])
    # token, scope role, COUNT, page, the caller's organizations, owners, organizations.
    assert len(large) == 7, "\n".join(large)
    gateways = [s for s in large if 'FROM "gateways"' in s]
    assert len(gateways) == 2, gateways  # COUNT and the page, nothing per item
    users = [s for s in large if 'FROM "users"' in s]
    assert len(users) == 1, users  # one batched owner load (the token's user is a join)
    memberships = [s for s in large if 'FROM "memberships"' in s]
    # The scope check and the caller's organization ids, the latter shared by both loaders.
    assert len(memberships) == 2, memberships


async def test_personal_scope_statement_count_is_constant(any_harness: Harness) -> None:
    token = await any_harness.register("solo@example.com")
    [user] = await User.filter(email="solo@example.com")
    ctx = ServiceContext(user_id=user.id)
    for i in range(30):
        creds = TelegramBotCredentials(bot_token=f"{200000 + i}:" + "P" * 35)
        await any_harness.services.gateways.create(
            ctx,
            CreateGatewayInput(
                name=f"p {i}",
                type=GatewayType.TELEGRAM_BOT,
                credentials=CredentialsInput(telegram_bot=creds),
            ),
        )
    query = """query($n: Int!) { gateways(pageSize: $n) { items {
      owner { email } organization { id } } } }"""
    await any_harness.gql(query, {"n": 1}, token=token)
    with statements() as two:
        small = await any_harness.gql(query, {"n": 2}, token=token)
    with statements() as thirty:
        large = await any_harness.gql(query, {"n": 30}, token=token)
    assert len(small["gateways"]["items"]) == 2
    assert len(large["gateways"]["items"]) == 30
    assert all(i["organization"] is None for i in large["gateways"]["items"])
    assert len(two) == len(thirty), "\n".join(["2:", *two, "30:", *thirty])
