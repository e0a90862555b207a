"""A fresh, migrated database for every run: a temporary SQLite file or a temporary PostgreSQL
database created on the server and dropped afterwards (also when the run fails).

Migrations run in a child process (`python -m bench.schema`), as the deploy step does, so this
process never holds Tortoise state for two engines at once.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]

Engine = Literal["sqlite", "postgres"]
SchemaSource = Literal["migrations", "models"]

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test"


class DatabaseUnavailableError(Exception):
    """The engine cannot be used for this run; the message says why (shown as SKIPPED)."""


def postgres_server_url() -> str:
    return (
        os.environ.get("BENCH_POSTGRES_URL")
        or os.environ.get("TEST_POSTGRES_URL")
        or DEFAULT_POSTGRES_URL
    )


def _asyncpg_dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def _admin(server_url: str, statement: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(server_url), timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def _create_schema(url: str, source: SchemaSource) -> None:
    command = [sys.executable, "-m", "bench.schema", url]
    if source == "models":
        command.append("--from-models")
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        reason = lines[-1] if lines else f"exit code {done.returncode}"
        hint = (
            " (--schema models builds it from the models instead)" if source == "migrations" else ""
        )
        raise DatabaseUnavailableError(f"building the schema from {source} failed: {reason}{hint}")


@contextmanager
def sqlite_database(workdir: Path, source: SchemaSource = "migrations") -> Iterator[str]:
    """A migrated SQLite file inside `workdir` (which the caller removes)."""
    url = f"sqlite://{workdir / 'bench.sqlite3'}"
    _create_schema(url, source)
    yield url


@contextmanager
def postgres_database(server_url: str, source: SchemaSource = "migrations") -> Iterator[str]:
    """A temporary, migrated database on the server of `server_url`, dropped on exit."""
    name = f"bench_{secrets.token_hex(6)}"
    try:
        asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        where = urlsplit(server_url).netloc
        raise DatabaseUnavailableError(
            f"PostgreSQL at {where} refused CREATE DATABASE ({type(exc).__name__}: {exc}); "
            "set BENCH_POSTGRES_URL"
        ) from None
    try:
        url = _with_database(server_url, name)
        _create_schema(url, source)
        yield url
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def database(engine: Engine, workdir: Path, source: SchemaSource = "migrations") -> Iterator[str]:
    if engine == "sqlite":
        with sqlite_database(workdir, source) as url:
            yield url
    else:
        with postgres_database(postgres_server_url(), source) as url:
            yield url
