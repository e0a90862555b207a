"""Per-request DataLoaders, bound to the caller's tenant scope.

A loader returns only rows the caller may see, so a nested field (a gateway's owner, an
organization's members) can never reach into another tenant even if an id leaks into it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from functools import cached_property
from uuid import UUID

from strawberry.dataloader import DataLoader
from tortoise.expressions import Q

from app.auth.models import User
from app.gateways.models import Gateway
from app.gateways.service import scoped
from app.organizations.models import Membership, Organization
from app.service_context import ServiceContext


class Loaders:
    def __init__(self, user_id: UUID, scope: Callable[[], ServiceContext]) -> None:
        # Users, organizations and memberships depend only on who asks; gateways also on the
        # scope, which is resolved (and may be refused) only when a gateway is actually loaded.
        self._user_id = user_id
        self._scope = scope
        self._my_org_ids: list[UUID] | None = None
        # The users and organizations loaders dispatch in the same tick and both need the ids:
        # without the lock each would miss the cache and run the same query.
        self._my_org_ids_lock = asyncio.Lock()

    # Created on first use: a subscription builds fresh loaders for every event it delivers,
    # and most events need one loader or none.
    @cached_property
    def users(self) -> DataLoader[UUID, User | None]:
        return DataLoader(self._load_users)

    @cached_property
    def organizations(self) -> DataLoader[UUID, Organization | None]:
        return DataLoader(self._load_organizations)

    @cached_property
    def gateways(self) -> DataLoader[UUID, Gateway | None]:
        return DataLoader(self._load_gateways)

    @cached_property
    def members(self) -> DataLoader[UUID, list[Membership]]:
        return DataLoader(self._load_members)

    @cached_property
    def roles(self) -> DataLoader[UUID, Membership | None]:
        return DataLoader(self._load_roles)

    @cached_property
    def memberships_of_user(self) -> DataLoader[UUID, list[Membership]]:
        return DataLoader(self._load_user_memberships)

    async def my_organization_ids(self) -> list[UUID]:
        async with self._my_org_ids_lock:
            if self._my_org_ids is None:
                ids = await Membership.filter(user_id=self._user_id).values_list(
                    "organization_id", flat=True
                )
                self._my_org_ids = [UUID(str(i)) for i in ids]
            return self._my_org_ids

    async def _load_users(self, ids: Sequence[UUID]) -> list[User | None]:
        # Visible: the caller, and people who share an organization with the caller.
        org_ids = await self.my_organization_ids()
        visible = Q(id=self._user_id)
        if org_ids:
            visible |= Q(memberships__organization_id__in=org_ids)
        # Never the password hash: it has no business in a GraphQL request's memory.
        rows = (
            await User.filter(Q(id__in=list(ids)), visible)
            .distinct()
            .only("id", "email", "name", "created_at")
        )
        by_id = {u.id: u for u in rows}
        missing = [i for i in ids if i not in by_id]
        if missing and org_ids:
            # A member removed from an organization stays visible there as the owner of the
            # gateways they created in it: whoever may see a gateway sees its owner, and the
            # same owner for everyone in the scope (live status shares `owner` by scope).
            # Asked only for ids the common case did not find, which is rare.
            owners = (
                await User.filter(id__in=missing, gateways__organization_id__in=org_ids)
                .distinct()
                .only("id", "email", "name", "created_at")
            )
            by_id.update((u.id, u) for u in owners)
        return [by_id.get(i) for i in ids]

    async def _load_organizations(self, ids: Sequence[UUID]) -> list[Organization | None]:
        org_ids = set(await self.my_organization_ids())
        wanted = [i for i in ids if i in org_ids]
        rows = await Organization.filter(id__in=wanted) if wanted else []
        by_id = {o.id: o for o in rows}
        return [by_id.get(i) for i in ids]

    async def _load_gateways(self, ids: Sequence[UUID]) -> list[Gateway | None]:
        rows = await scoped(self._scope()).filter(id__in=list(ids))
        by_id = {g.id: g for g in rows}
        return [by_id.get(i) for i in ids]

    async def _load_members(self, org_ids: Sequence[UUID]) -> list[list[Membership]]:
        mine = set(await self.my_organization_ids())
        wanted = [i for i in org_ids if i in mine]
        rows = (
            await Membership.filter(organization_id__in=wanted).order_by("created_at")
            if wanted
            else []
        )
        grouped: dict[UUID, list[Membership]] = {i: [] for i in org_ids}
        for m in rows:
            grouped[m.organization_id].append(m)
        return [grouped[i] for i in org_ids]

    async def _load_roles(self, org_ids: Sequence[UUID]) -> list[Membership | None]:
        """The caller's own membership in each organization."""
        rows = await Membership.filter(user_id=self._user_id, organization_id__in=list(org_ids))
        by_org = {m.organization_id: m for m in rows}
        return [by_org.get(i) for i in org_ids]

    async def _load_user_memberships(self, user_ids: Sequence[UUID]) -> list[list[Membership]]:
        """A user's memberships, limited to organizations the caller belongs to."""
        mine = await self.my_organization_ids()
        rows = await Membership.filter(
            user_id__in=list(user_ids), organization_id__in=mine
        ).order_by("created_at")
        grouped: dict[UUID, list[Membership]] = {i: [] for i in user_ids}
        for m in rows:
            grouped[m.user_id].append(m)
        return [grouped[i] for i in user_ids]
