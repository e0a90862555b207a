"""`WebhookTargetProvider`: signed deliveries, answer mapping, the SSRF guard, health probes."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from app.core.clock import FakeClock
from app.core.http import Timeouts
from app.gateways.enums import GatewayType
from app.providers.base import (
    ActionParamsError,
    AuthInvalidError,
    BadRequestError,
    ConnectResult,
    GatewayHandle,
    ParamError,
    PermissionDeniedError,
    Provider,
    ProviderError,
    RateLimitedError,
    UnavailableError,
    UnsupportedActionError,
    UpstreamTimeoutError,
)
from app.providers.webhook.provider import WebhookTargetProvider
from tests.providers.webhook.conftest import (
    GATEWAY_ID,
    SIGNING_SECRET,
    FakeDNS,
    FakeTarget,
    MakeProvider,
    make_gateway,
)

NOW = 1767225600  # FakeClock's start, 2026-01-01T00:00:00Z


def test_it_is_a_provider(provider: WebhookTargetProvider) -> None:
    as_protocol: Provider = provider
    assert as_protocol.type is GatewayType.WEBHOOK
    assert provider.name == "Webhook"
    assert provider.ai_providers == ()
    assert [a.name for a in provider.actions] == ["send"]


# --- send --------------------------------------------------------------------------------------


async def test_send_posts_a_signed_delivery(
    provider: WebhookTargetProvider, gateway: GatewayHandle, target: FakeTarget
) -> None:
    target.latency = 0.123
    result = await provider.execute(
        gateway, "send", {"event": "order.created", "payload": {"id": 7, "name": "caf\u00e9"}}
    )
    [request] = target.requests
    message_id = request.headers["webhook-id"]
    assert result == {"status": 200, "latencyMs": 123, "messageId": message_id}
    assert request.method == "POST"
    assert str(request.url) == "https://hooks.example.com/in/T0SECRETPATH?key=abc"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["webhook-timestamp"] == str(NOW)
    body = request.content
    expected = Webhook(SIGNING_SECRET).sign(
        message_id, datetime.fromtimestamp(NOW, tz=UTC), body.decode()
    )
    assert request.headers["webhook-signature"] == expected
    for old in ("X-Gateway-Signature", "X-Gateway-Timestamp", "X-Gateway-Delivery"):
        assert old not in request.headers  # the scheme of our own is gone
    document = json.loads(body)
    assert document == {
        "event": "order.created",
        "payload": {"id": 7, "name": "caf\u00e9"},
        "gatewayId": str(GATEWAY_ID),
        "deliveryId": message_id,
        "sentAt": "2026-01-01T00:00:00+00:00",
    }
    assert message_id.startswith("msg_")
    assert "caf\u00e9".encode() in body  # compact UTF-8, not \\u escapes


async def test_send_without_a_secret_is_unsigned(
    provider: WebhookTargetProvider, target: FakeTarget
) -> None:
    gateway = make_gateway(signing_secret=None)
    await provider.execute(gateway, "send", {"payload": None})
    [request] = target.requests
    assert "webhook-signature" not in request.headers
    assert request.headers["webhook-timestamp"] == str(NOW)
    assert json.loads(request.content)["event"] is None


async def test_each_delivery_has_its_own_id(
    provider: WebhookTargetProvider, gateway: GatewayHandle, target: FakeTarget
) -> None:
    await provider.execute(gateway, "send", {"payload": 1})
    await provider.execute(gateway, "send", {"payload": 1})
    ids = {r.headers["webhook-id"] for r in target.requests}
    assert len(ids) == 2


async def test_a_resend_with_the_message_id_is_the_same_message(
    provider: WebhookTargetProvider, gateway: GatewayHandle, target: FakeTarget
) -> None:
    target.reply(httpx.Response(503))
    with pytest.raises(UnavailableError):
        await provider.execute(gateway, "send", {"payload": 1, "messageId": "msg_order_7"})
    result = await provider.execute(gateway, "send", {"payload": 1, "messageId": "msg_order_7"})
    assert result["messageId"] == "msg_order_7"
    assert [r.headers["webhook-id"] for r in target.requests] == ["msg_order_7"] * 2
    assert {json.loads(r.content)["deliveryId"] for r in target.requests} == {"msg_order_7"}


async def test_a_receiver_verifies_a_delivery_with_the_standard_webhooks_library(
    http: httpx.AsyncClient, target: FakeTarget, dns: FakeDNS
) -> None:
    live = WebhookTargetProvider(
        http,
        timeouts=Timeouts(),
        allow_private_targets=False,
        clock=FakeClock(datetime.now(UTC)),  # the library checks against the real clock
        resolve=dns,
    )
    await live.execute(make_gateway(), "send", {"event": "e", "payload": {"id": 7}})
    [request] = target.requests
    headers = dict(request.headers)
    verified = Webhook(SIGNING_SECRET).verify(request.content, headers)
    assert verified["payload"] == {"id": 7}
    with pytest.raises(WebhookVerificationError):
        Webhook(SIGNING_SECRET).verify(request.content.replace(b"7", b"8"), headers)


async def test_a_delivery_signed_long_ago_fails_verification(
    provider: WebhookTargetProvider, gateway: GatewayHandle, target: FakeTarget
) -> None:
    # `provider` runs on a clock fixed at 2026-01-01: its signature is as old as that.
    await provider.execute(gateway, "send", {"payload": 1})
    [request] = target.requests
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(SIGNING_SECRET).verify(request.content, dict(request.headers))


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({}, [ParamError("payload", "is required")]),
        ({"payload": 1, "extra": 2}, [ParamError("extra", "unknown parameter")]),
        (
            {"payload": 1, "event": 5},
            [ParamError("event", "must be a non-blank string of at most 200")],
        ),
        (
            {"payload": 1, "event": " "},
            [ParamError("event", "must be a non-blank string of at most 200")],
        ),
        (
            {"payload": 1, "event": "e" * 201},
            [ParamError("event", "must be a non-blank string of at most 200")],
        ),
        *(
            (
                {"payload": 1, "messageId": bad},
                [ParamError("messageId", "must be 1 to 100 letters, digits or _ . : -")],
            )
            for bad in ["", "a b", "msg\r\nX-Injected: 1", "m" * 101, 7, "msg_\u00e9"]
        ),
        ({"payload": float("nan")}, [ParamError("payload", "must be a JSON value")]),
        ({"payload": {1, 2}}, [ParamError("payload", "must be a JSON value")]),
        (
            {"payload": "x" * (1024 * 1024)},
            [ParamError("payload", "the delivery exceeds 1048576 bytes")],
        ),
    ],
)
async def test_param_errors_are_raised_before_resolving_or_sending(
    provider: WebhookTargetProvider,
    gateway: GatewayHandle,
    target: FakeTarget,
    dns: FakeDNS,
    params: dict[str, Any],
    errors: list[ParamError],
) -> None:
    with pytest.raises(ActionParamsError) as info:
        await provider.execute(gateway, "send", params)
    assert info.value.errors == errors
    assert target.requests == []
    assert dns.asked == []


async def test_unsupported_action(provider: WebhookTargetProvider, gateway: GatewayHandle) -> None:
    with pytest.raises(UnsupportedActionError) as info:
        await provider.execute(gateway, "post", {"payload": 1})
    assert info.value.supported == ["send"]


@pytest.mark.parametrize("status", [200, 201, 202, 204])
async def test_2xx_is_success(
    provider: WebhookTargetProvider, gateway: GatewayHandle, target: FakeTarget, status: int
) -> None:
    target.reply(httpx.Response(status))
    result = await provider.execute(gateway, "send", {"payload": 1})
    assert result["status"] == status


@pytest.mark.parametrize(
    ("reply", "expected", "retry_after"),
    [
        (httpx.Response(301, headers={"Location": "http://10.0.0.1/"}), BadRequestError, None),
        (httpx.Response(307, headers={"Location": "/elsewhere"}), BadRequestError, None),
        (httpx.Response(401), AuthInvalidError, None),
        (httpx.Response(403), PermissionDeniedError, None),
        (httpx.Response(429, headers={"Retry-After": "30"}), RateLimitedError, 30.0),
        (
            httpx.Response(429, headers={"Retry-After": "Thu, 01 Jan 2026 00:01:00 GMT"}),
            RateLimitedError,
            60.0,
        ),
        (httpx.Response(429), RateLimitedError, None),
        (httpx.Response(400), BadRequestError, None),
        (httpx.Response(404), BadRequestError, None),
        (httpx.Response(422), BadRequestError, None),
        (httpx.Response(500), UnavailableError, None),
        (httpx.Response(503, headers={"Retry-After": "5"}), UnavailableError, None),
        (httpx.ReadTimeout("timed out"), UpstreamTimeoutError, None),
        (httpx.ConnectError("connection refused"), UnavailableError, None),
    ],
)
async def test_target_answers_are_mapped_and_never_retried(
    provider: WebhookTargetProvider,
    gateway: GatewayHandle,
    target: FakeTarget,
    caplog: pytest.LogCaptureFixture,
    reply: httpx.Response | Exception,
    expected: type[ProviderError],
    retry_after: float | None,
) -> None:
    caplog.set_level(logging.WARNING, logger="app.providers.webhook")
    target.reply(reply)
    with pytest.raises(expected) as info:
        await provider.execute(gateway, "send", {"payload": 1})
    assert type(info.value) is expected
    assert info.value.retry_after == retry_after
    assert len(target.requests) == 1  # a delivery is a write; redirects are not followed
    assert "SECRETPATH" not in str(info.value)
    assert [r.getMessage() for r in caplog.records] == ["webhook.send.failed"]


async def test_a_redirect_says_so(
    provider: WebhookTargetProvider, gateway: GatewayHandle, target: FakeTarget
) -> None:
    target.reply(httpx.Response(302, headers={"Location": "https://elsewhere.example/"}))
    with pytest.raises(BadRequestError, match="redirects are not followed"):
        await provider.execute(gateway, "send", {"payload": 1})


# --- the SSRF guard ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://10.1.2.3/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "ftp://example.com/hook",
    ],
)
async def test_internal_targets_are_refused_without_a_request(
    provider: WebhookTargetProvider, target: FakeTarget, url: str
) -> None:
    gateway = make_gateway(url=url)
    with pytest.raises(BadRequestError) as info:
        await provider.execute(gateway, "send", {"payload": 1})
    assert not info.value.counts_as_breaker_failure
    with pytest.raises(BadRequestError):
        await provider.check_health(gateway)
    assert target.requests == []


async def test_a_host_resolving_to_a_private_address_is_refused(
    provider: WebhookTargetProvider, gateway: GatewayHandle, target: FakeTarget, dns: FakeDNS
) -> None:
    dns.answers = ["192.168.0.10"]  # DNS changed after the URL was accepted
    with pytest.raises(BadRequestError, match="private address"):
        await provider.execute(gateway, "send", {"payload": 1})
    assert dns.asked == ["hooks.example.com"]
    assert target.requests == []


async def test_an_unresolvable_host_is_refused(
    provider: WebhookTargetProvider, gateway: GatewayHandle, dns: FakeDNS
) -> None:
    dns.answers = []
    with pytest.raises(BadRequestError, match="cannot resolve host"):
        await provider.check_health(gateway)


async def test_private_targets_can_be_allowed(
    make_provider: MakeProvider, target: FakeTarget
) -> None:
    provider = make_provider(allow_private_targets=True)
    gateway = make_gateway(url="http://10.1.2.3:9000/hook")
    result = await provider.execute(gateway, "send", {"payload": 1})
    assert (result["status"], result["latencyMs"]) == (200, 0)
    with pytest.raises(BadRequestError, match="metadata"):
        await provider.execute(make_gateway(url="http://169.254.169.254/"), "send", {"payload": 1})
    assert len(target.requests) == 1


# --- validate, connect, disconnect, health -----------------------------------------------------


@pytest.mark.parametrize("status", [200, 204, 401, 404])
async def test_an_answer_a_delivery_could_get_past_is_healthy(
    provider: WebhookTargetProvider, gateway: GatewayHandle, target: FakeTarget, status: int
) -> None:
    target.reply(httpx.Response(status))
    result = await provider.check_health(gateway)
    assert result.details == {"status": status}
    assert target.methods() == ["HEAD"]
    assert "webhook-signature" not in target.requests[0].headers


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("check", ["validate_credentials", "check_health", "connect"])
async def test_a_redirecting_target_fails_its_test_as_its_deliveries_would(
    provider: WebhookTargetProvider,
    gateway: GatewayHandle,
    target: FakeTarget,
    status: int,
    check: str,
) -> None:
    # testGateway runs validate_credentials: a target that redirects used to pass it while every
    # delivery to it failed, because redirects are never followed.
    target.reply(httpx.Response(status, headers={"Location": "https://elsewhere.example/"}))
    with pytest.raises(BadRequestError, match="redirects are not followed") as probed:
        await getattr(provider, check)(gateway)
    assert probed.value.upstream_status == status

    target.reply(httpx.Response(status, headers={"Location": "https://elsewhere.example/"}))
    with pytest.raises(BadRequestError) as sent:
        await provider.execute(gateway, "send", {"payload": 1})
    assert (sent.value.code, sent.value.message) == (probed.value.code, probed.value.message)


async def test_a_throttling_target_fails_its_test_with_the_wait(
    provider: WebhookTargetProvider, gateway: GatewayHandle, target: FakeTarget
) -> None:
    target.reply(httpx.Response(429, headers={"Retry-After": "12"}))
    with pytest.raises(RateLimitedError) as info:
        await provider.validate_credentials(gateway)
    assert info.value.retry_after == 12


@pytest.mark.parametrize("refusal", [405, 501])
async def test_head_falls_back_to_get(
    provider: WebhookTargetProvider, gateway: GatewayHandle, target: FakeTarget, refusal: int
) -> None:
    target.reply(httpx.Response(refusal), httpx.Response(200, text="hello"))
    result = await provider.validate_credentials(gateway)
    assert result.details == {"status": 200}
    assert target.methods() == ["HEAD", "GET"]


async def test_a_5xx_is_unhealthy(
    provider: WebhookTargetProvider, gateway: GatewayHandle, target: FakeTarget
) -> None:
    target.reply(httpx.Response(405), httpx.Response(503))
    with pytest.raises(UnavailableError, match=r"HTTP 503") as info:
        await provider.check_health(gateway)
    assert info.value.upstream_status == 503


async def test_an_unreachable_target_is_unhealthy(
    provider: WebhookTargetProvider, gateway: GatewayHandle, target: FakeTarget
) -> None:
    target.reply(httpx.ConnectTimeout("timed out"))
    with pytest.raises(UpstreamTimeoutError, match="the webhook target did not answer in time"):
        await provider.check_health(gateway)


async def test_connect_probes_and_changes_nothing(
    provider: WebhookTargetProvider, gateway: GatewayHandle, target: FakeTarget
) -> None:
    assert await provider.connect(gateway) == ConnectResult()
    assert target.methods() == ["HEAD"]


async def test_disconnect_makes_no_call(
    provider: WebhookTargetProvider, gateway: GatewayHandle, target: FakeTarget, dns: FakeDNS
) -> None:
    await provider.disconnect(gateway)
    assert target.requests == []
    assert dns.asked == []


async def test_latency_uses_the_monotonic_clock(
    provider: WebhookTargetProvider, gateway: GatewayHandle, target: FakeTarget
) -> None:
    target.latency = 2.5
    result = await provider.execute(gateway, "send", {"payload": [1, 2]})
    assert result["latencyMs"] == 2500
