"""The one function through which a gateway's status changes, whoever causes it.

Mutations, connect/test, the webhook route, circuit breakers and the health checker all call
`StatusChanger.change`, so every change writes the row, leaves one audit event and publishes one
`GatewayStatusChanged` — nothing can update the status column and forget to tell subscribers.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Protocol
from uuid import UUID

from tortoise.transactions import in_transaction

from app.audit.service import audit
from app.core.clock import Clock
from app.core.ids import uuid7
from app.events.types import GatewayStatusChanged
from app.gateways.enums import GatewayStatus
from app.gateways.models import Gateway
from app.service_context import ServiceContext

log = logging.getLogger("app.gateways")

ERROR_MAX = 1000


class EventPublisher(Protocol):
    async def publish(self, event: GatewayStatusChanged) -> None: ...


class StatusChanger:
    def __init__(self, *, publisher: EventPublisher, clock: Clock) -> None:
        self._publisher = publisher
        self._clock = clock

    async def change(
        self,
        gateway_id: UUID,
        status: GatewayStatus,
        *,
        error: str | None = None,
        ctx: ServiceContext | None = None,
        cause: str,
        only_from: Collection[GatewayStatus] | None = None,
    ) -> Gateway | None:
        """Set the status; returns the row, or None if the gateway no longer exists.

        `cause` says who changed it (mutation, connect, test, webhook, breaker, health_check) and
        goes into the audit record. A change to the same status with the same error is a no-op:
        no write, no audit, no event. With `only_from`, the change happens only if the current
        status (read under the row lock) is one of those: a background verdict formed on an
        older read must not override what a user did meanwhile.
        """
        error = error[:ERROR_MAX] if error and status is GatewayStatus.ERROR else None
        async with in_transaction():
            # The row lock serialises concurrent changes, so `previous` is really the previous.
            gateway = await Gateway.select_for_update().get_or_none(id=gateway_id)
            if gateway is None:
                return None
            previous = gateway.status
            if only_from is not None and previous not in only_from:
                return gateway
            if previous is status and (
                status is not GatewayStatus.ERROR or error == gateway.last_error
            ):
                return gateway
            now = self._clock.now()
            gateway.status = status
            gateway.status_version += 1
            fields = ["status", "status_version", "updated_at"]
            if status is GatewayStatus.CONNECTED:
                gateway.last_connected_at = now
                fields.append("last_connected_at")
            if status is GatewayStatus.ERROR:
                gateway.last_error = error
                gateway.last_error_at = now
                fields += ["last_error", "last_error_at"]
            await gateway.save(update_fields=fields)
            await audit(
                ctx,
                "gateway.status_change",
                gateway_id=gateway.id,
                organization_id=gateway.organization_id,
                scope_user_id=None if gateway.organization_id else gateway.owner_id,
                metadata={
                    "previousStatus": previous.value,
                    "status": status.value,
                    "error": error,
                    "cause": cause,
                },
            )
        # Published only after the commit: a subscriber that re-reads the gateway sees the change.
        event = GatewayStatusChanged(
            gateway_id=gateway.id,
            owner_id=gateway.owner_id,
            organization_id=gateway.organization_id,
            previous_status=previous,
            status=status,
            error=error,
            occurred_at=now,
            event_id=uuid7(),
            version=gateway.status_version,
        )
        await self._publisher.publish(event)
        log.info(
            "gateway.status.changed",
            extra={
                "gateway_id": str(gateway.id),
                "previous": previous.value,
                "status": status.value,
                "cause": cause,
            },
        )
        return gateway
