"""The subscription's own filters, apart from the scope-bound loader that backs them up."""

from __future__ import annotations

from uuid import uuid4

from app.gateways.enums import GatewayStatus
from app.gateways.status_events import LatestOnly, in_scope
from app.organizations.models import OrganizationRole
from app.service_context import ServiceContext
from tests.events.support import make_event

ALICE, BOB, ORG, OTHER_ORG = uuid4(), uuid4(), uuid4(), uuid4()


def test_personal_scope_accepts_only_the_users_personal_gateways() -> None:
    accept = in_scope(ServiceContext(user_id=ALICE), None)

    assert accept(make_event(owner_id=ALICE, organization_id=None))
    assert not accept(make_event(owner_id=BOB, organization_id=None))
    # Alice's own gateway in an organization belongs to the organization's scope, not hers.
    assert not accept(make_event(owner_id=ALICE, organization_id=ORG))


def test_organization_scope_accepts_the_organizations_gateways_whoever_owns_them() -> None:
    ctx = ServiceContext(user_id=ALICE, organization_id=ORG, role=OrganizationRole.MEMBER)
    accept = in_scope(ctx, None)

    assert accept(make_event(owner_id=BOB, organization_id=ORG))
    assert not accept(make_event(owner_id=ALICE, organization_id=None))
    assert not accept(make_event(owner_id=ALICE, organization_id=OTHER_ORG))


def test_a_gateway_id_narrows_the_scope_to_one_gateway() -> None:
    wanted = uuid4()
    accept = in_scope(ServiceContext(user_id=ALICE), wanted)

    assert accept(make_event(gateway_id=wanted, owner_id=ALICE))
    assert not accept(make_event(gateway_id=uuid4(), owner_id=ALICE))


def test_latest_only_drops_an_event_older_than_one_already_delivered() -> None:
    gateway, other = uuid4(), uuid4()
    latest = LatestOnly()

    def current(version: int, gateway_id: object = gateway) -> bool:
        return latest.is_current(
            make_event(gateway_id=gateway_id, status=GatewayStatus.ERROR, version=version)
        )

    assert current(2)
    assert not current(1)  # arrived late
    assert not current(2)  # duplicate
    assert current(3)
    assert current(1, other)  # versions are per gateway
    # Unversioned events (from an older release) always pass, even repeatedly.
    assert current(0)
    assert current(0)


def test_latest_only_remembers_the_most_recently_changed_gateways_only() -> None:
    first, second, third = uuid4(), uuid4(), uuid4()
    latest = LatestOnly(limit=2)

    def current(gateway_id: object, version: int) -> bool:
        return latest.is_current(
            make_event(gateway_id=gateway_id, status=GatewayStatus.ERROR, version=version)
        )

    assert current(first, 5)
    assert current(second, 5)
    assert current(first, 6)  # `first` is now the most recent
    assert current(third, 1)  # over the limit: `second`, the least recent, is forgotten
    assert not current(first, 6)
    assert not current(third, 1)
    assert current(second, 5)  # forgotten, so an old version passes again
