"""Applying and inspecting the migration chain from the server and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tortoise import Tortoise
from tortoise.connection import get_connection
from tortoise.migrations.api import migrate as migrate_api
from tortoise.migrations.executor import MigrationExecutor

from app.db import tortoise_config


async def apply_migrations(
    database_url: str, progress: Callable[[str, str, str], object] | None = None
) -> None:
    """Bring the database to the latest migration (idempotent), then close the connections."""
    try:
        await migrate_api(config=tortoise_config(database_url), progress=progress)
    finally:
        await Tortoise.close_connections()


async def pending_migrations() -> list[str]:
    """Names of migrations not yet applied, on the already-initialised default connection."""
    apps: dict[str, Any] = tortoise_config("sqlite://:memory:")["apps"]
    executor = MigrationExecutor(get_connection("default"), apps)
    steps = await executor.plan()
    return [f"{s.migration.app_label}.{s.migration.name}" for s in steps if not s.backward]
