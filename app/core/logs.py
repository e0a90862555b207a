"""Logging set-up: text for people, JSON lines for collectors; `extra` fields always included.

No secret reaches the logs at any level, `LOG_LEVEL=DEBUG` included. The libraries below log
secrets when allowed to speak freely, so each gets a floor (checked against their sources):

- `tortoise.db_client` logs every query *with its parameters* at DEBUG (password hashes, emails,
  credential ciphertext, token hashes), and the asyncpg pool's connection parameters (the
  database password). It is silent below WARNING unless `LOG_SQL` is on, and even then only the
  statement text passes (`_StatementsOnly`).
- `aiosqlite` logs every call with its arguments at DEBUG: the same SQL parameters again.
- `httpx` logs every request URL at INFO, and a Telegram URL carries the bot token; `httpcore`
  logs request and response headers at DEBUG.

`tortoise` itself masks the database password in its start-up line; `asyncpg` logs only pool
warnings; `uvicorn` logs paths, never bodies, above its TRACE level (which LOG_LEVEL cannot
select); `redis` logs no commands or URLs. They keep the configured level.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

# uvicorn adds a colourised duplicate of its message; it is noise in both formats.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "color_message",
}


# Set by app.observability.tracing when tracing is on: (trace_id, span_id) of the current span,
# or None. Off, a record costs one None check; OpenTelemetry is never imported from here.
_trace_ids: Callable[[], tuple[str, str] | None] | None = None


def enable_trace_ids(current: Callable[[], tuple[str, str] | None]) -> None:
    global _trace_ids
    _trace_ids = current


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    extras = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
    # Formatted in the emitting task (StreamHandler is synchronous), so the span is the caller's.
    ids = _trace_ids() if _trace_ids is not None else None
    if ids is not None:
        extras["trace_id"], extras["span_id"] = ids
    return extras


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
            **_extras(record),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        try:
            return json.dumps(data, default=str, allow_nan=False)
        except ValueError:
            # A NaN or Infinity in an extra: written as a string, so the line stays JSON.
            return json.dumps(_finite(data), default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = _extras(record)
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return line


# Logger -> the lowest level it may log at, whatever LOG_LEVEL says.
_FLOORS = {
    "tortoise.db_client": logging.WARNING,
    "aiosqlite": logging.WARNING,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
}
_SQL_LOGGER = "tortoise.db_client"


class _StatementsOnly(logging.Filter):
    """Let through the statement of a query log, never its parameters or anything else.

    Tortoise logs a query as `log.debug("%s: %s", query, values)` or `log.debug(query)` (scripts);
    any other record of its client logger (connection-pool parameters, for one) is dropped.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == "%s: %s" and isinstance(record.args, tuple) and record.args:
            record.msg, record.args = "db.query %s", (record.args[0],)
            return True
        if not record.args and isinstance(record.msg, str):
            record.msg = "db.query " + record.msg
            return True
        return False


def _quiet_libraries(log_sql: bool) -> None:
    for name, floor in _FLOORS.items():
        logging.getLogger(name).setLevel(floor)
    sql = logging.getLogger(_SQL_LOGGER)
    for existing in [f for f in sql.filters if isinstance(f, _StatementsOnly)]:
        sql.removeFilter(existing)
    # Installed even when LOG_SQL is off: someone raising the level by hand must not get the
    # parameters either.
    sql.addFilter(_StatementsOnly())
    if log_sql:
        sql.setLevel(logging.DEBUG)


def configure_logging(level: str, fmt: str, *, log_sql: bool = False) -> None:
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    _quiet_libraries(log_sql)
