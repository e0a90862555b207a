"""The long-lived objects of one process, built once: by the server's lifespan or by the CLI.

Resolvers and routes reach them through `request.app.state.services`; nothing is created at
import time, so tests build as many independent apps as they like.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx

from app.auth.passwords import Passwords
from app.auth.service import AuthService
from app.config import AppEnv, Settings
from app.core.circuit_breaker import BreakerRegistry, CircuitState
from app.core.clock import Clock
from app.core.http import create_http_client
from app.events.broker import Broker
from app.events.factory import create_broker
from app.gateways.health_checker import HealthChecker
from app.gateways.lifecycle import GatewayLifecycle, build_breaker_configs
from app.gateways.live import StatusHub
from app.gateways.models import Gateway
from app.gateways.service import GatewayService
from app.gateways.status import StatusChanger
from app.gateways.vault import CredentialVault
from app.keys import build_keyring
from app.observability.setup import Observability
from app.organizations.invitations import InvitationService
from app.providers.base import is_breaker_failure, retry_after_of
from app.providers.registry import ProviderRegistry, build_registry, timeouts_of
from app.webhooks.directory import GatewayDirectory


@dataclass(slots=True)
class Services:
    settings: Settings
    clock: Clock
    auth: AuthService
    gateways: GatewayService
    lifecycle: GatewayLifecycle
    providers: ProviderRegistry
    breakers: BreakerRegistry
    broker: Broker
    http: httpx.AsyncClient
    webhook_directory: GatewayDirectory
    health_checker: HealthChecker
    live: StatusHub
    invitations: InvitationService


@asynccontextmanager
async def build_services(
    settings: Settings,
    clock: Clock,
    upstream_transport: httpx.AsyncBaseTransport | None = None,
    observability: Observability | None = None,
) -> AsyncIterator[Services]:
    """Everything but the ORM, which the caller initialises first (lifespan or CLI)."""
    obs = observability or Observability()  # metrics and tracing hooks; no-ops when off
    vault = CredentialVault(build_keyring(settings))
    http = create_http_client(
        timeouts_of(settings), transport=upstream_transport, wrap_transport=obs.wrap_transport()
    )
    obs.instrument_client(http)
    redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
    broker = obs.instrument_broker(create_broker(redis_url))
    await broker.start()
    directory = GatewayDirectory(clock=clock, broker=broker)
    live: StatusHub | None = None
    try:
        await directory.start()
        gateways = GatewayService(
            vault=vault,
            status=StatusChanger(publisher=broker, clock=clock),
            max_per_tenant=settings.max_gateways_per_tenant,
            allow_private_targets=settings.private_targets_allowed,
        )

        async def on_breaker_change(
            key: str, old: CircuitState, new: CircuitState, cause: BaseException | None
        ) -> None:
            # Resolved at call time: the lifecycle is built right below, from the registry.
            obs.breaker_changed(breakers, key, new)
            await lifecycle.on_breaker_state_change(key, old, new, cause)

        breakers = BreakerRegistry(
            clock=clock,
            is_failure=is_breaker_failure,
            retry_after_of=retry_after_of,
            on_state_change=on_breaker_change,
        )
        providers = build_registry(settings, http, clock)
        breaker_configs = build_breaker_configs(
            reset_timeout=settings.circuit_reset_timeout,
            monitor_window=settings.circuit_failure_window,
        )
        lifecycle = GatewayLifecycle(
            gateways=gateways,
            providers=providers,
            breakers=breakers,
            clock=clock,
            breaker_configs=breaker_configs,
        )

        async def forget_webhook_entry(gateway: Gateway) -> None:
            directory.invalidate(gateway.id)

        gateways.on_credentials_dropped(forget_webhook_entry)
        auth = AuthService(
            passwords=Passwords(cheap=settings.app_env is AppEnv.TEST),
            clock=clock,
            token_ttl=timedelta(hours=settings.token_ttl_hours),
        )
        live = StatusHub(broker, auth, on_delivered=obs.status_delivered)
        await live.start()
        obs.watch(breakers=breakers, breaker_configs=breaker_configs, live=live)
        yield Services(
            settings=settings,
            clock=clock,
            auth=auth,
            gateways=gateways,
            lifecycle=lifecycle,
            providers=providers,
            breakers=breakers,
            broker=broker,
            http=http,
            webhook_directory=directory,
            health_checker=HealthChecker(
                lifecycle=lifecycle,
                breakers=breakers,
                clock=clock,
                interval=settings.health_check_interval or 300.0,
                retention_days=settings.telegram_update_retention_days,
                auth=auth,
                on_pass=obs.health_pass,
            ),
            live=live,
            invitations=InvitationService(
                clock=clock,
                ttl=timedelta(days=settings.invitation_ttl_days),
                max_pending=settings.max_pending_invitations,
            ),
        )
    finally:
        if live is not None:
            await live.close()
        await directory.close()
        await broker.close()
        await http.aclose()
