"""Start-up and shut-down of one server process: everything long-lived is created here."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from starlette.applications import Starlette
from tortoise.contrib.starlette import RegisterTortoise

from app.auth.passwords import Passwords
from app.auth.service import AuthService
from app.config import AppEnv, Settings
from app.container import Services
from app.core.circuit_breaker import BreakerRegistry, CircuitState
from app.core.clock import Clock, SystemClock
from app.core.http import create_http_client
from app.db import tortoise_config
from app.events.factory import create_broker
from app.gateways.lifecycle import GatewayLifecycle
from app.gateways.service import GatewayService
from app.gateways.status import StatusChanger
from app.gateways.vault import CredentialVault
from app.keys import build_keyring
from app.providers.base import is_breaker_failure, retry_after_of
from app.providers.registry import build_registry, timeouts_of

log = logging.getLogger("app.lifespan")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    clock: Clock = getattr(app.state, "clock", None) or SystemClock()
    vault = CredentialVault(build_keyring(settings))
    # RegisterTortoise, not a bare Tortoise.init(): under uvicorn the latter leaves requests
    # without an active TortoiseContext.
    async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
        http = create_http_client(timeouts_of(settings), transport=app.state.upstream_transport)
        redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
        broker = create_broker(redis_url)
        await broker.start()
        try:
            status = StatusChanger(publisher=broker, clock=clock)
            gateways = GatewayService(
                vault=vault, status=status, max_per_tenant=settings.max_gateways_per_tenant
            )
            providers = build_registry(settings, http, clock)

            async def on_breaker_change(
                key: str, old: CircuitState, new: CircuitState, cause: BaseException | None
            ) -> None:
                # Resolved at call time: the lifecycle is built right below, from the registry.
                await lifecycle.on_breaker_state_change(key, old, new, cause)

            breakers = BreakerRegistry(
                clock=clock,
                is_failure=is_breaker_failure,
                retry_after_of=retry_after_of,
                on_state_change=on_breaker_change,
            )
            lifecycle = GatewayLifecycle(
                gateways=gateways, providers=providers, breakers=breakers, clock=clock
            )
            app.state.services = Services(
                settings=settings,
                clock=clock,
                auth=AuthService(
                    passwords=Passwords(cheap=settings.app_env is AppEnv.TEST),
                    clock=clock,
                    token_ttl=timedelta(hours=settings.token_ttl_hours),
                ),
                gateways=gateways,
                lifecycle=lifecycle,
                providers=providers,
                breakers=breakers,
                broker=broker,
                http=http,
            )
            log.info("app.started", extra={"env": settings.app_env.value})
            yield
        finally:
            await broker.close()
            await http.aclose()
            log.info("app.stopped")
