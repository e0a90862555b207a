"""Logging set-up: text for people, JSON lines for collectors; `extra` fields always included."""

from __future__ import annotations

import json
import logging
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
        return json.dumps(data, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = _extras(record)
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return line


def configure_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO, and a Telegram URL carries the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
