"""How a gateway leaves an open circuit: reset, disconnect, and the status it reports."""

from __future__ import annotations

from app.core.clock import FakeClock
from tests.gateways.test_lifecycle import (
    DISCONNECT,
    RESET,
    TELEGRAM_RESET_TIMEOUT,
    TEST,
    FakeTelegram,
    audit_trail,
    clock,
    connected_telegram,
    fail,
    gateway,
    harness,
    mutate,
    open_circuit,
    telegram,
    token,
    wait_for_status,
)
from tests.support.harness import Harness

EXECUTE_GET_ME = """mutation($id: ID!) { executeGatewayAction(id: $id, action: "getMe") {
  __typename ... on GatewayActionResult { gateway { id status } } } }"""

__all__ = ["clock", "harness", "telegram", "token"]  # fixtures shared with test_lifecycle


async def test_resetting_an_open_circuit_brings_the_gateway_back(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await connected_telegram(harness, token)
    await open_circuit(harness, telegram, token, gateway_id)
    await wait_for_status(harness, token, gateway_id, "ERROR")

    result = await mutate(harness, RESET, {"id": gateway_id}, token)

    assert result["__typename"] == "Gateway"
    current = await wait_for_status(harness, token, gateway_id, "CONNECTED")
    assert current["circuit"]["state"] == "CLOSED"


async def test_a_failed_test_keeps_its_error_after_a_reset(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await connected_telegram(harness, token)
    telegram.answer("getMe", lambda _: fail(401, "Unauthorized"))
    tested = await mutate(harness, TEST, {"id": gateway_id}, token)
    assert tested["success"] is False

    await mutate(harness, RESET, {"id": gateway_id}, token)

    # The breaker undoes only the ERROR it caused itself; a bad token stays reported.
    current = await gateway(harness, token, gateway_id)
    assert current["status"] == "ERROR"
    assert current["lastError"].startswith("AUTH_INVALID")


async def test_testing_while_the_circuit_is_open_keeps_the_cause(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await connected_telegram(harness, token)
    await open_circuit(harness, telegram, token, gateway_id)
    before = await wait_for_status(harness, token, gateway_id, "ERROR")

    tested = await mutate(harness, TEST, {"id": gateway_id}, token)

    assert tested["success"] is False
    after = await gateway(harness, token, gateway_id)
    assert after["lastError"] == before["lastError"]
    assert after["lastError"].startswith("circuit open: UNAVAILABLE")


async def test_a_gateway_with_an_open_circuit_can_still_be_disconnected(
    harness: Harness, telegram: FakeTelegram, token: str
) -> None:
    gateway_id = await connected_telegram(harness, token)
    await open_circuit(harness, telegram, token, gateway_id)
    reached = len(telegram.calls)

    result = await mutate(harness, DISCONNECT, {"id": gateway_id}, token)

    assert result["__typename"] == "Gateway"
    assert result["status"] == "DISCONNECTED"
    assert len(telegram.calls) == reached  # the open circuit kept the upstream out of it
    trail = await audit_trail(harness, token, gateway_id)
    assert ("gateway.disconnect", {"upstreamCleaned": False}) in trail


async def test_the_probe_that_closes_the_circuit_reports_the_new_status(
    harness: Harness, telegram: FakeTelegram, token: str, clock: FakeClock
) -> None:
    gateway_id = await connected_telegram(harness, token)
    await open_circuit(harness, telegram, token, gateway_id)
    await wait_for_status(harness, token, gateway_id, "ERROR")
    telegram.heal()
    clock.advance(TELEGRAM_RESET_TIMEOUT + 1)

    probes = [await mutate(harness, EXECUTE_GET_ME, {"id": gateway_id}, token) for _ in range(3)]

    # The third successful probe closes the circuit; its own result already says CONNECTED.
    assert [p["gateway"]["status"] for p in probes] == ["ERROR", "ERROR", "CONNECTED"]
