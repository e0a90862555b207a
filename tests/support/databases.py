"""Migrated test databases: one per session and engine, reset cheaply between tests.

SQLite: the chain is applied once to a template file that each test copies.
PostgreSQL: the chain is applied once to a fresh database; tests truncate every table.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from app.migrate import apply_migrations

APP_TABLES = (
    "telegram_updates",
    "audit_events",
    "auth_tokens",
    "login_failures",
    "memberships",
    "gateways",
    "organizations",
    "users",
)


def sqlite_url(path: Path) -> str:
    return f"sqlite://{path}"


def build_sqlite_template(directory: Path) -> Path:
    template = directory / "template.sqlite3"
    asyncio.run(apply_migrations(sqlite_url(template)))
    return template


def fresh_sqlite(template: Path, directory: Path) -> str:
    target = directory / "db.sqlite3"
    shutil.copyfile(template, target)
    return sqlite_url(target)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _asyncpg_dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


async def create_postgres_database(server_url: str) -> str:
    """A new, migrated database on the server of `server_url`; returns its URL."""
    name = f"gwtest_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(_asyncpg_dsn(server_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = _with_database(server_url, name)
    try:
        await apply_migrations(url)
    except BaseException:
        await drop_postgres_database(server_url, url)
        raise
    return url


async def drop_postgres_database(server_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    conn = await asyncpg.connect(_asyncpg_dsn(server_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def truncate_postgres(url: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await conn.execute(f"TRUNCATE {', '.join(APP_TABLES)} CASCADE")
    finally:
        await conn.close()
