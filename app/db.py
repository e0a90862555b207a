"""Tortoise configuration: one app label, one migration chain, for SQLite and PostgreSQL alike.

`TORTOISE_ORM` is what the `tortoise` CLI (`makemigrations`) reads via pyproject's
`[tool.tortoise]`; the server and `python -m app migrate` build the same dict from their Settings.
"""

from __future__ import annotations

import os
from typing import Any

MODEL_MODULES = [
    "app.auth.models",
    "app.organizations.models",
    "app.gateways.models",
    "app.audit.models",
    "app.webhooks.models",
]


def tortoise_config(database_url: str) -> dict[str, Any]:
    if database_url.startswith("postgresql://"):
        # Tortoise knows the asyncpg backend as "postgres://".
        database_url = "postgres://" + database_url.removeprefix("postgresql://")
    return {
        "connections": {"default": database_url},
        "apps": {
            "app": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _cli_config() -> dict[str, Any]:
    # Only the tortoise CLI reads this; it needs a database to diff against, not the app's
    # settings, so it honours DATABASE_URL and falls back to the default SQLite file.
    return tortoise_config(os.environ.get("DATABASE_URL") or "sqlite://data/gateway.sqlite3")


TORTOISE_ORM = _cli_config()
