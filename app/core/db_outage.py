"""Telling "the database is unreachable" apart from every other database error.

An outage is the server's condition, not the request's fault and not a bug: it is answered
503 (retry later) with one log line, where a bug is a 500 with a traceback. Tortoise wraps
driver errors in its own OperationalError, so the chain of causes is what tells them apart.
"""

from __future__ import annotations

import sqlite3

import asyncpg  # type: ignore[import-untyped]
from tortoise.exceptions import DBConnectionError

# Connection-level failures of the PostgreSQL driver: refused, reset, closed under a query,
# or the server shutting down / starting up ("cannot connect now", "admin shutdown").
_POSTGRES_OUTAGES: tuple[type[Exception], ...] = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
)

# OSError covers refused and reset sockets and TimeoutError.
_OUTAGES: tuple[type[Exception], ...] = (DBConnectionError, OSError, *_POSTGRES_OUTAGES)

# sqlite3 reports an unreachable file and a file locked by another process through the same
# OperationalError class as SQL errors; only the message tells them apart.
_SQLITE_OUTAGE_MESSAGES = ("database is locked", "unable to open database file", "disk i/o error")


def _is_outage(exc: BaseException) -> bool:
    if isinstance(exc, _OUTAGES):
        return True
    if isinstance(exc, sqlite3.OperationalError):
        message = str(exc).lower()
        return any(text in message for text in _SQLITE_OUTAGE_MESSAGES)
    return False


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether `exc`, or an error it was raised from, says the database cannot be reached."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if _is_outage(current):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
