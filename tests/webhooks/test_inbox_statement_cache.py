"""The inbox's cached INSERT statement: built once per database client, rebuilt for another one.

The cache is what keeps the webhook route fast (see `inbox._insert_statement`); reusing it for a
client of another engine would send SQLite's `?` placeholders to PostgreSQL. Found unasserted by
a mutation run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from uuid import UUID

import pytest

from app.core.clock import utcnow
from app.webhooks import inbox
from app.webhooks.inbox import parse_update, store_update
from app.webhooks.models import TelegramUpdate
from tests.support import databases
from tests.support.harness import make_settings, running_app
from tests.webhooks.test_routes import create_telegram


@asynccontextmanager
async def gateway_on(url: str, tmp_path: Path) -> AsyncIterator[UUID]:
    """A running app on `url` with one Telegram gateway; yields the gateway's id."""
    async with running_app(make_settings(url, str(tmp_path))) as h:
        token = await h.register("owner@example.com")
        yield UUID(await create_telegram(h, token))


async def store_and_read(gateway_id: UUID, update_id: int) -> list[int]:
    update = parse_update({"update_id": update_id, "message": {"text": "hi"}})
    await store_update(gateway_id, update, utcnow())
    return [u.update_id for u in await TelegramUpdate.filter(gateway_id=gateway_id)]


async def test_the_statement_is_built_once_per_client(database_url: str, tmp_path: Path) -> None:
    async with gateway_on(database_url, tmp_path):
        db = TelegramUpdate._meta.db
        first = inbox._insert_statement(db)
        second = inbox._insert_statement(db)

    assert first[0] is second[0]  # the same object: not rebuilt through the query builder
    assert first[1] is second[1]


async def test_a_process_without_a_cached_statement_builds_one(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox, "_insert_cache", None)
    async with gateway_on(database_url, tmp_path) as gateway_id:
        assert await store_and_read(gateway_id, 1) == [1]


@pytest.mark.postgres
async def test_switching_engines_rebuilds_the_statement(
    sqlite_template: Path, postgres_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite also accepts PostgreSQL's `$1` placeholders, so only a statement built for SQLite
    # (`?`) and then reused on PostgreSQL shows the mistake: start from an empty cache.
    monkeypatch.setattr(inbox, "_insert_cache", None)
    await databases.truncate_postgres(postgres_database)
    sqlite_dir, postgres_dir = tmp_path / "sqlite", tmp_path / "postgres"
    sqlite_dir.mkdir()
    postgres_dir.mkdir()
    async with gateway_on(databases.fresh_sqlite(sqlite_template, sqlite_dir), sqlite_dir) as gw:
        assert await store_and_read(gw, 1) == [1]
    async with gateway_on(postgres_database, postgres_dir) as gw:
        assert await store_and_read(gw, 2) == [2]
