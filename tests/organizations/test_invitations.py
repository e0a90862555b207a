"""Invitations (app/organizations/invitations.py): consent, privacy of emails, expiry, the cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.audit.models import AuditEvent
from app.core.clock import FakeClock
from app.core.ids import uuid7
from app.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    QuotaExceededError,
    RateLimitedError,
    ValidationFailedError,
)
from app.organizations import service
from app.organizations.invitations import UNKNOWN_INVITATION, InvitationService
from app.organizations.models import InvitationStatus, OrganizationInvitation, OrganizationRole
from tests.organizations.people import new_user, org_with
from tests.support.harness import Harness

OWNER = OrganizationRole.OWNER
ADMIN = OrganizationRole.ADMIN
MEMBER = OrganizationRole.MEMBER
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def invitations(fake_clock: FakeClock) -> InvitationService:
    return InvitationService(clock=fake_clock, ttl=timedelta(days=7), max_pending=3)


# ---------------------------------------------------------------- invite


@pytest.mark.parametrize(
    ("caller", "offered"),
    [(OWNER, OWNER), (OWNER, ADMIN), (OWNER, MEMBER), (ADMIN, ADMIN), (ADMIN, MEMBER)],
)
async def test_owners_and_admins_invite_up_to_their_own_role(
    harness: Harness,
    invitations: InvitationService,
    caller: OrganizationRole,
    offered: OrganizationRole,
) -> None:
    org, people = await org_with(harness, {"caller": caller} if caller is not OWNER else {})
    ctx = people.get("caller", people["owner"])
    newcomer = await new_user(harness, "newcomer@example.com")

    invitation = await invitations.invite(ctx, org.id, "  NewComer@Example.com ", offered)

    row = invitation.row
    assert (row.email, row.role, row.status) == ("newcomer@example.com", offered, "PENDING")
    assert (row.created_at, row.expires_at) == (START, START + timedelta(days=7))
    assert row.invited_by_id == ctx.user_id
    assert invitation.organization.id == org.id
    assert invitation.inviter_name == ("cal" if caller is ADMIN else "own")
    # Consent first: nobody joined yet.
    assert await service.membership_role(newcomer.user_id, org.id) is None
    assert await service.organizations_of(newcomer.user_id) == []
    (event,) = (
        await AuditEvent.filter(action="organization.invitation_create", actor_id=ctx.user_id)
        .order_by("-created_at")
        .limit(1)
    )
    assert event.organization_id == org.id
    # No email in the trail: MEMBERs read it but not the pending invitations.
    assert event.metadata == {"invitationId": str(row.id), "role": offered.value}


async def test_registered_and_unregistered_emails_get_the_same_answer(
    harness: Harness, invitations: InvitationService
) -> None:
    org, people = await org_with(harness, {})
    await new_user(harness, "known@example.com")

    known = await invitations.invite(people["owner"], org.id, "known@example.com", MEMBER)
    unknown = await invitations.invite(people["owner"], org.id, "nobody@example.com", MEMBER)

    assert type(known) is type(unknown)
    assert (known.row.status, known.row.role) == (unknown.row.status, unknown.row.role)
    assert known.row.expires_at == unknown.row.expires_at


async def test_an_invitation_waits_for_its_email_to_register(
    harness: Harness, invitations: InvitationService
) -> None:
    org, people = await org_with(harness, {})
    sent = await invitations.invite(people["owner"], org.id, "Later@Example.com", ADMIN)

    later = await new_user(harness, "later@example.com")
    (waiting,) = await invitations.pending_for("LATER@example.com")
    membership = await invitations.accept(later, "later@example.com", sent.row.id)

    assert waiting.row.id == sent.row.id
    assert (membership.user_id, membership.role) == (later.user_id, ADMIN)


async def test_a_member_may_not_invite_and_cannot_probe_emails(
    harness: Harness, invitations: InvitationService
) -> None:
    org, people = await org_with(harness, {"plain": MEMBER})

    with pytest.raises(ForbiddenError):
        await invitations.invite(people["plain"], org.id, "newcomer@example.com", MEMBER)
    with pytest.raises(ForbiddenError):
        await invitations.invite(people["plain"], org.id, "owner@example.com", MEMBER)
    assert await OrganizationInvitation.filter(status=InvitationStatus.PENDING).count() == 0


async def test_an_admin_may_not_invite_an_owner(
    harness: Harness, invitations: InvitationService
) -> None:
    org, people = await org_with(harness, {"admin": ADMIN})

    with pytest.raises(ForbiddenError) as info:
        await invitations.invite(people["admin"], org.id, "newcomer@example.com", OWNER)

    assert "owner" in info.value.message.lower()
    assert await OrganizationInvitation.filter(status=InvitationStatus.PENDING).count() == 0


async def test_a_non_member_learns_nothing_about_the_organization(
    harness: Harness, invitations: InvitationService
) -> None:
    org, _ = await org_with(harness, {})
    outsider = await new_user(harness, "outsider@example.com")

    answers = []
    for org_id in (org.id, uuid7(), None):
        with pytest.raises(NotFoundError) as info:
            await invitations.invite(outsider, org_id, "newcomer@example.com", MEMBER)
        answers.append(info.value.message)

    assert len(set(answers)) == 1
    assert await OrganizationInvitation.filter(status=InvitationStatus.PENDING).count() == 0


@pytest.mark.parametrize("email", ["", "no-at-sign", "a@b", "x" * 250 + "@example.com"])
async def test_an_invalid_email_is_refused(
    harness: Harness, invitations: InvitationService, email: str
) -> None:
    org, people = await org_with(harness, {})

    with pytest.raises(ValidationFailedError) as info:
        await invitations.invite(people["owner"], org.id, email, MEMBER)

    assert [i.field for i in info.value.issues] == ["email"]


async def test_inviting_a_member_or_a_pending_email_is_a_conflict(
    any_harness: Harness, invitations: InvitationService
) -> None:
    org, people = await org_with(any_harness, {"plain": MEMBER})
    await invitations.invite(people["owner"], org.id, "pending@example.com", MEMBER)

    with pytest.raises(ConflictError, match="already a member"):
        await invitations.invite(people["owner"], org.id, "PLAIN@example.com", ADMIN)
    with pytest.raises(ConflictError, match="already pending"):
        await invitations.invite(people["owner"], org.id, "pending@example.com", ADMIN)

    assert await service.membership_role(people["plain"].user_id, org.id) is MEMBER
    assert await OrganizationInvitation.filter(status=InvitationStatus.PENDING).count() == 1


async def test_open_invitations_per_organization_are_capped(
    any_harness: Harness, invitations: InvitationService, fake_clock: FakeClock
) -> None:
    org, people = await org_with(any_harness, {})
    founder = await new_user(any_harness, "founder@example.com")
    other = await service.create_organization(founder, "Other", None)
    owner = people["owner"]
    for i in range(3):
        await invitations.invite(owner, org.id, f"spam{i}@example.com", MEMBER)

    with pytest.raises(QuotaExceededError) as info:
        await invitations.invite(owner, org.id, "spam3@example.com", MEMBER)

    assert info.value.limit == 3
    assert "revoke" in info.value.message
    # Per organization: another one is not affected.
    await invitations.invite(founder, other.id, "spam3@example.com", MEMBER)
    # Revoked and expired invitations no longer count.
    first = await OrganizationInvitation.filter(email="spam0@example.com").get()
    await invitations.revoke(owner, first.id)
    await invitations.invite(owner, org.id, "spam3@example.com", MEMBER)
    fake_clock.advance(timedelta(days=8).total_seconds())
    for i in range(4, 7):
        await invitations.invite(owner, org.id, f"spam{i}@example.com", MEMBER)


# ---------------------------------------------------------------- the invitee


async def test_accepting_makes_a_member_with_the_offered_role(
    harness: Harness, invitations: InvitationService
) -> None:
    org, people = await org_with(harness, {})
    bob = await new_user(harness, "bob@example.com")
    sent = await invitations.invite(people["owner"], org.id, "bob@example.com", ADMIN)

    membership = await invitations.accept(bob, "bob@example.com", sent.row.id)

    assert (membership.organization_id, membership.role) == (org.id, ADMIN)
    assert [(o.id, r) for o, r in await service.organizations_of(bob.user_id)] == [(org.id, ADMIN)]
    row = await OrganizationInvitation.get(id=sent.row.id)
    assert (row.status, row.answered_at) == (InvitationStatus.ACCEPTED, START)
    assert await invitations.pending_for("bob@example.com") == []
    (event,) = await AuditEvent.filter(
        action="organization.invitation_accept", actor_id=bob.user_id
    )
    assert (event.organization_id, event.actor_id) == (org.id, bob.user_id)
    assert event.metadata == {
        "invitationId": str(row.id),
        "userId": str(bob.user_id),
        "role": "ADMIN",
    }


async def test_declining_leaves_no_membership(
    harness: Harness, invitations: InvitationService
) -> None:
    org, people = await org_with(harness, {})
    bob = await new_user(harness, "bob@example.com")
    sent = await invitations.invite(people["owner"], org.id, "bob@example.com", MEMBER)

    declined = await invitations.decline(bob, "bob@example.com", sent.row.id)

    assert declined.row.status is InvitationStatus.DECLINED
    assert await service.membership_role(bob.user_id, org.id) is None
    assert await invitations.pending_for("bob@example.com") == []
    (event,) = await AuditEvent.filter(action="organization.invitation_decline")
    assert (event.organization_id, event.actor_id) == (org.id, bob.user_id)


@pytest.mark.parametrize("answer", ["accept", "decline", "revoke", "expire"])
async def test_an_answered_or_expired_invitation_cannot_be_used_again(
    harness: Harness, invitations: InvitationService, fake_clock: FakeClock, answer: str
) -> None:
    org, people = await org_with(harness, {})
    bob = await new_user(harness, "bob@example.com")
    sent = await invitations.invite(people["owner"], org.id, "bob@example.com", MEMBER)
    if answer == "accept":
        await invitations.accept(bob, "bob@example.com", sent.row.id)
    elif answer == "decline":
        await invitations.decline(bob, "bob@example.com", sent.row.id)
    elif answer == "revoke":
        await invitations.revoke(people["owner"], sent.row.id)
    else:
        fake_clock.advance(timedelta(days=7).total_seconds())

    for use in (invitations.accept, invitations.decline):
        with pytest.raises(NotFoundError) as info:
            await use(bob, "bob@example.com", sent.row.id)
        assert info.value.message == UNKNOWN_INVITATION
    assert await invitations.pending_for("bob@example.com") == []
    expected_role = MEMBER if answer == "accept" else None
    assert await service.membership_role(bob.user_id, org.id) is expected_role


async def test_someone_elses_invitation_answers_like_an_unknown_id(
    harness: Harness, invitations: InvitationService
) -> None:
    org, people = await org_with(harness, {})
    await new_user(harness, "bob@example.com")
    mallory = await new_user(harness, "mallory@example.com")
    sent = await invitations.invite(people["owner"], org.id, "bob@example.com", OWNER)

    messages = set()
    for invitation_id in (sent.row.id, uuid7(), None):
        for use in (invitations.accept, invitations.decline):
            with pytest.raises(NotFoundError) as info:
                await use(mallory, "mallory@example.com", invitation_id)
            messages.add(info.value.message)

    assert messages == {UNKNOWN_INVITATION}
    assert await invitations.pending_for("mallory@example.com") == []
    assert await service.membership_role(mallory.user_id, org.id) is None
    still = await OrganizationInvitation.get(id=sent.row.id)
    assert still.status is InvitationStatus.PENDING


async def test_accepting_when_already_a_member_is_a_conflict(
    harness: Harness, invitations: InvitationService
) -> None:
    """Invited twice by two organizations is fine; a membership gained meanwhile (here by
    writing the invitation straight in, as a stale one would be) answers ConflictError."""
    org, people = await org_with(harness, {"plain": MEMBER})
    stale = await OrganizationInvitation.create(
        organization_id=org.id,
        email="plain@example.com",
        role=OWNER,
        invited_by_id=people["owner"].user_id,
        created_at=START,
        expires_at=START + timedelta(days=1),
    )

    with pytest.raises(ConflictError):
        await invitations.accept(people["plain"], "plain@example.com", stale.id)

    assert await service.membership_role(people["plain"].user_id, org.id) is MEMBER


# ---------------------------------------------------------------- lists and revocation


async def test_only_owners_and_admins_list_an_organizations_invitations(
    harness: Harness, invitations: InvitationService, fake_clock: FakeClock
) -> None:
    org, people = await org_with(harness, {"admin": ADMIN, "plain": MEMBER})
    outsider = await new_user(harness, "outsider@example.com")
    first = await invitations.invite(people["owner"], org.id, "a@example.com", MEMBER)
    fake_clock.advance(60)
    second = await invitations.invite(people["admin"], org.id, "b@example.com", ADMIN)

    for who in ("owner", "admin"):
        listed = await invitations.pending_of_organization(people[who].user_id, org.id)
        assert [i.row.id for i in listed] == [first.row.id, second.row.id]
        assert [i.inviter_name for i in listed] == ["own", "adm"]
    assert await invitations.pending_of_organization(people["plain"].user_id, org.id) == []
    assert await invitations.pending_of_organization(outsider.user_id, org.id) == []
    fake_clock.advance(timedelta(days=7).total_seconds() - 1)
    listed = await invitations.pending_of_organization(people["owner"].user_id, org.id)
    assert [i.row.id for i in listed] == [second.row.id]  # the first one expired


async def test_revocation_rules(harness: Harness, invitations: InvitationService) -> None:
    org, people = await org_with(harness, {"admin": ADMIN, "plain": MEMBER})
    to_owner = await invitations.invite(people["owner"], org.id, "o@example.com", OWNER)
    to_admin = await invitations.invite(people["owner"], org.id, "a@example.com", ADMIN)

    with pytest.raises(ForbiddenError):
        await invitations.revoke(people["plain"], to_admin.row.id)
    with pytest.raises(ForbiddenError):
        await invitations.revoke(people["admin"], to_owner.row.id)
    revoked = await invitations.revoke(people["admin"], to_admin.row.id)
    assert revoked.row.status is InvitationStatus.REVOKED
    assert (await invitations.revoke(people["owner"], to_owner.row.id)).row.status == "REVOKED"
    with pytest.raises(NotFoundError):  # revoked already
        await invitations.revoke(people["owner"], to_owner.row.id)
    actions = await AuditEvent.filter(action="organization.invitation_revoke").count()
    assert actions == 2
    assert await invitations.pending_for("a@example.com") == []


async def test_another_organizations_invitation_cannot_be_revoked(
    harness: Harness, invitations: InvitationService
) -> None:
    org, people = await org_with(harness, {})
    rival = await new_user(harness, "rival@example.com")
    await service.create_organization(rival, "Rival", None)
    sent = await invitations.invite(people["owner"], org.id, "bob@example.com", MEMBER)

    messages = set()
    for invitation_id in (sent.row.id, uuid7(), None):
        with pytest.raises(NotFoundError) as info:
            await invitations.revoke(rival, invitation_id)
        messages.add(info.value.message)

    assert messages == {UNKNOWN_INVITATION}
    assert (await OrganizationInvitation.get(id=sent.row.id)).status is InvitationStatus.PENDING


async def test_one_person_sends_a_bounded_number_of_invitations_per_day(
    harness: Harness, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Revoking and re-sending, or spreading over several organizations, does not lift it."""
    monkeypatch.setattr("app.organizations.invitations.MAX_SENT_PER_DAY", 3)
    invitations = InvitationService(clock=fake_clock, ttl=timedelta(days=7), max_pending=50)
    org, people = await org_with(harness, {})
    owner = people["owner"]
    second = await service.create_organization(owner, "Second", None)
    first = await invitations.invite(owner, org.id, "a@example.com", MEMBER)
    await invitations.revoke(owner, first.row.id)
    fake_clock.advance(3600)
    await invitations.invite(owner, org.id, "a@example.com", MEMBER)
    await invitations.invite(owner, second.id, "b@example.com", MEMBER)

    with pytest.raises(RateLimitedError) as info:
        await invitations.invite(owner, second.id, "c@example.com", MEMBER)

    # The oldest counted invitation leaves the window 23 hours from now.
    assert info.value.retry_after == timedelta(hours=23).total_seconds()
    assert await OrganizationInvitation.filter(email="c@example.com").count() == 0
    fake_clock.advance(timedelta(hours=23).total_seconds() + 1)
    await invitations.invite(owner, second.id, "c@example.com", MEMBER)
