"""Building `Gateway` objects for a response, with only the parts the query selects.

Owners and organizations of a whole page are loaded in one batch each, credentials are
decrypted and circuits read once per gateway, and the results are set as plain values, so
strawberry resolves them without a per-item resolver call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import strawberry

from app.auth.models import User as UserRow
from app.auth.types import User
from app.gateways.models import Gateway as GatewayRow
from app.gateways.types import CircuitStats, Gateway, credential_info_of
from app.graphql.context import Context, Info
from app.graphql.selection import selects
from app.organizations.models import Organization as OrganizationRow
from app.organizations.types import Organization

# Stands in for a field the query did not select; strawberry never reads it.
UNSELECTED: Any = None


@dataclass(frozen=True, slots=True)
class GatewaySelection:
    """Which of the computed parts a query selects below `at`. A subscription works this out
    once and reuses it for every event it delivers."""

    owner: bool
    organization: bool
    credential_info: bool
    circuit: bool

    @classmethod
    def of(cls, info: Info, at: tuple[str, ...] = ()) -> GatewaySelection:
        return cls(
            owner=selects(info, *at, "owner"),
            organization=selects(info, *at, "organization"),
            credential_info=selects(info, *at, "credentialInfo"),
            circuit=selects(info, *at, "circuit"),
        )


async def gateway_nodes(
    info: Info,
    rows: list[GatewayRow],
    *,
    at: tuple[str, ...] = (),
    selection: GatewaySelection | None = None,
) -> list[Gateway]:
    """`at` is the path from the current field to the gateways, e.g. ("items",)."""
    if not rows:
        return []
    return await build_gateway_nodes(info.context, rows, selection or GatewaySelection.of(info, at))


async def build_gateway_nodes(
    context: Context, rows: list[GatewayRow], wants: GatewaySelection
) -> list[Gateway]:
    """The nodes of `rows` with the parts `wants` filled, read through `context`'s loaders."""
    owners: list[UserRow | None] = [None] * len(rows)
    if wants.owner:
        owners = await context.loaders.users.load_many([r.owner_id for r in rows])
    orgs: list[OrganizationRow | None] = [None] * len(rows)
    org_ids = [r.organization_id for r in rows if r.organization_id is not None]
    if org_ids and wants.organization:
        loaded = iter(await context.loaders.organizations.load_many(org_ids))
        orgs = [next(loaded) if r.organization_id is not None else None for r in rows]
    want_credentials = wants.credential_info
    want_circuit = wants.circuit
    vault = context.services.gateways.vault
    breakers = context.services.breakers
    nodes = []
    for row, owner, org in zip(rows, owners, orgs, strict=True):
        circuit = UNSELECTED
        if want_circuit:
            breaker = breakers.peek(str(row.id))
            circuit = CircuitStats.from_stats(breaker.stats() if breaker else None)
        config: Any = row.config
        nodes.append(
            Gateway(
                id=strawberry.ID(str(row.id)),
                name=row.name,
                type=row.type,
                status=row.status,
                config=config,
                last_connected_at=row.last_connected_at,
                last_error_at=row.last_error_at,
                last_error=row.last_error,
                created_at=row.created_at,
                updated_at=row.updated_at,
                # A gateway's owner is always visible to whoever may see the gateway.
                owner=User.from_row(owner) if owner else UNSELECTED,
                organization=Organization.from_row(org) if org else None,
                credential_info=credential_info_of(row, vault.try_open(row))
                if want_credentials
                else UNSELECTED,
                circuit=circuit,
                row=row,
            )
        )
    return nodes


async def gateway_node(
    info: Info,
    row: GatewayRow,
    *,
    at: tuple[str, ...] = (),
    selection: GatewaySelection | None = None,
) -> Gateway:
    (node,) = await gateway_nodes(info, [row], at=at, selection=selection)
    return node
