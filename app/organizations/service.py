"""Organizations and memberships: creating one, and reading who belongs with which role.

People join by invitation (`invitations.py`); roles change and members leave in `members.py`.
"""

from __future__ import annotations

import logging
import secrets
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.audit.service import audit
from app.errors import ConflictError, ValidationFailedError
from app.organizations.errors import SLUG_RE, check_organization, slugify
from app.organizations.models import Membership, Organization, OrganizationRole
from app.service_context import ServiceContext

log = logging.getLogger("app.organizations")


async def membership_role(user_id: UUID, organization_id: UUID) -> OrganizationRole | None:
    row = await Membership.filter(user_id=user_id, organization_id=organization_id).first()
    return row.role if row else None


async def create_organization(ctx: ServiceContext, name: str, slug: str | None) -> Organization:
    name = name.strip()
    given = (slug or "").strip().lower()
    # A name with no usable ASCII ("日本") still gets an organization; the user never typed a
    # slug, so a derived one must not be the reason for a refusal.
    slug = given or slugify(name)
    if not given and not SLUG_RE.match(slug):
        slug = f"org-{secrets.token_hex(4)}"
    issues = check_organization(name, slug)
    if issues:
        raise ValidationFailedError(issues)
    try:
        async with in_transaction():
            org = await Organization.create(name=name, slug=slug)
            await Membership.create(
                user_id=ctx.user_id, organization=org, role=OrganizationRole.OWNER
            )
            await audit(
                ctx,
                "organization.create",
                organization_id=org.id,
                metadata={"name": name, "slug": slug},
            )
    except IntegrityError:
        raise ConflictError(f"The slug {slug!r} is taken.") from None
    log.info("organization.create.succeeded", extra={"organization_id": str(org.id)})
    return org


async def organizations_of(user_id: UUID) -> list[tuple[Organization, OrganizationRole]]:
    rows = (
        await Membership.filter(user_id=user_id)
        .select_related("organization")
        .order_by("created_at")
    )
    return [(m.organization, m.role) for m in rows]


async def members_of(user_id: UUID, organization_id: UUID) -> list[Membership]:
    """Members of an organization, visible only to its members."""
    if await membership_role(user_id, organization_id) is None:
        return []
    return await Membership.filter(organization_id=organization_id).order_by("created_at")


async def system_current_members(pairs: set[tuple[UUID, UUID]]) -> set[tuple[UUID, UUID]]:
    """Which of these (organization id, user id) pairs are still memberships.

    Cross-tenant by design: the status hub asks it for all its organization-scoped subscribers
    at once, before delivering an event, so a removed member stops receiving events at once.
    """
    if not pairs:
        return set()
    rows = await Membership.filter(
        organization_id__in={o for o, _ in pairs}, user_id__in={u for _, u in pairs}
    ).values_list("organization_id", "user_id")
    found = {(UUID(str(o)), UUID(str(u))) for o, u in rows}
    return found & pairs
