"""The one migration chain (Tortoise's built-in migrations) for SQLite and PostgreSQL.

- it applies to an empty SQLite and an empty PostgreSQL database, and re-applying is a no-op;
- `tortoise makemigrations` finds nothing left to generate (the models and the chain agree);
- upgrading a SQLite database that already has rows, from the first migration to the latest,
  keeps the rows and the indexes, and the app serves the upgraded rows.

Written against whatever migrations exist: nothing here names a migration after 0001_initial.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.migrations.api import migrate

from app.db import tortoise_config
from app.migrate import apply_migrations
from tests.services import require_postgres
from tests.support import databases
from tests.support.harness import make_settings, running_app

REPO = Path(__file__).resolve().parents[1]
MIGRATIONS = REPO / "migrations"
FIRST = "0001_initial"
# The indexes the data model promises (issue: "indexes on owner, organization, type, status").
GATEWAY_INDEXED_COLUMNS = {"owner_id", "organization_id", "type", "status"}


def asyncpg_dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def chain() -> list[str]:
    return sorted(path.stem for path in MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))


@contextmanager
def sqlite(url: str) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(url.removeprefix("sqlite://"))) as conn:
        yield conn
        conn.commit()


def sqlite_tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {name for (name,) in rows}


def sqlite_applied(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name FROM tortoise_migrations WHERE app = 'app' ORDER BY name")
    return [name for (name,) in rows]


def sqlite_indexes(conn: sqlite3.Connection) -> set[tuple[str, bool, tuple[str | None, ...]]]:
    """(table, unique, columns) of every index, so a renamed but equivalent index still counts.

    A column is None when the index is on an expression. SQLite reads a double-quoted name that
    matches no column as a string literal, so an index on a misspelt column ("gateway" for
    "gateway_id") is silently created on a constant here, where PostgreSQL refuses it.
    """
    found = set()
    for table in sqlite_tables(conn) - {"sqlite_sequence"}:
        for _, name, unique, *_ in conn.execute(f'PRAGMA index_list("{table}")'):
            columns = tuple(row[2] for row in conn.execute(f'PRAGMA index_info("{name}")'))
            found.add((table, bool(unique), columns))
    return found


# ---------------------------------------------------------------- empty databases


async def test_chain_applies_to_an_empty_sqlite_database(tmp_path: Path) -> None:
    url = databases.sqlite_url(tmp_path / "empty.sqlite3")
    EXECUTOR_CACHE.clear()

    await apply_migrations(url)
    await apply_migrations(url)  # idempotent: a second deploy step changes nothing

    with sqlite(url) as conn:
        assert sqlite_tables(conn) >= set(databases.APP_TABLES)
        assert sqlite_applied(conn) == chain()
        indexes = sqlite_indexes(conn)
    assert {cols[0] for table, _, cols in indexes if table == "gateways"} >= GATEWAY_INDEXED_COLUMNS
    on_expressions = sorted((table, cols) for table, _, cols in indexes if None in cols)
    assert on_expressions == [], "an index names a column that does not exist"


@pytest.mark.postgres
async def test_chain_applies_to_an_empty_postgres_database() -> None:
    server = require_postgres()
    name = f"gwtest_{secrets.token_hex(6)}"
    url = urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    admin = await asyncpg.connect(asyncpg_dsn(server))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    EXECUTOR_CACHE.clear()
    try:
        await apply_migrations(url)
        await apply_migrations(url)  # idempotent
        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            applied = await conn.fetch(
                "SELECT name FROM tortoise_migrations WHERE app = 'app' ORDER BY name"
            )
            gateway_indexes = await conn.fetch(
                "SELECT indexdef FROM pg_indexes WHERE tablename = 'gateways'"
            )
        finally:
            await conn.close()
    finally:
        EXECUTOR_CACHE.clear()
        # Dropped even when a migration failed half-way: no stray databases on the server.
        await databases.drop_postgres_database(server, url)

    assert {r["tablename"] for r in tables} >= set(databases.APP_TABLES)
    assert [r["name"] for r in applied] == chain()
    leading = {
        m.group(1) for r in gateway_indexes if (m := re.search(r"\(\"?(\w+)", r["indexdef"]))
    }
    assert leading >= GATEWAY_INDEXED_COLUMNS


# ---------------------------------------------------------------- models and chain agree


def test_makemigrations_finds_nothing_to_generate(database_url: str) -> None:
    tortoise_cli = Path(sys.executable).parent / "tortoise"
    assert tortoise_cli.exists(), f"{tortoise_cli} missing: install the dev dependencies"
    before = set(MIGRATIONS.iterdir())

    result = subprocess.run(  # noqa: S603 - a fixed command, no shell
        [str(tortoise_cli), "makemigrations"],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    created = [
        path
        for path in set(MIGRATIONS.iterdir()) - before
        if path.suffix == ".py" and path.stem in result.stdout
    ]
    for path in created:  # never leave a generated file behind in the working tree
        path.unlink()
    assert result.returncode == 0, result.stderr
    assert created == [], f"models and migrations disagree; generated:\n{result.stdout}"
    assert "No changes detected" in result.stdout


# ---------------------------------------------------------------- upgrading a used database

TOKEN = "gw_upgrade-test-token-0123456789abcdefghijklmno"
USER_ID = "01900000-0000-7000-8000-000000000001"
ORG_ID = "01900000-0000-7000-8000-000000000002"
PERSONAL_ID = "01900000-0000-7000-8000-000000000003"
ORG_GATEWAY_ID = "01900000-0000-7000-8000-000000000004"
T0 = "2025-01-02 03:04:05.000006+00:00"
FAR = "2999-01-01 00:00:00+00:00"

# Written in the shape of 0001_initial, the way a server of that version would have stored them.
ROWS: dict[str, list[dict[str, object]]] = {
    "users": [
        {
            "id": USER_ID,
            "email": "old@example.test",
            "name": "Old Timer",
            "password_hash": "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA",
            "created_at": T0,
            "updated_at": T0,
        }
    ],
    "organizations": [{"id": ORG_ID, "name": "Legacy", "slug": "legacy", "created_at": T0}],
    "memberships": [
        {
            "id": "01900000-0000-7000-8000-000000000005",
            "role": "OWNER",
            "created_at": T0,
            "organization_id": ORG_ID,
            "user_id": USER_ID,
        }
    ],
    "auth_tokens": [
        {
            "id": "01900000-0000-7000-8000-000000000006",
            "token_hash": hashlib.sha256(TOKEN.encode()).hexdigest(),
            "created_at": T0,
            "expires_at": FAR,
            "revoked_at": None,
            "last_used_at": None,
            "user_id": USER_ID,
        }
    ],
    "gateways": [
        {
            "id": PERSONAL_ID,
            "name": "Old hook",
            "type": "WEBHOOK",
            "status": "ERROR",
            # Sealed by a key this server no longer has: it must still list, as undecryptable.
            "credentials_ciphertext": b"\x01\x06retiredopaque-bytes",
            "credentials_key_id": "retired",
            "config": '{"retries":3}',
            "webhook_secret_hash": None,
            "last_connected_at": None,
            "last_error_at": T0,
            "last_error": "target answered 500",
            "created_at": T0,
            "updated_at": T0,
            "organization_id": None,
            "owner_id": USER_ID,
        },
        {
            "id": ORG_GATEWAY_ID,
            "name": "Team bot",
            "type": "TELEGRAM_BOT",
            "status": "DISCONNECTED",
            "credentials_ciphertext": b"\x01\x06retiredmore-bytes",
            "credentials_key_id": "retired",
            "config": "{}",
            "webhook_secret_hash": None,
            "last_connected_at": None,
            "last_error_at": None,
            "last_error": None,
            "created_at": T0,
            "updated_at": T0,
            "organization_id": ORG_ID,
            "owner_id": USER_ID,
        },
    ],
    "audit_events": [
        {
            "id": "01900000-0000-7000-8000-000000000007",
            "organization_id": None,
            "scope_user_id": USER_ID,
            "gateway_id": PERSONAL_ID,
            "action": "gateway.create",
            "metadata": '{"type":"WEBHOOK","name":"Old hook"}',
            "ip_address": "198.51.100.1",
            "user_agent": "legacy",
            "request_id": "r1",
            "created_at": T0,
            "actor_id": USER_ID,
        }
    ],
}


def insert_rows(conn: sqlite3.Connection) -> None:
    for table, rows in ROWS.items():
        for row in rows:
            columns = ", ".join(f'"{c}"' for c in row)
            marks = ", ".join("?" for _ in row)
            conn.execute(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', tuple(row.values()))  # noqa: S608


def stored_rows(conn: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    """The rows of ROWS' tables, read back through the columns that 0001 had."""
    stored = {}
    for table, rows in ROWS.items():
        columns = ", ".join(f'"{c}"' for c in rows[0])
        stored[table] = conn.execute(f'SELECT {columns} FROM "{table}" ORDER BY id').fetchall()  # noqa: S608
    return stored


async def test_upgrade_from_the_first_migration_keeps_rows_and_indexes(tmp_path: Path) -> None:
    url = databases.sqlite_url(tmp_path / "old.sqlite3")
    EXECUTOR_CACHE.clear()
    try:
        await migrate(config=tortoise_config(url), target=f"app.{FIRST}")
    finally:
        await Tortoise.close_connections()
    with sqlite(url) as conn:
        assert sqlite_applied(conn) == [FIRST]
        insert_rows(conn)
    with sqlite(url) as conn:
        rows_before = stored_rows(conn)
        indexes_before = sqlite_indexes(conn)
    assert all(len(rows_before[t]) == len(ROWS[t]) for t in ROWS)

    await apply_migrations(url)

    with sqlite(url) as conn:
        assert sqlite_applied(conn) == chain()
        assert stored_rows(conn) == rows_before
        indexes_after = sqlite_indexes(conn)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert indexes_before <= indexes_after, f"lost: {sorted(indexes_before - indexes_after)}"

    # The upgraded rows are served by the current code, scoped as before.
    settings = make_settings(url, str(tmp_path))
    async with running_app(settings) as harness:
        query = """{ gateways { total items { id name status lastError config
                     credentialInfo { __typename } owner { email } } } }"""
        personal = await harness.gql(query, token=TOKEN)
        in_org = await harness.gql(query, token=TOKEN, org=ORG_ID)
        ready = await harness.client.get("/readyz")

    assert personal["gateways"]["total"] == 1
    assert personal["gateways"]["items"] == [
        {
            "id": PERSONAL_ID,
            "name": "Old hook",
            "status": "ERROR",
            "lastError": "target answered 500",
            "config": {"retries": 3},
            "credentialInfo": {"__typename": "UndecryptableCredentialInfo"},
            "owner": {"email": "old@example.test"},
        }
    ]
    assert [g["id"] for g in in_org["gateways"]["items"]] == [ORG_GATEWAY_ID]
    assert ready.status_code == 200
