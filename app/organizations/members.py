"""Changing a member's role and removing a member (or leaving), keeping at least one OWNER.

Rules: OWNERs change and remove anyone; ADMINs change and remove ADMINs and MEMBERs but never
touch an OWNER nor make one; MEMBERs change nobody. Anyone may remove themself (leave). An
organization always keeps one OWNER: the last one can neither be demoted nor leave.

Both run under the organization's row lock (`lock_organization`), so two owners demoting or
removing each other at the same moment cannot both pass the "another owner remains" check.
A change takes effect at once: every HTTP request reads the caller's membership afresh, and the
status hub re-checks memberships before each event it delivers (`app/gateways/live.py`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

from tortoise.transactions import in_transaction

from app.audit.service import audit
from app.errors import ConflictError, ForbiddenError, NotFoundError
from app.organizations.models import Membership, OrganizationRole
from app.organizations.roles import can_grant, lock_organization
from app.service_context import ServiceContext

log = logging.getLogger("app.organizations.members")

LAST_OWNER = "An organization keeps at least one owner: make another member owner first."


@dataclass(frozen=True, slots=True)
class RemovedMember:
    organization_id: UUID
    user_id: UUID


async def _locked_pair(
    ctx: ServiceContext, organization_id: UUID | None, user_id: UUID | None
) -> tuple[OrganizationRole, Membership]:
    """Inside a transaction: lock the organization, then read the caller's role and the
    target's membership (both after the lock, so neither is stale)."""
    org = await lock_organization(organization_id) if organization_id is not None else None
    caller = (
        await Membership.filter(user_id=ctx.user_id, organization_id=organization_id).first()
        if org is not None
        else None
    )
    if caller is None:
        raise NotFoundError("Organization not found.")
    target = (
        await Membership.filter(user_id=user_id, organization_id=organization_id).first()
        if user_id is not None
        else None
    )
    if target is None:
        raise NotFoundError("No such member in this organization.")
    return caller.role, target


async def _require_another_owner(organization_id: UUID) -> None:
    owners = await Membership.filter(
        organization_id=organization_id, role=OrganizationRole.OWNER
    ).count()
    if owners <= 1:
        raise ConflictError(LAST_OWNER)


async def change_role(
    ctx: ServiceContext,
    organization_id: UUID | None,
    user_id: UUID | None,
    role: OrganizationRole,
) -> Membership:
    async with in_transaction():
        caller, target = await _locked_pair(ctx, organization_id, user_id)
        if not caller.can_write:
            raise ForbiddenError("Only an owner or an admin may change roles.")
        if not (can_grant(caller, target.role) and can_grant(caller, role)):
            raise ForbiddenError("Only an owner may change an owner's role or make an owner.")
        if target.role is role:
            return target  # nothing changes: no audit event either
        if target.role is OrganizationRole.OWNER:
            await _require_another_owner(target.organization_id)
        previous, target.role = target.role, role
        await target.save(update_fields=["role"])
        await audit(
            ctx,
            "organization.member_role_change",
            organization_id=target.organization_id,
            metadata={"userId": str(target.user_id), "from": previous.value, "to": role.value},
        )
    log.info(
        "organizations.member_role_change.succeeded",
        extra={"organization_id": str(target.organization_id), "user_id": str(target.user_id)},
    )
    return target


async def remove_member(
    ctx: ServiceContext, organization_id: UUID | None, user_id: UUID | None
) -> RemovedMember:
    async with in_transaction():
        caller, target = await _locked_pair(ctx, organization_id, user_id)
        leaving = target.user_id == ctx.user_id
        if not leaving:
            if not caller.can_write:
                raise ForbiddenError("Only an owner or an admin may remove members.")
            if not can_grant(caller, target.role):
                raise ForbiddenError("Only an owner may remove an owner.")
        if target.role is OrganizationRole.OWNER:
            await _require_another_owner(target.organization_id)
        await target.delete()
        await audit(
            ctx,
            "organization.member_leave" if leaving else "organization.member_remove",
            organization_id=target.organization_id,
            metadata={"userId": str(target.user_id), "role": target.role.value},
        )
    log.info(
        "organizations.member_remove.succeeded",
        extra={"organization_id": str(target.organization_id), "user_id": str(target.user_id)},
    )
    return RemovedMember(target.organization_id, target.user_id)
