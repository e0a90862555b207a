"""Every upstream's error answers map onto the ProviderError tree (the table of B.2.2)."""

from __future__ import annotations

from typing import Any

import pytest
from _pytest.mark import ParameterSet

from app.gateways.enums import AIProvider
from app.providers.ai.openai_compatible import parse_reset_duration
from app.providers.base import AuthInvalidError as Auth
from app.providers.base import BadRequestError as Bad
from app.providers.base import PermissionDeniedError as Perm
from app.providers.base import ProviderError
from app.providers.base import QuotaExhaustedError as Quota
from app.providers.base import RateLimitedError as Rate
from app.providers.base import UnavailableError as Down
from tests.providers.ai.conftest import MakeProvider
from tests.providers.ai.fakes import CHAT_PARAMS, gateway, reply, upstream

P = AIProvider
GOOGLE_RPC = "type.googleapis.com/google.rpc."


def oai(message: str, code: str | None = None, kind: str = "invalid_request_error") -> Any:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def xai(message: str) -> Any:
    return {"code": "Client specified an invalid argument", "error": message}


def mistral(message: str) -> Any:
    return {"object": "error", "message": message, "type": "invalid_request_error", "code": None}


def anthropic(kind: str, message: str, **extra: Any) -> Any:
    return {"type": "error", "error": {"type": kind, "message": message, **extra}}


def google(status: str, message: str, *details: Any) -> Any:
    return {"error": {"code": 0, "message": message, "status": status, "details": list(details)}}


def quota_failure(quota_id: str) -> Any:
    return {"@type": GOOGLE_RPC + "QuotaFailure", "violations": [{"quotaId": quota_id}]}


def retry_info(delay: str) -> Any:
    return {"@type": GOOGLE_RPC + "RetryInfo", "retryDelay": delay}


GEMINI_BAD_KEY = google(
    "INVALID_ARGUMENT",
    "API key not valid. Please pass a valid API key.",
    {"@type": GOOGLE_RPC + "ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"},
)
PER_DAY = quota_failure("GenerateRequestsPerDayPerProjectPerModel-FreeTier")
PER_MINUTE = quota_failure("GenerateRequestsPerMinutePerProjectPerModel-FreeTier")
OPENAI_RESETS = {
    "x_ratelimit_remaining_requests": "0",
    "x_ratelimit_reset_requests": "6s",
    "x_ratelimit_remaining_tokens": "900",
    "x_ratelimit_reset_tokens": "1m30s",
}


def case(
    provider: P,
    status: int,
    body: Any,
    expected: type[ProviderError],
    wait: float | None = None,
    **headers: str,
) -> ParameterSet:
    """One row: the upstream answers `status` + `body` + `headers`; we expect `expected(wait)`."""
    name = f"{provider.value}-{status}-{expected.__name__}"
    return pytest.param(provider, status, body, headers, expected, wait, id=name)


CASES = [
    case(P.OPENAI, 401, oai("Incorrect API key provided: sk-te***CRET.", "invalid_api_key"), Auth),
    case(P.OPENAI, 403, oai("Country, region, or territory not supported"), Perm),
    case(P.OPENAI, 429, oai("You exceeded your current quota.", "insufficient_quota"), Quota),
    case(P.OPENAI, 429, oai("Rate limit reached", "rate_limit_exceeded"), Rate, 2, retry_after="2"),
    case(P.OPENAI, 429, oai("Rate limit reached", "rate_limit_exceeded"), Rate, 6, **OPENAI_RESETS),
    case(P.OPENAI, 429, oai("Rate limit reached"), Rate, 0.012, x_ratelimit_reset_requests="12ms"),
    case(P.OPENAI, 404, oai("The model `m-1` does not exist", "model_not_found"), Bad),
    case(P.OPENAI, 500, oai("The server had an error", kind="server_error"), Down),
    case(P.OPENAI, 503, oai("The engine is currently overloaded"), Down),
    case(P.DEEPSEEK, 401, oai("Authentication Fails (no such user)"), Auth),
    case(P.DEEPSEEK, 402, oai("Insufficient Balance"), Quota),
    case(P.DEEPSEEK, 422, oai("Invalid Parameters"), Bad),
    case(P.DEEPSEEK, 503, oai("Server Overloaded"), Down),
    case(P.GROK, 400, xai("Incorrect API key provided: xa***. Obtain one at console.x.ai."), Auth),
    case(P.GROK, 400, xai("Model m-1 does not exist"), Bad),
    case(P.GROK, 429, xai("Too many requests"), Rate, 5, retry_after="5"),
    case(P.GROK, 500, xai("Internal error"), Down),
    case(P.MISTRAL, 401, mistral("Unauthorized"), Auth),
    case(P.MISTRAL, 402, mistral("Payment required"), Quota),
    case(P.MISTRAL, 429, mistral("Requests rate limit exceeded"), Rate, 3, retry_after="3"),
    case(P.MISTRAL, 422, mistral("Extra inputs are not permitted"), Bad),
    case(P.GROQ, 401, oai("Invalid API Key", "invalid_api_key"), Auth),
    case(P.GROQ, 429, oai("Rate limit reached", "rate_limit_exceeded"), Rate, 7, retry_after="7"),
    case(P.GROQ, 502, b"<html>Bad gateway</html>", Down),
    case(P.ANTHROPIC, 401, anthropic("authentication_error", "invalid x-api-key"), Auth),
    case(P.ANTHROPIC, 403, anthropic("permission_error", "not allowed"), Perm),
    case(P.ANTHROPIC, 429, anthropic("rate_limit_error", "Too many"), Rate, 30, retry_after="30"),
    case(
        P.ANTHROPIC,
        429,
        anthropic(
            "rate_limit_error", "limit", details={"error_code": "enforced_spend_limit_reached"}
        ),
        Quota,
        retry_after="30",
    ),
    case(
        P.ANTHROPIC,
        400,
        anthropic("invalid_request_error", "Your credit balance is too low"),
        Quota,
    ),
    case(P.ANTHROPIC, 400, anthropic("invalid_request_error", "max_tokens: field required"), Bad),
    case(P.ANTHROPIC, 404, anthropic("not_found_error", "model: m-1"), Bad),
    case(P.ANTHROPIC, 413, anthropic("request_too_large", "Request exceeds the maximum size"), Bad),
    case(P.ANTHROPIC, 529, anthropic("overloaded_error", "Overloaded"), Down),
    case(P.ANTHROPIC, 500, anthropic("api_error", "Internal server error"), Down),
    case(P.GEMINI, 400, GEMINI_BAD_KEY, Auth),
    case(P.GEMINI, 400, google("INVALID_ARGUMENT", "Invalid JSON payload"), Bad),
    case(P.GEMINI, 403, google("PERMISSION_DENIED", "Permission denied"), Perm),
    case(
        P.GEMINI, 429, google("RESOURCE_EXHAUSTED", "Quota", PER_DAY, retry_info("41s")), Quota, 41
    ),
    case(
        P.GEMINI, 429, google("RESOURCE_EXHAUSTED", "Slow", PER_MINUTE, retry_info("30s")), Rate, 30
    ),
    case(P.GEMINI, 429, google("RESOURCE_EXHAUSTED", "Slow down"), Rate, 4, retry_after="4"),
    case(P.GEMINI, 503, google("UNAVAILABLE", "The model is overloaded"), Down),
    case(P.OLLAMA, 404, {"error": "model 'm-1' not found, try pulling it first"}, Bad),
    case(P.OLLAMA, 401, {"error": "unauthorized"}, Auth),
    case(P.OLLAMA, 500, {"error": "llama runner process has terminated"}, Down),
    case(P.OLLAMA, 302, b"", Bad, location="http://elsewhere/"),
]


@pytest.mark.parametrize(
    ("provider", "status", "body", "headers", "expected", "retry_after"), CASES
)
async def test_error_answers_are_mapped(
    make_provider: MakeProvider,
    provider: P,
    status: int,
    body: Any,
    headers: dict[str, str],
    expected: type[ProviderError],
    retry_after: float | None,
) -> None:
    fake = upstream(reply(status, body, **headers))

    with pytest.raises(ProviderError) as caught:
        await make_provider(fake).execute(gateway(provider), "chat", CHAT_PARAMS)

    assert type(caught.value) is expected
    assert caught.value.upstream_status == status
    assert caught.value.retry_after == pytest.approx(retry_after)
    assert len(fake.requests) == 1  # a chat is never retried


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("6s", 6.0),
        ("12ms", 0.012),
        ("1m30.5s", 90.5),
        ("2h", 7200.0),
        ("", None),
        ("soon", None),
        ("6s later", None),
        (None, None),
    ],
)
def test_parse_reset_duration(value: str | None, seconds: float | None) -> None:
    assert parse_reset_duration(value) == pytest.approx(seconds)
