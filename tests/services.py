"""Where the PostgreSQL and Redis suites find their services, and what happens without them.

Without `CI=true` a suite whose service is unreachable is skipped with the reason; with `CI=true`
it fails instead, so CI can never go green by silently skipping the databases it must exercise.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        address = (parts.hostname or "127.0.0.1", parts.port or default_port)
        with socket.create_connection(address, timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, url: str, default_port: int) -> str:
    """Return `url` if the service answers; otherwise skip the test, or fail it under CI."""
    if _reachable(url, default_port):
        return url
    reason = f"{name} is not reachable at {urlsplit(url).netloc} (set TEST_{name.upper()}_URL)"
    if _in_ci():
        pytest.fail(f"{reason}; it is mandatory when CI=true")
    pytest.skip(reason)


def require_postgres() -> str:
    return require_service("postgres", POSTGRES_URL, 5432)


def require_redis() -> str:
    return require_service("redis", REDIS_URL, 6379)
