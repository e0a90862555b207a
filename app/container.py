"""The long-lived objects of one server process, built once in the lifespan.

Resolvers and routes reach them through `request.app.state.services`; nothing is created at
import time, so tests build as many independent apps as they like.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from app.auth.service import AuthService
from app.config import Settings
from app.core.circuit_breaker import BreakerRegistry
from app.core.clock import Clock
from app.events.broker import Broker
from app.gateways.lifecycle import GatewayLifecycle
from app.gateways.service import GatewayService
from app.providers.registry import ProviderRegistry


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
