"""Which database errors are an outage (503, one log line) rather than a bug (500)."""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest
from tortoise.exceptions import DBConnectionError, IntegrityError, OperationalError

from app.core.db_outage import is_database_unavailable


def raised_from(cause: BaseException) -> OperationalError:
    """An error as tortoise raises it: its own type, the driver's as the cause."""
    try:
        raise OperationalError(str(cause)) from cause
    except OperationalError as exc:
        return exc


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "Connection refused"),
        ConnectionResetError(),
        TimeoutError(),
        DBConnectionError("can't connect"),
        raised_from(asyncpg.exceptions.ConnectionDoesNotExistError("closed in the middle")),
        raised_from(asyncpg.exceptions.CannotConnectNowError("the database is starting up")),
        raised_from(asyncpg.exceptions.AdminShutdownError("terminating connection")),
        raised_from(asyncpg.exceptions.InterfaceError("connection is closed")),
        raised_from(sqlite3.OperationalError("database is locked")),
        raised_from(sqlite3.OperationalError("unable to open database file")),
    ],
)
def test_connection_failures_are_outages(exc: BaseException) -> None:
    assert is_database_unavailable(exc)


@pytest.mark.parametrize(
    "exc",
    [
        raised_from(sqlite3.OperationalError("no such table: users")),
        raised_from(asyncpg.exceptions.UndefinedTableError("relation does not exist")),
        IntegrityError("duplicate key"),
        RuntimeError("a bug"),
        ValueError("bad value"),
    ],
)
def test_other_errors_are_not(exc: BaseException) -> None:
    assert not is_database_unavailable(exc)


def test_a_cycle_of_causes_ends() -> None:
    first, second = RuntimeError("a"), RuntimeError("b")
    first.__cause__, second.__cause__ = second, first

    assert not is_database_unavailable(first)
