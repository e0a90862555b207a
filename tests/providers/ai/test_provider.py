"""AIGatewayProvider policy: actions, base URLs, SSRF guard, models, checks, retries, secrecy."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from app.core.http import Timeouts
from app.gateways.enums import AIProvider, GatewayType
from app.providers.ai.provider import ADAPTERS, DEFAULT_BASE_URLS
from app.providers.ai.types import ChatMessage, ChatRequest, ChatRole
from app.providers.base import (
    ActionParamsError,
    BadRequestError,
    ConnectResult,
    Provider,
    ProviderError,
    UnsupportedActionError,
    UpstreamTimeoutError,
)
from tests.providers.ai.conftest import MakeProvider, Sleeps
from tests.providers.ai.fakes import CHAT_PARAMS, KEY, UPSTREAMS, gateway, reply, upstream

P = AIProvider
OPENAI_MODELS = UPSTREAMS[P.OPENAI].models_body
OPENAI_CHAT = UPSTREAMS[P.OPENAI].chat_body


def test_describes_itself_and_satisfies_the_protocol(make_provider: MakeProvider) -> None:
    provider: Provider = make_provider(upstream(reply(200)))
    assert provider.type is GatewayType.AI
    assert provider.name == "AI provider"
    assert list(provider.ai_providers) == list(AIProvider)
    assert [a.name for a in provider.actions] == ["chat", "listModels", "validateKey"]
    assert set(ADAPTERS) == set(DEFAULT_BASE_URLS) == set(AIProvider)


async def test_unsupported_action(make_provider: MakeProvider) -> None:
    fake = upstream(reply(200))
    with pytest.raises(UnsupportedActionError) as caught:
        await make_provider(fake).execute(gateway(P.OPENAI), "embed", {})
    assert caught.value.supported == ["chat", "listModels", "validateKey"]
    assert fake.requests == []


async def test_invalid_chat_params_never_reach_the_upstream(make_provider: MakeProvider) -> None:
    fake = upstream(reply(200, OPENAI_CHAT))
    with pytest.raises(ActionParamsError):
        await make_provider(fake).execute(gateway(P.OPENAI), "chat", {"messages": []})
    assert fake.requests == []


@pytest.mark.parametrize(
    ("param_model", "creds_model", "config", "sent"),
    [
        ("from-request", "from-creds", {"defaultModel": "from-config"}, "from-request"),
        (None, "from-creds", {"defaultModel": "from-config"}, "from-creds"),
        (None, None, {"defaultModel": "from-config"}, "from-config"),
    ],
)
async def test_model_resolution_order(
    make_provider: MakeProvider,
    param_model: str | None,
    creds_model: str | None,
    config: dict[str, str],
    sent: str,
) -> None:
    fake = upstream(reply(200, OPENAI_CHAT))
    params = {**CHAT_PARAMS, "model": param_model}
    gw = gateway(P.OPENAI, model=creds_model, config=config)

    await make_provider(fake).execute(gw, "chat", params)

    assert fake.last_json()["model"] == sent


async def test_model_is_required_somewhere(make_provider: MakeProvider) -> None:
    fake = upstream(reply(200, OPENAI_CHAT))
    request = ChatRequest(messages=[ChatMessage(ChatRole.USER, "Hi")])
    with pytest.raises(ActionParamsError) as caught:
        await make_provider(fake).chat(gateway(P.OPENAI, model=None), request)
    assert [e.field for e in caught.value.errors] == ["model"]
    assert fake.requests == []


async def test_operator_base_urls_override_defaults_without_ssrf_check(
    make_provider: MakeProvider,
) -> None:
    # The operator's own configuration is trusted: a private address is fine here.
    fake = upstream(reply(200, OPENAI_MODELS))
    provider = make_provider(fake, base_urls={P.OPENAI: "http://10.0.0.5:8080/v1/"})

    await provider.execute(gateway(P.OPENAI), "listModels", {})

    assert str(fake.last.url) == "http://10.0.0.5:8080/v1/models"


async def test_user_base_url_beats_operator_override(make_provider: MakeProvider) -> None:
    fake = upstream(reply(200, OPENAI_MODELS))
    provider = make_provider(fake, base_urls={P.OPENAI: "http://10.0.0.5:8080/v1"})

    await provider.execute(
        gateway(P.OPENAI, base_url="https://93.184.215.14/proxy/v1/"), "listModels", {}
    )

    assert str(fake.last.url) == "https://93.184.215.14/proxy/v1/models"


@pytest.mark.parametrize(
    "base_url",
    ["http://127.0.0.1:11434", "http://10.1.2.3", "http://169.254.169.254", "file:///etc/passwd"],
)
async def test_private_user_base_url_is_refused(make_provider: MakeProvider, base_url: str) -> None:
    fake = upstream(reply(200, UPSTREAMS[P.OLLAMA].models_body))
    provider = make_provider(fake, allow_private_targets=False)

    with pytest.raises(BadRequestError, match="baseUrl refused"):
        await provider.execute(gateway(P.OLLAMA, base_url=base_url), "listModels", {})
    with pytest.raises(BadRequestError, match="baseUrl refused"):
        await provider.execute(gateway(P.OLLAMA, base_url=base_url), "chat", CHAT_PARAMS)
    assert fake.requests == []


async def test_private_user_base_url_is_allowed_when_configured(
    make_provider: MakeProvider,
) -> None:
    fake = upstream(reply(200, UPSTREAMS[P.OLLAMA].models_body))
    provider = make_provider(fake, allow_private_targets=True)

    result = await provider.execute(
        gateway(P.OLLAMA, api_key=None, base_url="http://127.0.0.1:11434"), "listModels", {}
    )

    assert result["count"] == 2
    assert str(fake.last.url) == "http://127.0.0.1:11434/api/tags"


async def test_validate_key_and_checks(make_provider: MakeProvider) -> None:
    provider = make_provider(upstream(reply(200, OPENAI_MODELS)))
    gw = gateway(P.OPENAI, model="m-1")

    assert await provider.execute(gw, "validateKey", {}) == {"valid": True, "models": 2}
    assert (await provider.validate_credentials(gw)).details == {"models": 2, "provider": "OPENAI"}
    assert (await provider.check_health(gw)).details == {"models": 2, "provider": "OPENAI"}
    assert await provider.connect(gw) == ConnectResult(config_updates={"modelCount": 2})
    await provider.disconnect(gw)


async def test_missing_default_model_is_reported_not_failed(make_provider: MakeProvider) -> None:
    provider = make_provider(upstream(reply(200, OPENAI_MODELS)))

    result = await provider.check_health(gateway(P.OPENAI, model="gone-model"))

    assert result.details == {"models": 2, "provider": "OPENAI", "modelAvailable": False}


async def test_checks_retry_transient_failures(make_provider: MakeProvider, sleeps: Sleeps) -> None:
    fake = upstream(reply(503), reply(429, {}, retry_after="1"), reply(200, OPENAI_MODELS))

    result = await make_provider(fake).check_health(gateway(P.OPENAI))

    assert result.details["models"] == 2
    assert len(fake.requests) == 3
    assert len(sleeps.delays) == 2
    assert sleeps.delays[1] == 1.0  # Retry-After honoured


async def test_checks_do_not_retry_a_bad_key(make_provider: MakeProvider, sleeps: Sleeps) -> None:
    fake = upstream(reply(401, {"error": {"message": "bad key"}}))

    with pytest.raises(ProviderError):
        await make_provider(fake).validate_credentials(gateway(P.OPENAI))

    assert len(fake.requests) == 1
    assert sleeps.delays == []


async def test_chat_is_not_retried(make_provider: MakeProvider) -> None:
    fake = upstream(reply(503), reply(200, OPENAI_CHAT))
    with pytest.raises(ProviderError):
        await make_provider(fake).execute(gateway(P.OPENAI), "chat", CHAT_PARAMS)
    assert len(fake.requests) == 1


async def test_chat_has_an_overall_deadline(make_provider: MakeProvider) -> None:
    """DeepSeek keeps a queued request open with blank lines; the read timeout never fires."""

    async def keep_alive() -> AsyncIterator[bytes]:
        while True:
            yield b"\n"
            await asyncio.sleep(0.01)

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=keep_alive())

    provider = make_provider(handler, timeouts=Timeouts(connect=0.05, read=0.1, chat_read=0.1))

    with pytest.raises(UpstreamTimeoutError, match="DeepSeek did not answer in time"):
        await provider.execute(gateway(P.DEEPSEEK), "chat", CHAT_PARAMS)


@pytest.mark.parametrize("provider", list(AIProvider), ids=lambda p: p.value)
@pytest.mark.parametrize("status", [400, 401, 429, 500])
async def test_api_key_never_leaks_into_errors_or_logs(
    make_provider: MakeProvider,
    caplog: pytest.LogCaptureFixture,
    provider: AIProvider,
    status: int,
) -> None:
    # A hostile or careless upstream echoes the key in every field a mapper might read.
    echo = f"Incorrect API key provided: {KEY}"
    body = (
        {"error": echo}
        if provider is AIProvider.OLLAMA
        else {"error": {"message": echo, "type": echo, "code": echo, "details": []}}
    )
    fake = upstream(reply(status, body, retry_after="0"))
    caplog.set_level(logging.DEBUG, logger="app.providers.ai")

    for action, params in (("chat", CHAT_PARAMS), ("listModels", {})):
        with pytest.raises(ProviderError) as caught:
            await make_provider(fake).execute(gateway(provider), action, params)
        error = caught.value
        assert KEY not in str(error)
        assert KEY not in repr(error.args)
        assert "[redacted]" in error.message

    assert caplog.records, "failures must be logged"
    for record in caplog.records:
        assert record.getMessage() in {"ai.chat.failed", "ai.models.failed"}
        assert KEY not in repr(record.__dict__)
        assert record.provider == provider.value  # type: ignore[attr-defined]
        assert record.status == status  # type: ignore[attr-defined]
    assert all(KEY not in str(request.url) for request in fake.requests)


async def test_success_log_has_no_content(
    make_provider: MakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="app.providers.ai")
    await make_provider(upstream(reply(200, OPENAI_CHAT))).execute(
        gateway(P.OPENAI), "chat", CHAT_PARAMS
    )
    [record] = caplog.records
    assert record.getMessage() == "ai.chat.succeeded"
    assert "Hello" not in repr(record.__dict__)
    assert "Be brief" not in repr(record.__dict__)
