"""How a webhook target's answer maps to a result or a `ProviderError`.

    status     error                   note
    2xx        -> ok
    3xx        BadRequestError         redirects are not followed (SSRF: a public URL could
                                       redirect to a private one after our check)
    401        AuthInvalidError        the target refuses our signature / credentials
    403        PermissionDeniedError
    429        RateLimitedError        Retry-After (seconds or HTTP-date)
    other 4xx  BadRequestError
    5xx        UnavailableError

The target's body is never read nor quoted: it is a URL the user chose, and its contents are
neither trusted nor needed. Messages never include the URL (it often embeds a secret path).
"""

from __future__ import annotations

from datetime import datetime

import httpx

from app.core.http import parse_retry_after
from app.providers.base import (
    AuthInvalidError,
    BadRequestError,
    PermissionDeniedError,
    ProviderError,
    RateLimitedError,
    UnavailableError,
)


def error_for_status(response: httpx.Response, *, now: datetime) -> ProviderError | None:
    """The error a target's answer means, or None for a 2xx."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return BadRequestError(
            f"the target answered with a redirect (HTTP {status}); redirects are not followed",
            upstream_status=status,
        )
    if status == 401:
        return AuthInvalidError("the target refused the request (HTTP 401)", upstream_status=401)
    if status == 403:
        return PermissionDeniedError(
            "the target refused the request (HTTP 403)", upstream_status=403
        )
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now=now)
        hint = f"; retry after {retry_after:g}s" if retry_after is not None else ""
        return RateLimitedError(
            f"the target is rate limiting{hint}", upstream_status=429, retry_after=retry_after
        )
    if status >= 500:
        return UnavailableError(f"the target failed (HTTP {status})", upstream_status=status)
    # 1xx would never reach us (httpx handles them); any other 4xx is the request's fault.
    return BadRequestError(
        f"the target rejected the request (HTTP {status})", upstream_status=status
    )
