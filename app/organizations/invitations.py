"""Invitations: the only way into an organization someone else created.

An OWNER or ADMIN invites an email with a role (never above their own); the person behind that
email sees the invitation once registered under it, and becomes a member only by accepting.

What each party may learn:
- The inviter gets the same answer whether the email is registered or not: the invitation waits
  for that email to register. Only "already a member" is answered differently (ConflictError),
  which tells the inviter nothing new: OWNER and ADMIN see the member list anyway.
- The invitee sees their own pending invitations: the organization's id, name and slug, the
  offered role and the inviter's name. An invitation id that is not theirs (another person's,
  answered, expired) is answered exactly like an unknown id.
- Invitations and their audit events carry no email in the audit metadata: MEMBERs read the
  organization's audit trail but not its pending invitations.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.audit.service import audit
from app.auth.errors import EMAIL_RE
from app.auth.models import User
from app.core.clock import Clock
from app.errors import (
    ConflictError,
    FieldIssue,
    ForbiddenError,
    NotFoundError,
    QuotaExceededError,
    RateLimitedError,
    ValidationFailedError,
)
from app.organizations.models import (
    InvitationStatus,
    Membership,
    Organization,
    OrganizationInvitation,
    OrganizationRole,
)
from app.organizations.roles import can_grant, lock_organization
from app.service_context import ServiceContext

log = logging.getLogger("app.organizations.invitations")

UNKNOWN_INVITATION = "Invitation not found."
# Invitations one person may send per day, over all organizations: the per-organization cap of
# open invitations alone lets an inviter revoke and re-send, or open more organizations, to put
# invitations in strangers' lists without end.
MAX_SENT_PER_DAY = 200
SENT_WINDOW = timedelta(days=1)


def normalise_email(email: str) -> str:
    """As `AuthService.register` stores it, so an invitation matches the account's email."""
    return email.strip().lower()


@dataclass(frozen=True, slots=True)
class Invitation:
    """An invitation with what every viewer of it may see of its organization and inviter."""

    row: OrganizationInvitation
    organization: Organization
    inviter_name: str | None


class InvitationService:
    def __init__(self, *, clock: Clock, ttl: timedelta, max_pending: int) -> None:
        self._clock = clock
        self._ttl = ttl
        self._max_pending = max_pending

    async def invite(
        self,
        ctx: ServiceContext,
        organization_id: UUID | None,
        email: str,
        role: OrganizationRole,
    ) -> Invitation:
        email = normalise_email(email)
        if len(email) > 254 or not EMAIL_RE.match(email):
            raise ValidationFailedError([FieldIssue("email", "Enter a valid email address.")])
        if organization_id is None:
            raise NotFoundError("Organization not found.")
        now = self._clock.now()
        try:
            async with in_transaction():
                # Serialises invitations of one organization: the pending count below and the
                # duplicate check hold for the insert that follows them.
                org = await lock_organization(organization_id)
                caller = await _role_of(ctx.user_id, organization_id)
                if org is None or caller is None:
                    # A caller who is not a member learns nothing about the organization.
                    raise NotFoundError("Organization not found.")
                if not caller.can_write:
                    raise ForbiddenError("Only an owner or an admin may invite members.")
                if not can_grant(caller, role):
                    raise ForbiddenError("Only an owner may invite an owner.")
                if await Membership.filter(
                    organization_id=organization_id, user__email=email
                ).exists():
                    raise ConflictError("This person is already a member.")
                pending = OrganizationInvitation.filter(
                    organization_id=organization_id,
                    status=InvitationStatus.PENDING,
                    expires_at__gt=now,
                )
                if await pending.filter(email=email).exists():
                    raise ConflictError(
                        "An invitation to this email is already pending; revoke it to send another."
                    )
                await self._check_sender_rate(ctx.user_id, now)
                if await pending.count() >= self._max_pending:
                    raise QuotaExceededError(
                        f"This organization has {self._max_pending} open invitations; wait for "
                        "answers or revoke some before inviting more.",
                        self._max_pending,
                    )
                row = await OrganizationInvitation.create(
                    organization_id=organization_id,
                    email=email,
                    role=role,
                    invited_by_id=ctx.user_id,
                    created_at=now,
                    expires_at=now + self._ttl,
                )
                await audit(
                    ctx,
                    "organization.invitation_create",
                    organization_id=organization_id,
                    metadata={"invitationId": str(row.id), "role": role.value},
                )
        except (QuotaExceededError, RateLimitedError):
            log.warning(
                "organizations.invite.capped", extra={"organization_id": str(organization_id)}
            )
            raise
        log.info(
            "organizations.invite.succeeded",
            extra={"organization_id": str(organization_id), "invitation_id": str(row.id)},
        )
        return await _with_details(row, org)

    async def _check_sender_rate(self, user_id: UUID, now: datetime) -> None:
        sent = (
            await OrganizationInvitation.filter(
                invited_by_id=user_id, created_at__gt=now - SENT_WINDOW
            )
            .order_by("-created_at")
            .limit(MAX_SENT_PER_DAY)
            .values_list("created_at", flat=True)
        )
        if len(sent) >= MAX_SENT_PER_DAY:
            # A slot frees up when the oldest of the counted invitations leaves the window.
            oldest: datetime = sent[-1]  # type: ignore[assignment]
            retry_after = max(1.0, (oldest + SENT_WINDOW - now).total_seconds())
            raise RateLimitedError(
                f"You sent {MAX_SENT_PER_DAY} invitations in the last day; try again later.",
                retry_after,
            )

    async def pending_for(self, user_email: str) -> list[Invitation]:
        """The viewer's own invitations that can still be accepted, oldest first."""
        rows = (
            await OrganizationInvitation.filter(
                email=normalise_email(user_email),
                status=InvitationStatus.PENDING,
                expires_at__gt=self._clock.now(),
            )
            .select_related("organization")
            .order_by("created_at", "id")
        )
        return await _all_with_details(rows)

    async def pending_of_organization(
        self, user_id: UUID, organization_id: UUID
    ) -> list[Invitation]:
        """An organization's open invitations, for its OWNERs and ADMINs; empty for anyone else."""
        role = await _role_of(user_id, organization_id)
        if role is None or not role.can_write:
            return []
        rows = (
            await OrganizationInvitation.filter(
                organization_id=organization_id,
                status=InvitationStatus.PENDING,
                expires_at__gt=self._clock.now(),
            )
            .select_related("organization")
            .order_by("created_at", "id")
        )
        return await _all_with_details(rows)

    async def accept(
        self, ctx: ServiceContext, user_email: str, invitation_id: UUID | None
    ) -> Membership:
        try:
            async with in_transaction():
                row = await self._own_pending(user_email, invitation_id)
                if await Membership.filter(
                    user_id=ctx.user_id, organization_id=row.organization_id
                ).exists():
                    raise ConflictError("You are already a member of this organization.")
                membership = await Membership.create(
                    user_id=ctx.user_id, organization_id=row.organization_id, role=row.role
                )
                await self._answer(row, InvitationStatus.ACCEPTED)
                await audit(
                    ctx,
                    "organization.invitation_accept",
                    organization_id=row.organization_id,
                    metadata={
                        "invitationId": str(row.id),
                        "userId": str(ctx.user_id),
                        "role": row.role.value,
                    },
                )
        except IntegrityError:
            # The same person accepting two ways at once; the first one won.
            raise ConflictError("You are already a member of this organization.") from None
        log.info(
            "organizations.invitation_accept.succeeded",
            extra={"organization_id": str(row.organization_id), "invitation_id": str(row.id)},
        )
        return membership

    async def decline(
        self, ctx: ServiceContext, user_email: str, invitation_id: UUID | None
    ) -> Invitation:
        async with in_transaction():
            row = await self._own_pending(user_email, invitation_id)
            await self._answer(row, InvitationStatus.DECLINED)
            await audit(
                ctx,
                "organization.invitation_decline",
                organization_id=row.organization_id,
                metadata={"invitationId": str(row.id), "role": row.role.value},
            )
        log.info("organizations.invitation_decline.succeeded", extra={"invitation_id": str(row.id)})
        return await _with_details(row)

    async def revoke(self, ctx: ServiceContext, invitation_id: UUID | None) -> Invitation:
        """OWNERs revoke any open invitation; ADMINs those they could have sent (not OWNER)."""
        if invitation_id is None:
            raise NotFoundError(UNKNOWN_INVITATION)
        async with in_transaction():
            row = (
                await OrganizationInvitation.select_for_update()
                .filter(id=invitation_id, status=InvitationStatus.PENDING)
                .first()
            )
            caller = await _role_of(ctx.user_id, row.organization_id) if row else None
            if row is None or caller is None:
                raise NotFoundError(UNKNOWN_INVITATION)
            if not caller.can_write:
                raise ForbiddenError("Only an owner or an admin may revoke invitations.")
            if not can_grant(caller, row.role):
                raise ForbiddenError("Only an owner may revoke an invitation to become owner.")
            await self._answer(row, InvitationStatus.REVOKED)
            await audit(
                ctx,
                "organization.invitation_revoke",
                organization_id=row.organization_id,
                metadata={"invitationId": str(row.id), "role": row.role.value},
            )
        log.info("organizations.invitation_revoke.succeeded", extra={"invitation_id": str(row.id)})
        return await _with_details(row)

    async def _own_pending(
        self, user_email: str, invitation_id: UUID | None
    ) -> OrganizationInvitation:
        """The caller's own open invitation, locked; NotFound for any other id, whatever the
        reason (unknown, someone else's, answered, expired), so no invitation is revealed."""
        row = (
            await OrganizationInvitation.select_for_update()
            .filter(
                id=invitation_id,
                email=normalise_email(user_email),
                status=InvitationStatus.PENDING,
                expires_at__gt=self._clock.now(),
            )
            .first()
            if invitation_id is not None
            else None
        )
        if row is None:
            raise NotFoundError(UNKNOWN_INVITATION)
        return row

    async def _answer(self, row: OrganizationInvitation, status: InvitationStatus) -> None:
        row.status, row.answered_at = status, self._clock.now()
        await row.save(update_fields=["status", "answered_at"])


async def _role_of(user_id: UUID, organization_id: UUID) -> OrganizationRole | None:
    row = await Membership.filter(user_id=user_id, organization_id=organization_id).first()
    return row.role if row else None


async def _inviter_names(rows: list[OrganizationInvitation]) -> dict[UUID, str]:
    ids = {r.invited_by_id for r in rows if r.invited_by_id is not None}
    if not ids:
        return {}
    # Names only: never the rest of the inviter's account.
    pairs = await User.filter(id__in=list(ids)).values_list("id", "name")
    return {UUID(str(user_id)): str(name) for user_id, name in pairs}


async def _all_with_details(rows: list[OrganizationInvitation]) -> list[Invitation]:
    names = await _inviter_names(rows)
    return [
        Invitation(
            row,
            row.organization,
            names.get(row.invited_by_id) if row.invited_by_id else None,
        )
        for row in rows
    ]


async def _with_details(
    row: OrganizationInvitation, organization: Organization | None = None
) -> Invitation:
    if organization is None:
        organization = await Organization.get(id=row.organization_id)
    names = await _inviter_names([row])
    return Invitation(
        row, organization, names.get(row.invited_by_id) if row.invited_by_id else None
    )
