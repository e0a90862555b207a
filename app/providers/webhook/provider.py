"""`WebhookTargetProvider`: a URL of the user's that receives signed JSON deliveries.

Action `send` (params: `payload`, any JSON value, required; `event`, optional string) POSTs

    {"event": "order.created" | null, "payload": <the JSON value>,
     "gatewayId": "<uuid>", "deliveryId": "<uuid4, for the receiver's dedup>",
     "sentAt": "<ISO-8601 UTC>"}

as compact UTF-8 JSON with `X-Gateway-Timestamp`, `X-Gateway-Delivery` and, when the gateway has
a signing secret, `X-Gateway-Signature` (see `signing.py`). It returns
`{"status": <HTTP status>, "latencyMs": <int>}`. A delivery is a write: it is never retried here.

Every call first checks the target with `ensure_public_target` (the URL is the user's, and DNS can
change after it was accepted), redirects are never followed, and the target's body is never read.
A health probe is `HEAD`, or `GET` when the target does not do HEAD. Its answer is judged as a
delivery's would be (`errors.py`) for redirects, 429 and 5xx, so a target that redirects fails
its test as it would fail every delivery; any other answer means something is listening and
answering, which is all an unsigned probe of a generic target can promise.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from app.core.clock import Clock
from app.core.http import Timeouts, send_discarding_body
from app.core.outbound import Resolver, UnsafeTargetError, ensure_public_target
from app.gateways.credentials import WebhookCredentials
from app.gateways.enums import AIProvider, GatewayType
from app.providers.base import (
    ActionParamsError,
    ActionSpec,
    BadRequestError,
    CheckResult,
    ConnectResult,
    GatewayHandle,
    ParamError,
    ProviderError,
    UnsupportedActionError,
)
from app.providers.webhook.errors import error_for_status
from app.providers.webhook.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

logger = logging.getLogger("app.providers.webhook")

UPSTREAM = "the webhook target"
DELIVERY_HEADER = "X-Gateway-Delivery"
MAX_BODY_BYTES = 1024 * 1024
MAX_EVENT_LENGTH = 200

_PARAMS = frozenset({"payload", "event"})

ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("send", "POST a signed JSON delivery (payload, optional event) to the target."),
)


class WebhookTargetProvider:
    type: GatewayType = GatewayType.WEBHOOK
    name: str = "Webhook"
    description: str = "An HTTPS endpoint of yours that receives signed JSON deliveries."
    actions: Sequence[ActionSpec] = ACTIONS
    ai_providers: Sequence[AIProvider] = ()

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        timeouts: Timeouts,
        allow_private_targets: bool,
        clock: Clock,
        resolve: Resolver | None = None,
    ) -> None:
        self._http = client
        self._timeout = timeouts.default()
        self._allow_private = allow_private_targets
        self._clock = clock
        self._resolve = resolve  # None: the system resolver; tests inject a fake one

    async def _target(self, gateway: GatewayHandle) -> WebhookCredentials:
        credentials = gateway.credentials
        if not isinstance(credentials, WebhookCredentials):
            raise TypeError(f"gateway {gateway.id} does not hold webhook credentials")
        try:
            await ensure_public_target(
                credentials.url, allow_private=self._allow_private, resolve=self._resolve
            )
        except UnsafeTargetError as exc:
            # The user's URL, not the upstream's health: a bad request, never a breaker failure.
            raise BadRequestError(str(exc)) from exc
        return credentials

    async def _probe(self, gateway: GatewayHandle) -> CheckResult:
        target = await self._target(gateway)
        response = await send_discarding_body(
            self._http, "HEAD", target.url, upstream=UPSTREAM, timeout=self._timeout
        )
        if response.status_code in (405, 501):  # HEAD not supported: ask with GET instead
            response = await send_discarding_body(
                self._http, "GET", target.url, upstream=UPSTREAM, timeout=self._timeout
            )
        status = response.status_code
        # Judged like a delivery's answer wherever the status means the same for a probe: a
        # redirect (never followed, so every delivery would fail), throttling and failures.
        # Other 4xx stay a pass: an unsigned HEAD/GET may well be refused (401, 404, 405) by a
        # target that accepts our signed POSTs.
        if 300 <= status < 400 or status == 429 or status >= 500:
            error = error_for_status(response, now=self._clock.now())
            if error is not None:
                raise error
        return CheckResult(details={"status": status})

    async def validate_credentials(self, gateway: GatewayHandle) -> CheckResult:
        return await self._probe(gateway)

    async def connect(self, gateway: GatewayHandle) -> ConnectResult:
        await self._probe(gateway)
        return ConnectResult()

    async def disconnect(self, gateway: GatewayHandle) -> None:
        """Nothing to undo upstream: the target holds no registration of ours."""

    async def check_health(self, gateway: GatewayHandle) -> CheckResult:
        return await self._probe(gateway)

    async def execute(
        self, gateway: GatewayHandle, action: str, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        if action != "send":
            raise UnsupportedActionError(action, [spec.name for spec in self.actions])
        return await self._send(gateway, params)

    def _encode(self, gateway: GatewayHandle, params: Mapping[str, Any], delivery_id: str) -> bytes:
        errors = [ParamError(key, "unknown parameter") for key in params if key not in _PARAMS]
        if "payload" not in params:
            errors.append(ParamError("payload", "is required"))
        event = params.get("event")
        if event is not None and (
            not isinstance(event, str) or not event.strip() or len(event) > MAX_EVENT_LENGTH
        ):
            errors.append(
                ParamError("event", f"must be a non-blank string of at most {MAX_EVENT_LENGTH}")
            )
        if errors:
            raise ActionParamsError(errors)
        document = {
            "event": event,
            "payload": params["payload"],
            "gatewayId": str(gateway.id),
            "deliveryId": delivery_id,
            "sentAt": self._clock.now().isoformat(),
        }
        try:
            body = json.dumps(
                document, separators=(",", ":"), ensure_ascii=False, allow_nan=False
            ).encode()
        except (TypeError, ValueError) as exc:  # NaN, Infinity, or a non-JSON Python object
            raise ActionParamsError([ParamError("payload", "must be a JSON value")]) from exc
        if len(body) > MAX_BODY_BYTES:
            raise ActionParamsError(
                [ParamError("payload", f"the delivery exceeds {MAX_BODY_BYTES} bytes")]
            )
        return body

    async def _send(self, gateway: GatewayHandle, params: Mapping[str, Any]) -> dict[str, Any]:
        delivery_id = str(uuid.uuid4())
        # Params are checked before the target is resolved: no DNS lookup for a bad request.
        body = self._encode(gateway, params, delivery_id)
        target = await self._target(gateway)
        timestamp = int(self._clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(timestamp),
            DELIVERY_HEADER: delivery_id,
        }
        if target.signing_secret:
            headers[SIGNATURE_HEADER] = sign(target.signing_secret, timestamp, body)
        log_extra = {"gateway_id": str(gateway.id), "delivery_id": delivery_id}
        started = self._clock.monotonic()
        try:
            response = await send_discarding_body(
                self._http,
                "POST",
                target.url,
                upstream=UPSTREAM,
                timeout=self._timeout,
                content=body,
                headers=headers,
            )
            latency_ms = round((self._clock.monotonic() - started) * 1000)
            error = error_for_status(response, now=self._clock.now())
            if error is not None:
                raise error
        except ProviderError as exc:
            logger.warning(
                "webhook.send.failed",
                extra={**log_extra, "code": exc.code, "upstream_status": exc.upstream_status},
            )
            raise
        logger.info("webhook.send.succeeded", extra={**log_extra, "status": response.status_code})
        return {"status": response.status_code, "latencyMs": latency_ms}
