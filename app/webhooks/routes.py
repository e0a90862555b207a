"""`/api/webhooks/telegram/{gateway_id}`: Telegram's updates in, durably and exactly once.

200 is answered only after the row is committed; a storage failure answers 503 so Telegram
delivers the update again. An acknowledged update is therefore never lost, and a redelivered one
is never stored twice (see `inbox.store_update`).

The route answers POST only (anything else is 405 before any lookup): Telegram never reads it, and
an unauthenticated GET would tell anyone whether a gateway exists and what its status is.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from tortoise.expressions import Q

from app.container import Services
from app.core.ids import parse_uuid
from app.gateways.enums import GatewayStatus, GatewayType
from app.gateways.models import Gateway
from app.webhooks.directory import GatewayEntry
from app.webhooks.inbox import MalformedUpdateError, decode_update, store_update

log = logging.getLogger("app.webhooks")

SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 - a header name
MAX_BODY_BYTES = 1024 * 1024
# A gateway that receives updates is alive; recording that once a minute is plenty.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


def _secret_matches(entry: GatewayEntry, header: str | None) -> bool:
    if entry.secret_hash is None or not header:
        return False
    presented = hashlib.sha256(header.encode()).hexdigest()
    return hmac.compare_digest(presented, entry.secret_hash)


async def telegram_webhook(request: Request) -> Response:
    services: Services = request.app.state.services
    gateway_id = parse_uuid(request.path_params["gateway_id"])
    entry = await services.webhook_directory.get(gateway_id) if gateway_id else None
    if entry is None or entry.type is not GatewayType.TELEGRAM_BOT:
        return PlainTextResponse("Unknown gateway.", status_code=404)
    if not _secret_matches(entry, request.headers.get(SECRET_HEADER)):
        log.warning("webhook.telegram.unauthorized", extra={"gateway_id": str(entry.id)})
        return PlainTextResponse("Invalid secret token.", status_code=401)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return PlainTextResponse("Request body too large.", status_code=413)
    try:
        update = decode_update(body)
    except MalformedUpdateError as exc:
        return PlainTextResponse(f"Malformed update: {exc}", status_code=400)
    try:
        inserted = await store_update(entry.id, update, services.clock.now())
    except Exception:
        # Not acknowledged: Telegram keeps the update and delivers it again.
        log.exception("webhook.telegram.store_failed", extra={"gateway_id": str(entry.id)})
        return PlainTextResponse("Storage unavailable.", status_code=503)
    request.state.duplicate_update = not inserted  # for metrics: app/observability/webhook.py
    try:
        await _mark_alive(services, entry)
    except Exception:
        # The update is stored; bookkeeping about liveness must not turn that into a retry.
        log.exception("webhook.telegram.mark_alive_failed", extra={"gateway_id": str(entry.id)})
    return Response(status_code=200)


async def _mark_alive(services: Services, entry: GatewayEntry) -> None:
    now = services.clock.now()
    if entry.status is GatewayStatus.ERROR:
        # A valid update proves the bot and its webhook work again.
        await services.gateways.status.change(entry.id, GatewayStatus.CONNECTED, cause="webhook")
        services.webhook_directory.invalidate(entry.id)
        return
    if entry.last_connected_at is not None and now - entry.last_connected_at < LAST_SEEN_RESOLUTION:
        return
    cutoff = now - LAST_SEEN_RESOLUTION
    # Conditional, so concurrent requests (and other processes) write it once per minute.
    await Gateway.filter(
        Q(last_connected_at__isnull=True) | Q(last_connected_at__lt=cutoff), id=entry.id
    ).update(last_connected_at=now)
    entry.last_connected_at = now
