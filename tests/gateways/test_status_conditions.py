"""`StatusChanger.change(only_from=...)`: a stale background verdict never overrides a user."""

from __future__ import annotations

from uuid import UUID

from app.audit.models import AuditEvent
from app.gateways.enums import GatewayStatus
from app.gateways.models import Gateway
from tests.support.harness import Harness

CREATE = """mutation($input: CreateGatewayInput!) { createGateway(input: $input) {
  ... on Gateway { id } } }"""


async def _gateway(harness: Harness) -> UUID:
    token = await harness.register("alice@example.com")
    data = await harness.gql(
        CREATE,
        {
            "input": {
                "name": "Hook",
                "type": "WEBHOOK",
                "credentials": {"webhook": {"url": "https://hooks.example.test/in"}},
            }
        },
        token=token,
    )
    return UUID(data["createGateway"]["id"])


async def test_a_change_from_an_unexpected_status_is_skipped(any_harness: Harness) -> None:
    gateway_id = await _gateway(any_harness)
    status = any_harness.services.gateways.status
    audits = await AuditEvent.filter(gateway_id=gateway_id).count()

    # The gateway is DISCONNECTED: a checker's "ERROR" formed while it was live must not land.
    await status.change(
        gateway_id,
        GatewayStatus.ERROR,
        error="late verdict",
        cause="health_check",
        only_from=(GatewayStatus.CONNECTED, GatewayStatus.ERROR),
    )

    row = await Gateway.get(id=gateway_id)
    assert row.status is GatewayStatus.DISCONNECTED
    assert row.last_error is None
    assert await AuditEvent.filter(gateway_id=gateway_id).count() == audits


async def test_a_change_from_an_expected_status_happens(any_harness: Harness) -> None:
    gateway_id = await _gateway(any_harness)
    status = any_harness.services.gateways.status

    await status.change(gateway_id, GatewayStatus.CONNECTED, cause="test")
    await status.change(
        gateway_id,
        GatewayStatus.ERROR,
        error="upstream down",
        cause="health_check",
        only_from=(GatewayStatus.CONNECTED, GatewayStatus.ERROR),
    )

    row = await Gateway.get(id=gateway_id)
    assert row.status is GatewayStatus.ERROR
    assert row.last_error == "upstream down"
