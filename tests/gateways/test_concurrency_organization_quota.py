"""The gateway quota of an organization holds under concurrent creates by several members.

Runs on PostgreSQL: SQLite serialises writers and would hide the race. The creates come from
more members than the limit, so only the lock on the organization's row can serialise the
count-then-insert (a lock on the creating user's row would let each member's first create pass
at once). A mutation run showed the personal-scope test alone leaves that lock unguarded.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.gateways.models import Gateway
from tests.support import databases
from tests.support.harness import make_settings, running_app
from tests.support.upstreams import FakeUpstreams

pytestmark = pytest.mark.postgres

TOKEN = "123456789:" + "A" * 35
CREATE = """mutation($input: CreateGatewayInput!) { createGateway(input: $input) {
  __typename ... on Gateway { id } ... on QuotaExceededError { limit } } }"""
LIMIT = 2
PER_MEMBER = 4


async def test_organization_quota_holds_under_concurrent_creates_by_several_members(
    postgres_database: str, tmp_path: Path, upstreams: FakeUpstreams
) -> None:
    await databases.truncate_postgres(postgres_database)
    settings = make_settings(postgres_database, str(tmp_path), max_gateways_per_tenant=LIMIT)
    async with running_app(settings, upstream_transport=upstreams.transport()) as h:
        owner = await h.register("owner@example.com")
        members = [owner]
        org = await h.create_org(owner, "Acme")
        for email in ("admin1@example.com", "admin2@example.com"):
            members.append(await h.register(email))
            added = await h.add_member(owner, org, email, "ADMIN")
            assert added == {"__typename": "Membership"}
        assert len(members) > LIMIT
        data = {
            "name": "q",
            "type": "TELEGRAM_BOT",
            "credentials": {"telegramBot": {"botToken": TOKEN}},
        }

        for round_ in range(3):
            await Gateway.all().delete()
            results = await asyncio.gather(
                *(
                    h.gql(CREATE, {"input": data}, token=token, org=org)
                    for _ in range(PER_MEMBER)
                    for token in members
                )
            )
            kinds = sorted(r["createGateway"]["__typename"] for r in results)
            assert await Gateway.filter(organization_id=org).count() == LIMIT, round_
            assert kinds == ["Gateway"] * LIMIT + ["QuotaExceededError"] * (
                len(members) * PER_MEMBER - LIMIT
            )
