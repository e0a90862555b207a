"""Start-up and shut-down of one server process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from tortoise.contrib.starlette import RegisterTortoise

from app.config import Settings
from app.container import build_services
from app.core.clock import Clock, SystemClock
from app.core.gc_tuning import settle_heap
from app.db import prepare_storage, tortoise_config

log = logging.getLogger("app.lifespan")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    clock: Clock = app.state.clock or SystemClock()
    prepare_storage(settings.database_url, settings.data_dir)
    # RegisterTortoise, not a bare Tortoise.init(): under uvicorn the latter leaves requests
    # without an active TortoiseContext.
    async with (
        RegisterTortoise(app, config=tortoise_config(settings.database_url)),
        build_services(
            settings, clock, app.state.upstream_transport, app.state.observability
        ) as services,
    ):
        app.state.services = services
        checker: asyncio.Task[None] | None = None
        if settings.health_check_interval > 0 and app.state.run_health_checker:
            checker = asyncio.create_task(services.health_checker.run_forever())
        if app.state.tune_gc:
            settle_heap()
        log.info("app.started", extra={"env": settings.app_env.value})
        try:
            yield
        finally:
            if checker is not None:
                checker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await checker
            await app.state.observability.shutdown()
            log.info("app.stopped")
