"""Scalars and enums the schema shares across domains.

Domain enums are exposed as they are (their values are the GraphQL names), registered here once
so no domain module depends on strawberry for its own enums.
"""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from app.core import strict_json
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

# strawberry's own JSON scalar passes floats through as they are, so a NaN anywhere in a result
# (an upstream's answer, a row stored before the app refused NaN) would be written out as `NaN`,
# which no client can parse. Same name and description, so the schema does not change; a
# non-finite value becomes a field error instead.
StrictJSON = strawberry.scalar(
    name="JSON",
    description=(
        "The `JSON` scalar type represents JSON values as specified by "
        "[ECMA-404]"
        "(https://ecma-international.org/wp-content/uploads/ECMA-404_2nd_edition_december_2017.pdf)."
    ),
    specified_by_url=(
        "https://ecma-international.org/wp-content/uploads/ECMA-404_2nd_edition_december_2017.pdf"
    ),
    serialize=strict_json.check_finite,
    parse_value=strict_json.check_finite,
)

__all__ = [
    "JSON",
    "AIProvider",
    "ChatRole",
    "CircuitState",
    "GatewayStatus",
    "GatewayType",
    "InvitationStatus",
    "OrganizationRole",
    "StrictJSON",
]
