"""Replay recorded AI-provider answers through the real adapters and check what they map to.

Each file under `tests/support/corpus/ai/<provider>/` is one real answer (from a public issue,
SDK test or the provider's documentation, named in its `source`): the HTTP status, headers and
body the upstream sent, and the mapping it must get (`expect`): an error code with its wait, or
the reply text, finish reason, token counts and whether it was a refusal. The answer is served
over `httpx.MockTransport` to `AIGatewayProvider.execute(..., "chat", ...)`, so the whole path a
user's chat takes (adapter, error mapping, result shape) is what is tested.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.gateways.enums import AIProvider
from app.providers.base import ProviderError, ProviderErrorCode
from tests.providers.ai.conftest import MakeProvider
from tests.providers.ai.fakes import CHAT_PARAMS, KEY, gateway

CORPUS = Path(__file__).parents[2] / "support" / "corpus" / "ai"
PROVIDERS = {
    "openai": AIProvider.OPENAI,
    "anthropic": AIProvider.ANTHROPIC,
    "gemini": AIProvider.GEMINI,
    "mistral": AIProvider.MISTRAL,
    "groq": AIProvider.GROQ,
    "deepseek": AIProvider.DEEPSEEK,
    "xai": AIProvider.GROK,
    "ollama": AIProvider.OLLAMA,
}
# Every error family a provider can answer with, per the corpus' promise: a new provider
# directory without them fails `test_the_corpus_covers_every_family`.
FAMILIES = {code.value for code in ProviderErrorCode} - {"TIMEOUT"}  # a timeout has no answer


def _recordings() -> list[Any]:
    cases = []
    for path in sorted(CORPUS.glob("*/*.json")):
        name = f"{path.parent.name}/{path.stem}"
        cases.append(pytest.param(path.parent.name, json.loads(path.read_text()), id=name))
    return cases


RECORDINGS = _recordings()


def _answer(recording: dict[str, Any]) -> httpx.Response:
    response = recording["response"]
    return httpx.Response(response["status"], headers=response["headers"], json=response["body"])


def test_every_recording_names_its_source_and_a_mapping() -> None:
    assert len(RECORDINGS) >= 52
    for param in RECORDINGS:
        provider, recording = param.values
        assert provider in PROVIDERS, param.id
        source = recording["source"]
        assert (isinstance(source, str) and source.startswith("https://")) or (
            set(source) == {"repository", "path"}
        ), param.id
        assert recording["call"] == "chat", param.id
        assert {"status", "headers", "body"} <= set(recording["response"]), param.id
        assert "error" in recording["expect"] or "reply" in recording["expect"], param.id


@pytest.mark.parametrize(("provider", "recording"), RECORDINGS)
async def test_replayed_answer_maps_as_recorded(
    make_provider: MakeProvider, provider: str, recording: dict[str, Any]
) -> None:
    requests: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return _answer(recording)

    ai = make_provider(upstream)
    expect = recording["expect"]
    if "error" in expect:
        with pytest.raises(ProviderError) as caught:
            await ai.execute(gateway(PROVIDERS[provider]), "chat", CHAT_PARAMS)
        error = caught.value
        assert error.code.value == expect["error"]
        assert error.upstream_status == recording["response"]["status"]
        assert error.retry_after == pytest.approx(expect["retryAfter"])
        if "messageContains" in expect:
            assert expect["messageContains"] in error.message
        assert KEY not in error.message
    else:
        result = await ai.execute(gateway(PROVIDERS[provider]), "chat", CHAT_PARAMS)
        assert result["message"] == {"role": "ASSISTANT", "content": expect["reply"]}
        assert result["finishReason"] == expect["finishReason"]
        assert result["refused"] is expect["refused"]
        assert result["promptTokens"] == expect["promptTokens"]
        assert result["completionTokens"] == expect["completionTokens"]
    assert len(requests) == 1  # a chat is never retried


@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini"])
def test_the_corpus_covers_every_family(provider: str) -> None:
    """The three first-party APIs: a success, a refusal and every error family that an answer
    can carry (a TIMEOUT is the absence of one)."""
    outcomes = set()
    for param in RECORDINGS:
        recorded_provider, recording = param.values
        if recorded_provider == provider:
            expect = recording["expect"]
            outcomes.add(expect.get("error") or ("REFUSAL" if expect["refused"] else "SUCCESS"))
    assert outcomes >= FAMILIES | {"SUCCESS", "REFUSAL"}
