"""Transport failures and malformed answers, for every upstream."""

from __future__ import annotations

import httpx
import pytest

from app.gateways.enums import AIProvider
from app.providers.base import (
    AuthInvalidError,
    BadRequestError,
    ProviderError,
    UnavailableError,
    UpstreamTimeoutError,
)
from tests.providers.ai.conftest import MakeProvider
from tests.providers.ai.fakes import CHAT_PARAMS, UPSTREAMS, gateway, reply, upstream

P = AIProvider


@pytest.mark.parametrize("provider", list(P), ids=lambda p: p.value)
@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (httpx.ReadTimeout("timed out"), UpstreamTimeoutError),
        (httpx.ConnectError("[Errno 111] Connection refused"), UnavailableError),
    ],
    ids=["read-timeout", "connect-error"],
)
@pytest.mark.parametrize("action", ["chat", "listModels"])
async def test_transport_failures_are_mapped(
    make_provider: MakeProvider,
    provider: P,
    failure: Exception,
    expected: type[ProviderError],
    action: str,
) -> None:
    fake = upstream(failure)

    with pytest.raises(expected) as caught:
        await make_provider(fake).execute(
            gateway(provider), action, CHAT_PARAMS if action == "chat" else {}
        )

    assert isinstance(caught.value.__cause__, httpx.TransportError)
    # listings are idempotent and retried; a chat is not.
    assert len(fake.requests) == (1 if action == "chat" else 3)


@pytest.mark.parametrize("provider", list(P), ids=lambda p: p.value)
async def test_an_unreadable_success_body_is_an_outage(
    make_provider: MakeProvider, provider: P
) -> None:
    fake = upstream(reply(200, b"<html>captive portal</html>"))

    with pytest.raises(UnavailableError, match="unreadable"):
        await make_provider(fake).execute(gateway(provider), "chat", CHAT_PARAMS)


async def test_gemini_block_without_candidates_is_a_bad_request(
    make_provider: MakeProvider,
) -> None:
    body = {"promptFeedback": {"blockReason": "SAFETY"}}
    fake = upstream(reply(200, body))

    with pytest.raises(BadRequestError, match="blocked: SAFETY"):
        await make_provider(fake).execute(gateway(P.GEMINI), "chat", CHAT_PARAMS)


@pytest.mark.parametrize("provider", [p for p in P if p is not P.OLLAMA], ids=lambda p: p.value)
async def test_a_keyed_provider_without_key_fails_before_calling(
    make_provider: MakeProvider, provider: P
) -> None:
    fake = upstream(reply(200, UPSTREAMS[provider].models_body))

    with pytest.raises(AuthInvalidError, match="needs an API key"):
        await make_provider(fake).execute(gateway(provider, api_key=None), "validateKey", {})
    assert fake.requests == []
