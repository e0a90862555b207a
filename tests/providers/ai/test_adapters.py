"""Success paths of every upstream: URL, auth header, request body and the parsed answer."""

from __future__ import annotations

import pytest

from app.gateways.enums import AIProvider
from tests.providers.ai.conftest import MakeProvider
from tests.providers.ai.fakes import CHAT_PARAMS, KEY, UPSTREAMS, UpstreamSpec, gateway, reply
from tests.providers.ai.fakes import upstream as fake_upstream

SPECS = pytest.mark.parametrize("spec", list(UPSTREAMS.values()), ids=lambda s: s.provider.value)


def _api_key(spec: UpstreamSpec) -> str | None:
    return KEY if spec.needs_key else None


@SPECS
async def test_list_models(make_provider: MakeProvider, spec: UpstreamSpec) -> None:
    fake = fake_upstream(reply(200, spec.models_body))
    provider = make_provider(fake)

    result = await provider.execute(
        gateway(spec.provider, api_key=_api_key(spec)), "listModels", {}
    )

    assert result == {"models": ["m-1", "m-2"], "count": 2}
    assert fake.last.method == "GET"
    assert str(fake.last.url) == spec.models_url
    if spec.needs_key:
        assert spec.auth is not None
        name, value = spec.auth
        assert fake.last.headers[name] == value
    else:
        assert "authorization" not in fake.last.headers
    assert KEY not in str(fake.last.url)


@SPECS
async def test_chat(make_provider: MakeProvider, spec: UpstreamSpec) -> None:
    fake = fake_upstream(reply(200, spec.chat_body))
    provider = make_provider(fake)

    result = await provider.execute(
        gateway(spec.provider, api_key=_api_key(spec)), "chat", CHAT_PARAMS
    )

    latency = result.pop("latencyMs")
    assert isinstance(latency, float)
    assert latency >= 0
    assert result == {
        "model": "m-1-2025",
        "message": {"role": "ASSISTANT", "content": "Hello!"},
        "finishReason": spec.finish_reason,
        "promptTokens": 11,
        "completionTokens": 7,
        "refused": False,
    }
    assert fake.last.method == "POST"
    assert str(fake.last.url) == spec.chat_url
    assert fake.last_json() == spec.expected_request
    if spec.auth is not None and spec.needs_key:
        assert fake.last.headers[spec.auth[0]] == spec.auth[1]


async def test_anthropic_sends_version_defaults_max_tokens_and_joins_system(
    make_provider: MakeProvider,
) -> None:
    fake = fake_upstream(reply(200, UPSTREAMS[AIProvider.ANTHROPIC].chat_body))
    provider = make_provider(fake)
    params = {
        "messages": [
            {"role": "SYSTEM", "content": "Rule one."},
            {"role": "USER", "content": "Hi"},
            {"role": "SYSTEM", "content": "Rule two."},
            {"role": "ASSISTANT", "content": "Hello"},
            {"role": "USER", "content": "Again"},
        ]
    }

    await provider.execute(gateway(AIProvider.ANTHROPIC), "chat", params)

    assert fake.last.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in fake.last.headers
    assert fake.last_json() == {
        "model": "m-1",
        "max_tokens": 1024,
        "system": "Rule one.\n\nRule two.",
        "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": "Again"},
        ],
    }


async def test_gemini_maps_roles_strips_model_prefix_and_skips_thoughts(
    make_provider: MakeProvider,
) -> None:
    body = {
        "candidates": [
            {
                "content": {"parts": [{"text": "thinking…", "thought": True}, {"text": "Answer"}]},
                "finishReason": "STOP",
            }
        ]
    }
    fake = fake_upstream(reply(200, body))
    provider = make_provider(fake)
    params = {
        "model": "models/gemini-x",
        "messages": [{"role": "USER", "content": "Hi"}, {"role": "ASSISTANT", "content": "Yo"}],
    }

    result = await provider.execute(gateway(AIProvider.GEMINI), "chat", params)

    assert fake.last.url.path == "/v1beta/models/gemini-x:generateContent"
    assert fake.last_json() == {
        "contents": [
            {"role": "user", "parts": [{"text": "Hi"}]},
            {"role": "model", "parts": [{"text": "Yo"}]},
        ]
    }
    assert result["message"]["content"] == "Answer"
    assert result["model"] == "gemini-x"
    assert (result["promptTokens"], result["completionTokens"]) == (None, None)


async def test_gemini_quotes_the_model_inside_the_path(make_provider: MakeProvider) -> None:
    fake = fake_upstream(reply(200, UPSTREAMS[AIProvider.GEMINI].chat_body))
    provider = make_provider(fake)

    await provider.execute(
        gateway(AIProvider.GEMINI), "chat", {**CHAT_PARAMS, "model": "a/../../b?x"}
    )

    assert fake.last.url.raw_path == b"/v1beta/models/a%2F..%2F..%2Fb%3Fx:generateContent"


async def test_ollama_sends_bearer_only_when_a_key_is_set(make_provider: MakeProvider) -> None:
    fake = fake_upstream(reply(200, UPSTREAMS[AIProvider.OLLAMA].models_body))
    provider = make_provider(fake)

    await provider.execute(gateway(AIProvider.OLLAMA, api_key=KEY), "listModels", {})

    assert fake.last.headers["authorization"] == f"Bearer {KEY}"


async def test_openai_null_content_becomes_empty_text(make_provider: MakeProvider) -> None:
    body = {"choices": [{"message": {"role": "assistant", "content": None}}]}
    provider = make_provider(fake_upstream(reply(200, body)))

    result = await provider.execute(gateway(AIProvider.OPENAI), "chat", CHAT_PARAMS)

    assert result["message"] == {"role": "ASSISTANT", "content": ""}
    assert result["model"] == "m-1"
    assert result["finishReason"] is None
