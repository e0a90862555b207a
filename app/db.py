"""Tortoise configuration: one app label, one migration chain, for SQLite and PostgreSQL alike.

`TORTOISE_ORM` is what the `tortoise` CLI (`makemigrations`) reads via pyproject's
`[tool.tortoise]`; the server and `python -m app migrate` build the same dict from their Settings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from app.core.private_files import ensure_private_dir, ensure_private_file

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


# Files SQLite keeps beside the database; it creates them with the database file's permissions,
# so a private database gets private side files, and older ones are tightened here.
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite URL (`sqlite://relative` or `sqlite:///absolute`); None otherwise or
    for an in-memory database."""
    if not database_url.startswith("sqlite://"):
        return None
    location = database_url.removeprefix("sqlite://").split("?", 1)[0]
    if not location or location == ":memory:":
        return None
    return Path(location)


def prepare_storage(database_url: str, data_dir: Path) -> None:
    """Make the server's files private before anything opens them (app/core/private_files.py).

    DATA_DIR, when it exists or holds the database, is made 0700. The SQLite database is created
    0600 if missing (SQLite would create it 0644 under the usual umask), and it and its side files
    are tightened to 0600 if they exist. A database directory other than DATA_DIR is created
    0700 when missing but otherwise left as the operator made it.
    """
    path = sqlite_path(database_url)
    if data_dir.exists() or (path is not None and path.parent.resolve() == data_dir.resolve()):
        ensure_private_dir(data_dir)
    if path is None:
        return
    if not path.parent.exists():
        ensure_private_dir(path.parent)
    ensure_private_file(path, create=True)
    for suffix in SQLITE_SIDE_FILES:
        ensure_private_file(path.with_name(path.name + suffix))


def _cli_config() -> dict[str, Any]:
    # Only the tortoise CLI reads this; it needs a database to diff against, not the app's
    # settings, so it honours DATABASE_URL and falls back to the default SQLite file.
    return tortoise_config(os.environ.get("DATABASE_URL") or "sqlite://data/gateway.sqlite3")


TORTOISE_ORM = _cli_config()
