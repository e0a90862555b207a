"""Liveness (`/healthz`) and readiness (`/readyz`: database reachable, migrations applied)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tortoise.connection import get_connection

from tests.support import databases
from tests.support.harness import Harness, make_settings, running_app

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def migration_names() -> list[str]:
    """Every migration of the chain, as the readiness probe names them (app.0001_initial, ...)."""
    return sorted(f"app.{path.stem}" for path in MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))


async def test_healthz_answers_ok(harness: Harness) -> None:
    response = await harness.client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_on_a_migrated_database(harness: Harness) -> None:
    first = await harness.client.get("/readyz")
    again = await harness.client.get("/readyz")

    assert first.status_code == 200
    assert first.json() == {"status": "ok", "database": "ok", "migrations": "applied"}
    assert again.status_code == 200


async def test_readyz_lists_pending_migrations_on_an_empty_database(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite3"
    settings = make_settings(databases.sqlite_url(empty), str(tmp_path))

    async with running_app(settings) as harness:
        ready = await harness.client.get("/readyz")
        alive = await harness.client.get("/healthz")

    assert ready.status_code == 503
    body = ready.json()
    assert (body["status"], body["database"]) == ("unavailable", "ok")
    assert body["pendingMigrations"] == migration_names()
    assert "app.0001_initial" in body["pendingMigrations"]
    assert alive.status_code == 200  # not ready, but alive: no restart loop


async def test_readyz_is_unavailable_when_the_database_is_unreachable(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def unreachable(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError("connection refused by 10.0.0.5:5432 password=hunter2")

    connection = get_connection("default")
    monkeypatch.setattr(connection, "execute_query", unreachable)

    response = await harness.client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}
    assert "hunter2" not in response.text
    assert any(r.getMessage() == "health.ready.database_failed" for r in caplog.records)
    assert "hunter2" not in caplog.text
    assert (await harness.client.get("/healthz")).status_code == 200
