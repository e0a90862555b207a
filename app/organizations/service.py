"""Organizations and memberships: OWNER and ADMIN add members; only an OWNER adds an OWNER."""

from __future__ import annotations

import logging
import secrets
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.audit.service import audit
from app.auth.models import User
from app.errors import ConflictError, ForbiddenError, NotFoundError, ValidationFailedError
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


async def add_member(
    ctx: ServiceContext, organization_id: UUID | None, email: str, role: OrganizationRole
) -> Membership:
    # A caller who is not a member learns nothing about the organization's existence.
    caller_role = await membership_role(ctx.user_id, organization_id) if organization_id else None
    if organization_id is None or caller_role is None:
        raise NotFoundError("Organization not found.")
    if not caller_role.can_write:
        raise ForbiddenError("Only an owner or an admin may add members.")
    if role is OrganizationRole.OWNER and caller_role is not OrganizationRole.OWNER:
        raise ForbiddenError("Only an owner may add another owner.")
    user = await User.get_or_none(email=email.strip().lower())
    if user is None:
        raise NotFoundError("No user with this email.")
    try:
        async with in_transaction():
            membership = await Membership.create(
                user=user, organization_id=organization_id, role=role
            )
            await audit(
                ctx,
                "organization.member_add",
                organization_id=organization_id,
                scope_user_id=None,
                metadata={"userId": str(user.id), "role": role.value},
            )
    except IntegrityError:
        raise ConflictError("This user is already a member.") from None
    return membership


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
