"""Liveness and readiness probes."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse
from tortoise.connection import get_connection

from app.migrate import pending_migrations

log = logging.getLogger("app.health")


async def healthz(request: Request) -> JSONResponse:
    """The process is alive and serving; says nothing about its dependencies."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Ready when the database answers and every migration is applied."""
    try:
        await get_connection("default").execute_query("SELECT 1")
    except Exception as exc:  # any driver error means "not ready", never a 500
        log.warning("health.ready.database_failed", extra={"error": type(exc).__name__})
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
    state = request.app.state
    if not getattr(state, "migrations_applied", False):
        pending = await pending_migrations()
        if pending:
            return JSONResponse(
                {"status": "unavailable", "database": "ok", "pendingMigrations": pending}, 503
            )
        # Once applied, migrations stay applied for this process: no need to re-plan per probe.
        state.migrations_applied = True
    return JSONResponse({"status": "ok", "database": "ok", "migrations": "applied"})
