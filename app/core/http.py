"""The shared outgoing HTTP client, and the helpers every provider uses around it.

- `create_http_client` builds the one `httpx.AsyncClient` of the process (created in lifespan) with
  explicit timeouts and pool limits; redirects are never followed, because a redirect from a
  user-supplied URL is a way around the SSRF guard in `app.core.outbound`.
- `send` turns transport failures into the provider error tree. Its messages name the upstream,
  never the URL (a Telegram URL carries the bot token) nor any header (API keys live there).
- `parse_retry_after` reads a `Retry-After` header in either of its two RFC 9110 forms.
- `retry_idempotent` retries a *read* a couple of times on transient errors. Writes are never
  retried here: a timed-out write may have happened upstream, and a second one would duplicate it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from app.providers.base import (
    BadRequestError,
    ProviderError,
    UnavailableError,
    UpstreamTimeoutError,
)

T = TypeVar("T")

USER_AGENT = "gateway-api/0.1 (+httpx)"
# Far above any real answer (model lists, completions, Bot API results are kilobytes).
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
# Names the upstream on each request, for the metrics transport (app/observability/metrics.py).
UPSTREAM_EXTENSION = "gateway_api.upstream"


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds. `chat_read` is for AI completions, which legitimately take long to answer."""

    connect: float = 5.0
    read: float = 10.0
    chat_read: float = 30.0

    def default(self) -> httpx.Timeout:
        # write and pool share the read budget: no call should hang forever on any phase.
        return httpx.Timeout(self.read, connect=self.connect)

    def chat(self) -> httpx.Timeout:
        return httpx.Timeout(self.chat_read, connect=self.connect)


def create_http_client(
    timeouts: Timeouts,
    *,
    max_connections: int = 100,
    max_keepalive: int = 20,
    transport: httpx.AsyncBaseTransport | None = None,
    wrap_transport: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] | None = None,
) -> httpx.AsyncClient:
    """The process-wide client; tests pass an `httpx.MockTransport` as `transport`.
    `wrap_transport` decorates the transport (metrics, app/observability)."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_keepalive)
    if wrap_transport is not None:
        transport = wrap_transport(transport or httpx.AsyncHTTPTransport(limits=limits))
    return httpx.AsyncClient(
        timeout=timeouts.default(),
        limits=limits,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        transport=transport,
    )


@contextmanager
def _transport_errors_mapped(upstream: str) -> Iterator[None]:
    try:
        yield
    except httpx.TimeoutException as exc:
        raise UpstreamTimeoutError(f"{upstream} did not answer in time") from exc
    except httpx.TransportError as exc:
        # str(exc) can embed the URL; only a generic reason is safe to show.
        reason = "connection failed" if isinstance(exc, httpx.NetworkError) else "transport error"
        raise UnavailableError(f"could not reach {upstream}: {reason}") from exc


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    upstream: str,
    # An httpx per-request timeout, not a deadline on the coroutine: asyncio.timeout can't
    # tell connect from read, and httpx's own timeouts are what we map to TIMEOUT.
    timeout: httpx.Timeout | None = None,  # noqa: ASYNC109
    **kwargs: Any,
) -> httpx.Response:
    """Send one request; transport failures become `UpstreamTimeoutError` / `UnavailableError`.

    `upstream` is a human name ("Telegram", "OpenAI", "the webhook target") used in messages.
    HTTP error statuses are *not* raised here: each provider maps its own upstream's answers.
    """
    if timeout is not None:
        kwargs["timeout"] = timeout
    request = client.build_request(method, url, extensions={UPSTREAM_EXTENSION: upstream}, **kwargs)
    with _transport_errors_mapped(upstream):
        # follow_redirects is pinned per request too, in case a caller built its own client.
        response = await client.send(request, stream=True, follow_redirects=False)
        try:
            body = await _read_capped(response, upstream)
        finally:
            await response.aclose()
    # Rebuilt from the decoded body, so the encoding headers no longer apply to it.
    headers = [
        (name, value)
        for name, value in response.headers.multi_items()
        if name.lower() not in {"content-encoding", "content-length", "transfer-encoding"}
    ]
    return httpx.Response(
        response.status_code, headers=headers, content=body, request=response.request
    )


async def _read_capped(response: httpx.Response, upstream: str) -> bytes:
    """The decoded body, refused past MAX_RESPONSE_BYTES.

    A user-supplied base URL or webhook target decides what comes back; without a cap one
    answer (or one small gzip bomb) could take the whole process's memory.
    """
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise BadRequestError(
                f"{upstream} answered with more than {MAX_RESPONSE_BYTES // (1024 * 1024)} MiB",
                upstream_status=response.status_code,
            )
        chunks.append(chunk)
    return b"".join(chunks)


async def send_discarding_body(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    upstream: str,
    timeout: httpx.Timeout | None = None,  # noqa: ASYNC109
    **kwargs: Any,
) -> httpx.Response:
    """Like `send`, but only the status line and headers are read; the body is never downloaded.

    For targets the user chose (a webhook receiver) whose body we do not need: a hostile target
    could otherwise answer with gigabytes and have us buffer them.
    """
    if timeout is not None:
        kwargs["timeout"] = timeout
    request = client.build_request(method, url, extensions={UPSTREAM_EXTENSION: upstream}, **kwargs)
    with _transport_errors_mapped(upstream):
        response = await client.send(request, stream=True, follow_redirects=False)
        await response.aclose()
    return response


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta-seconds or HTTP-date); None if unusable.

    A date in the past gives 0. Fractional seconds are accepted although RFC 9110 only allows
    integers, because several upstreams send them (e.g. "1.5").
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN / inf
            return None
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT; "-0000" parses as naive
        when = when.replace(tzinfo=UTC)
    reference = now or datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())


async def retry_idempotent(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int = 3,
    base_delay: float = 0.25,
    max_delay: float = 5.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: random.Random | None = None,
) -> T:
    """Run `call`, retrying a retryable `ProviderError` at most `attempts - 1` times.

    Only for idempotent reads. The wait is full-jitter exponential backoff
    (uniform(0, min(max_delay, base_delay * 2**n))) unless the error carries `retry_after`, which
    is honoured as is; when the upstream asks for longer than `max_delay` we give up at once and
    let the caller (and its circuit breaker) see the error instead of holding a request open.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    # Jitter is not security-sensitive; a seeded Random makes tests deterministic.
    jitter = rng or random.Random()  # noqa: S311
    attempt = 0
    while True:
        try:
            return await call()
        except ProviderError as exc:
            attempt += 1
            if not exc.retryable or attempt >= attempts:
                raise
            if exc.retry_after is not None:
                if exc.retry_after > max_delay:
                    raise
                delay = max(0.0, exc.retry_after)
            else:
                delay = jitter.uniform(0.0, min(max_delay, base_delay * 2 ** (attempt - 1)))
            await sleep(delay)
