"""Metrics and a span around the Telegram webhook route, from outside it.

The route answers each outcome with its own status (see `app.webhooks.routes`); only "stored"
and "duplicate" share the 200, and the route tells them apart in `request.state.duplicate_update`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from app.observability.metrics import Metrics

if TYPE_CHECKING:
    from app.observability.tracing import Tracing

Endpoint = Callable[[Request], Awaitable[Response]]

# Status → (outcome, reason). A refused update is the sender's fault and is not redelivered
# usefully; a failed one (503) is redelivered by Telegram.
_BY_STATUS: dict[int, tuple[str, str]] = {
    400: ("refused", "malformed"),
    401: ("refused", "bad_secret"),
    404: ("refused", "unknown_gateway"),
    413: ("refused", "too_large"),
    503: ("failed", "storage_unavailable"),
}


def webhook_outcome(request: Request, status: int | None) -> tuple[str, str]:
    if status is None:
        return "failed", "error"
    if 200 <= status < 300:
        duplicate = getattr(request.state, "duplicate_update", False)
        return ("duplicate", "") if duplicate else ("stored", "")
    return _BY_STATUS.get(status, ("failed", "error") if status >= 500 else ("refused", "other"))


def instrument_webhook(
    endpoint: Endpoint, metrics: Metrics | None, tracing: Tracing | None
) -> Endpoint:
    async def instrumented(request: Request) -> Response:
        if request.method != "POST":  # GET is a status lookup, not an update
            return await endpoint(request)
        if tracing is None:
            return await _counted(request)
        from app.observability.tracing import webhook_span

        with webhook_span(tracing) as span:
            response = await _counted(request)
            outcome, reason = webhook_outcome(request, response.status_code)
            span.set_attribute("telegram.webhook.outcome", outcome)
            if reason:
                span.set_attribute("telegram.webhook.reason", reason)
            return response

    async def _counted(request: Request) -> Response:
        status: int | None = None
        try:
            response = await endpoint(request)
            status = response.status_code
            return response
        finally:
            if metrics is not None:
                metrics.webhook_update(*webhook_outcome(request, status))

    return instrumented
