"""Gateway CRUD and queries. Every query is scoped to the caller's tenant.

Lifecycle operations that talk to upstreams (connect, test, execute) live in `lifecycle.py`; the
status column changes only through `status.StatusChanger`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from app.audit.service import audit
from app.auth.models import User
from app.core.ids import uuid7
from app.errors import FieldIssue, NotFoundError, QuotaExceededError, ValidationFailedError
from app.gateways.enums import GatewayStatus, GatewayType
from app.gateways.inputs import (
    CreateGatewayInput,
    UpdateGatewayInput,
    check_config,
    check_credentials,
    check_name,
)
from app.gateways.models import Gateway
from app.gateways.status import StatusChanger
from app.gateways.vault import CredentialVault
from app.organizations.models import Organization
from app.service_context import ServiceContext

log = logging.getLogger("app.gateways")

MAX_PAGE_SIZE = 100
SEARCH_MAX = 100

# Called after a gateway is deleted or its credentials replaced (drops its circuit breaker,
# its cached webhook secret...). Registered by the lifespan; the service does not know who listens.
GatewayHook = Callable[[Gateway], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class GatewayFilter:
    type: GatewayType | None = None
    status: GatewayStatus | None = None
    search: str | None = None


@dataclass(frozen=True, slots=True)
class GatewayPage:
    items: list[Gateway]
    total: int
    page: int
    page_size: int


def scoped(ctx: ServiceContext) -> QuerySet[Gateway]:
    """All gateways the context may see: the organization's, or the user's personal ones."""
    if ctx.organization_id is not None:
        return Gateway.filter(organization_id=ctx.organization_id)
    return Gateway.filter(owner_id=ctx.user_id, organization_id=None)


class GatewayService:
    def __init__(
        self,
        *,
        vault: CredentialVault,
        status: StatusChanger,
        max_per_tenant: int = 0,
        allow_private_targets: bool = True,
    ) -> None:
        self.vault = vault
        self.status = status
        self._max_per_tenant = max_per_tenant
        # ALLOW_PRIVATE_NETWORK_TARGETS: URLs that could never be called are refused on save.
        self._allow_private_targets = allow_private_targets
        self._on_credentials_dropped: list[GatewayHook] = []

    def on_credentials_dropped(self, hook: GatewayHook) -> None:
        self._on_credentials_dropped.append(hook)

    async def _notify_dropped(self, gateway: Gateway) -> None:
        for hook in self._on_credentials_dropped:
            await hook(gateway)

    # ---------------------------------------------------------------- queries

    async def get(self, ctx: ServiceContext, gateway_id: UUID | None) -> Gateway | None:
        if gateway_id is None:
            return None
        return await scoped(ctx).get_or_none(id=gateway_id)

    async def require(self, ctx: ServiceContext, gateway_id: UUID | None) -> Gateway:
        gateway = await self.get(ctx, gateway_id)
        if gateway is None:
            raise NotFoundError("Gateway not found.")
        return gateway

    async def list(
        self, ctx: ServiceContext, filter: GatewayFilter, page: int, page_size: int
    ) -> GatewayPage:
        issues = []
        if page < 1:
            issues.append(FieldIssue("page", "Must be 1 or more."))
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            issues.append(FieldIssue("pageSize", f"Must be between 1 and {MAX_PAGE_SIZE}."))
        if filter.search is not None and len(filter.search) > SEARCH_MAX:
            issues.append(FieldIssue("filter.search", f"Use at most {SEARCH_MAX} characters."))
        if issues:
            raise ValidationFailedError(issues)
        query = scoped(ctx)
        if filter.type is not None:
            query = query.filter(type=filter.type)
        if filter.status is not None:
            query = query.filter(status=filter.status)
        if filter.search and filter.search.strip():
            query = query.filter(Q(name__icontains=filter.search.strip()))
        total = await query.count()
        # uuid7 ids are time-ordered: the id breaks ties between rows created in the same instant.
        items = (
            await query.order_by("-created_at", "-id")
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
        return GatewayPage(items=list(items), total=total, page=page, page_size=page_size)

    # ---------------------------------------------------------------- writes

    async def create(self, ctx: ServiceContext, data: CreateGatewayInput) -> Gateway:
        ctx.require_write("create gateways")
        issues: list[FieldIssue] = []
        name = check_name(data.name, issues)
        credentials = check_credentials(
            data.type,
            data.credentials,
            issues,
            allow_private_targets=self._allow_private_targets,
        )
        config = check_config(data.config, issues)
        if issues or credentials is None:
            raise ValidationFailedError(issues)
        # The id is chosen before the insert because it is the ciphertext's associated data.
        gateway_id = uuid7()
        ciphertext, key_id = self.vault.seal(gateway_id, credentials)
        async with in_transaction():
            if self._max_per_tenant:
                await self._check_quota(ctx)
            gateway = await Gateway.create(
                id=gateway_id,
                owner_id=ctx.user_id,
                organization_id=ctx.organization_id,
                name=name,
                type=data.type,
                credentials_ciphertext=ciphertext,
                credentials_key_id=key_id,
                config=config or {},
            )
            await audit(
                ctx,
                "gateway.create",
                gateway_id=gateway.id,
                metadata={"type": data.type.value, "name": name},
            )
        log.info("gateway.create.succeeded", extra={"gateway_id": str(gateway.id)})
        return gateway

    async def _check_quota(self, ctx: ServiceContext) -> None:
        """Inside the create transaction: count under a lock on the scope's row (the organization,
        or the user for the personal scope), so concurrent creates cannot all pass the check."""
        if ctx.organization_id is not None:
            await Organization.select_for_update(no_key=True).get_or_none(id=ctx.organization_id)
        else:
            await User.select_for_update(no_key=True).get_or_none(id=ctx.user_id)
        if await scoped(ctx).count() >= self._max_per_tenant:
            raise QuotaExceededError(
                f"This scope already has the maximum of {self._max_per_tenant} gateways.",
                self._max_per_tenant,
            )

    async def update(
        self, ctx: ServiceContext, gateway_id: UUID | None, data: UpdateGatewayInput
    ) -> Gateway:
        # Scope first, role second: a gateway of another scope is "not found", never "forbidden".
        await self.require(ctx, gateway_id)
        ctx.require_write("change gateways")
        issues: list[FieldIssue] = []
        name = check_name(data.name, issues) if data.name is not None else None
        config = check_config(data.config, issues)
        async with in_transaction():
            # Locked re-read: two concurrent updates apply one after the other, never interleave.
            gateway = await scoped(ctx).select_for_update().get_or_none(id=gateway_id)
            if gateway is None:
                raise NotFoundError("Gateway not found.")
            credentials = (
                check_credentials(
                    gateway.type,
                    data.credentials,
                    issues,
                    allow_private_targets=self._allow_private_targets,
                )
                if data.credentials is not None
                else None
            )
            if issues:
                raise ValidationFailedError(issues)
            fields = ["updated_at"]
            if name is not None and name != gateway.name:
                gateway.name = name
                fields.append("name")
            if config is not None:
                gateway.config = config
                fields.append("config")
            previous_status = gateway.status
            if credentials is not None:
                gateway.credentials_ciphertext, gateway.credentials_key_id = self.vault.seal(
                    gateway.id, credentials
                )
                # New credentials are unproven: the gateway must be connected again.
                gateway.webhook_secret_hash = None
                fields += ["credentials_ciphertext", "credentials_key_id", "webhook_secret_hash"]
            await gateway.save(update_fields=fields)
            await audit(
                ctx,
                "gateway.update",
                gateway_id=gateway.id,
                metadata={
                    "nameChanged": "name" in fields,
                    "credentialsChanged": credentials is not None,
                    "configChanged": config is not None,
                },
            )
        if credentials is not None:
            await self._notify_dropped(gateway)
            if previous_status is not GatewayStatus.DISCONNECTED:
                changed = await self.status.change(
                    gateway.id, GatewayStatus.DISCONNECTED, ctx=ctx, cause="credentials_changed"
                )
                gateway = changed or gateway
        return gateway

    async def set_status(
        self,
        ctx: ServiceContext,
        gateway_id: UUID | None,
        status: GatewayStatus,
        error: str | None,
    ) -> Gateway:
        await self.require(ctx, gateway_id)
        ctx.require_write("change gateway status")
        if error is not None and len(error) > 1000:
            raise ValidationFailedError([FieldIssue("error", "Use at most 1000 characters.")])
        assert gateway_id is not None
        gateway = await self.status.change(
            gateway_id, status, error=error, ctx=ctx, cause="mutation"
        )
        if gateway is None:
            raise NotFoundError("Gateway not found.")
        return gateway

    async def delete(self, ctx: ServiceContext, gateway_id: UUID | None) -> UUID:
        gateway = await self.require(ctx, gateway_id)
        ctx.require_write("delete gateways")
        async with in_transaction():
            await audit(
                ctx,
                "gateway.delete",
                gateway_id=gateway.id,
                metadata={"type": gateway.type.value, "name": gateway.name},
            )
            await Gateway.filter(id=gateway.id).delete()
        await self._notify_dropped(gateway)
        log.info("gateway.delete.succeeded", extra={"gateway_id": str(gateway.id)})
        return gateway.id
