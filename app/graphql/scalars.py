"""Scalars and enums the schema shares across domains.

Domain enums are exposed as they are (their values are the GraphQL names), registered here once
so no domain module depends on strawberry for its own enums.
"""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from app.core.circuit_breaker import CircuitState
from app.gateways.enums import AIProvider, GatewayStatus, GatewayType
from app.organizations.models import InvitationStatus, OrganizationRole
from app.providers.ai.types import ChatRole

strawberry.enum(GatewayType)
strawberry.enum(GatewayStatus)
strawberry.enum(AIProvider, name="AIProvider")
strawberry.enum(OrganizationRole)
strawberry.enum(InvitationStatus)
strawberry.enum(CircuitState)
strawberry.enum(ChatRole)

__all__ = [
    "JSON",
    "AIProvider",
    "ChatRole",
    "CircuitState",
    "GatewayStatus",
    "GatewayType",
    "InvitationStatus",
    "OrganizationRole",
]
