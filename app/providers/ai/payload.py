"""Typed reads of untrusted upstream JSON.

Upstream bodies are `Any`; these helpers narrow one value at a time and fall back to an empty or
missing value instead of raising, so a field an upstream renames or drops degrades to "unknown"
(None tokens, an empty list) rather than to a `KeyError` deep inside an adapter.
"""

from __future__ import annotations

from typing import Any

import httpx

from app.core import strict_json
from app.providers.base import UnavailableError


def read_json(response: httpx.Response, upstream: str) -> Any:
    """The decoded body of a successful answer; an unreadable one is the upstream's fault."""
    try:
        # Leading whitespace is fine: DeepSeek pads slow non-stream answers with blank lines.
        return strict_json.loads(response.content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UnavailableError(
            f"{upstream} returned an unreadable response", upstream_status=response.status_code
        ) from exc


def try_json(response: httpx.Response) -> Any:
    """The decoded body of an error answer, or None (proxies answer errors with HTML)."""
    try:
        return strict_json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None


def obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def arr(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def integer(value: Any) -> int | None:
    # bool is an int subclass; a `true` token count would be nonsense.
    return value if isinstance(value, int) and not isinstance(value, bool) else None
