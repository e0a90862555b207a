"""Shared fixtures: migrated databases, the app under test, fake upstreams."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app.core.clock import Clock
from tests.services import require_postgres
from tests.support import databases
from tests.support.harness import Harness, make_settings, running_app
from tests.support.upstreams import FakeUpstreams


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return databases.build_sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    server = require_postgres()
    url = asyncio.run(databases.create_postgres_database(server))
    yield url
    asyncio.run(databases.drop_postgres_database(server, url))


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def any_database_url(
    request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path
) -> Iterator[str]:
    """A clean, migrated database: the test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield databases.fresh_sqlite(sqlite_template, tmp_path)
        return
    url: str = request.getfixturevalue("postgres_database")
    asyncio.run(databases.truncate_postgres(url))
    yield url


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A clean, migrated SQLite database (tests that need not run on both engines)."""
    return databases.fresh_sqlite(sqlite_template, tmp_path)


@pytest.fixture
def upstreams() -> FakeUpstreams:
    return FakeUpstreams()


@pytest.fixture
def clock() -> Clock | None:
    """Override in a test module to drive time; None = the system clock."""
    return None


@pytest.fixture
async def harness(
    database_url: str, tmp_path: Path, upstreams: FakeUpstreams, clock: Clock | None
) -> AsyncIterator[Harness]:
    settings = make_settings(database_url, str(tmp_path))
    async with running_app(
        settings, clock=clock, upstream_transport=upstreams.transport()
    ) as harness:
        yield harness


@pytest.fixture
async def any_harness(
    any_database_url: str, tmp_path: Path, upstreams: FakeUpstreams, clock: Clock | None
) -> AsyncIterator[Harness]:
    """Like `harness`, once on SQLite and once on PostgreSQL."""
    settings = make_settings(any_database_url, str(tmp_path))
    async with running_app(
        settings, clock=clock, upstream_transport=upstreams.transport()
    ) as harness:
        yield harness
