"""The adapter protocol (one adapter per upstream API) and the HTTP plumbing adapters share.

An adapter knows one wire format: how to authenticate, list models, send a chat and map that
upstream's error answers onto the `ProviderError` tree. It knows nothing of gateways, base-URL
policy or retries; `AIGatewayProvider` decides those and hands the adapter a resolved base URL.

`HttpAdapter.request` is the single place where an upstream answer becomes either decoded JSON or
a `ProviderError`, and where any echo of the API key is scrubbed from the error message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import httpx

from app.core.http import Timeouts, parse_retry_after, send
from app.gateways.credentials import AICredentials
from app.providers.ai.payload import read_json
from app.providers.ai.types import ChatCompletion, ChatRequest
from app.providers.base import (
    AuthInvalidError,
    BadRequestError,
    PermissionDeniedError,
    ProviderError,
    RateLimitedError,
    UnavailableError,
    UpstreamTimeoutError,
)

# Upstream descriptions help the user, but an HTML error page or a 20 kB validation dump does not.
MAX_DETAIL_CHARS = 300
REDACTED = "[redacted]"

ErrorMapper = Callable[[httpx.Response, str], ProviderError]


class AIAdapter(Protocol):
    upstream: str
    """Human name of the upstream API ("OpenAI", "Anthropic", ...) used in error messages."""

    async def list_models(self, creds: AICredentials, base_url: str) -> list[str]: ...

    async def chat(
        self, creds: AICredentials, base_url: str, request: ChatRequest, default_model: str
    ) -> ChatCompletion: ...


class HttpAdapter:
    """Holds the shared client and timeouts; subclasses supply headers and a response mapper."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        timeouts: Timeouts,
        *,
        upstream: str,
        map_error: ErrorMapper,
    ) -> None:
        self.upstream = upstream
        self._client = client
        self._timeouts = timeouts
        self._map_error = map_error

    def require_key(self, creds: AICredentials) -> str:
        if not creds.api_key:
            raise AuthInvalidError(f"{self.upstream} needs an API key")
        return creds.api_key

    async def request(
        self,
        method: str,
        url: str,
        *,
        creds: AICredentials,
        headers: Mapping[str, str],
        json: Any = None,
        params: Mapping[str, str | int] | None = None,
        chat: bool = False,
    ) -> Any:
        """Send, then return the decoded body of a 2xx answer or raise the mapped error."""
        timeout = self._timeouts.chat() if chat else self._timeouts.default()
        response = await send(
            self._client,
            method,
            url,
            upstream=self.upstream,
            timeout=timeout,
            headers=dict(headers),
            json=json,
            params=params,
        )
        if response.is_success:
            return read_json(response, self.upstream)
        raise scrub(self._map_error(response, self.upstream), creds.api_key)


def scrub(error: ProviderError, secret: str | None) -> ProviderError:
    """The same error with every occurrence of `secret` removed from its message.

    Some upstreams quote the key they rejected (xAI, proxies in front of Ollama); mappers copy
    upstream descriptions verbatim, so this is the one guard between a key and a log line.
    """
    if not secret or secret not in error.message:
        return error
    return type(error)(
        error.message.replace(secret, REDACTED),
        upstream_status=error.upstream_status,
        retry_after=error.retry_after,
    )


def describe(upstream: str, status: int, detail: str | None) -> str:
    if not detail or not detail.strip():
        return f"{upstream} answered HTTP {status}"
    detail = " ".join(detail.split())
    if len(detail) > MAX_DETAIL_CHARS:
        detail = detail[: MAX_DETAIL_CHARS - 1] + "\u2026"
    return f"{upstream}: {detail}"


def status_error(
    response: httpx.Response,
    upstream: str,
    detail: str | None,
    *,
    retry_after: float | None = None,
) -> ProviderError:
    """The mapping shared by every upstream once its own special cases have been handled.

    `retry_after` overrides the `Retry-After` header for upstreams that signal it elsewhere.
    """
    status = response.status_code
    message = describe(upstream, status, detail)
    kind: type[ProviderError]
    if status == 401:
        kind = AuthInvalidError
    elif status == 403:
        kind = PermissionDeniedError
    elif status == 408:
        kind = UpstreamTimeoutError
    elif status == 429:
        if retry_after is None:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
        return RateLimitedError(message, upstream_status=status, retry_after=retry_after)
    elif status >= 500:
        kind = UnavailableError
    else:
        # Other 4xx and the 3xx we refuse to follow: the request or the configured URL is wrong,
        # which says nothing about the upstream's health.
        kind = BadRequestError
    return kind(message, upstream_status=status)
