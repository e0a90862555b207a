"""`WebhookTargetProvider`: a URL of the user's that receives signed JSON deliveries.

Action `send` (params: `payload`, any JSON value, required; `event`, optional string;
`messageId`, optional) POSTs

    {"event": "order.created" | null, "payload": <the JSON value>,
     "gatewayId": "<uuid>", "deliveryId": "<the webhook-id>", "sentAt": "<ISO-8601 UTC>"}

as compact UTF-8 JSON, signed with Standard Webhooks (`webhook-id`, `webhook-timestamp`,
`webhook-signature`; see `signing.py`). It returns `{"status": <HTTP status>, "latencyMs": <int>,
"messageId": "<webhook-id>"}`. A delivery is a write: it is never retried here. A caller that
resends a message passes the `messageId` it got back, so the resend carries the same
`webhook-id` and the receiver can drop the duplicate; without one every send is a new message.

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
import re
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
from app.providers.webhook.signing import new_message_id, signed_headers

logger = logging.getLogger("app.providers.webhook")

UPSTREAM = "the webhook target"
MAX_BODY_BYTES = 1024 * 1024
MAX_EVENT_LENGTH = 200
MAX_MESSAGE_ID_LENGTH = 100
# A header value and part of the signed string: printable, no separators of either.
_MESSAGE_ID = re.compile(r"[A-Za-z0-9_.:-]+", re.ASCII)

_PARAMS = frozenset({"payload", "event", "messageId"})

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

    def _encode(self, gateway: GatewayHandle, params: Mapping[str, Any]) -> tuple[str, bytes]:
        """The message id and the exact body bytes that get signed and sent."""
        errors = [ParamError(key, "unknown parameter") for key in params if key not in _PARAMS]
        message_id = params.get("messageId")
        if message_id is None:
            message_id = new_message_id()
        elif not (
            isinstance(message_id, str)
            and len(message_id) <= MAX_MESSAGE_ID_LENGTH
            and _MESSAGE_ID.fullmatch(message_id)
        ):
            errors.append(
                ParamError(
                    "messageId",
                    f"must be 1 to {MAX_MESSAGE_ID_LENGTH} letters, digits or _ . : -",
                )
            )
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
            "deliveryId": message_id,
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
        return message_id, body

    async def _send(self, gateway: GatewayHandle, params: Mapping[str, Any]) -> dict[str, Any]:
        # Params are checked before the target is resolved: no DNS lookup for a bad request.
        message_id, body = self._encode(gateway, params)
        target = await self._target(gateway)
        headers = {
            "Content-Type": "application/json",
            **signed_headers(target.signing_secret, message_id, self._clock.now(), body),
        }
        log_extra = {"gateway_id": str(gateway.id), "message_id": message_id}
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
        return {"status": response.status_code, "latencyMs": latency_ms, "messageId": message_id}
