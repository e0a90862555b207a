"""URLs that can never be called are refused when a gateway is saved, with their field path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.gateways.test_resolvers import ai_input, create, create_ok, listing, update
from tests.support.harness import Harness, make_settings, running_app
from tests.support.upstreams import FakeUpstreams


@pytest.fixture
async def production_like(
    database_url: str, tmp_path: Path, upstreams: FakeUpstreams
) -> AsyncIterator[Harness]:
    """ALLOW_PRIVATE_NETWORK_TARGETS=false, as in production."""
    settings = make_settings(database_url, str(tmp_path), allow_private_network_targets=False)
    async with running_app(settings, upstream_transport=upstreams.transport()) as h:
        yield h


def webhook_to(url: str) -> dict[str, Any]:
    return {"name": "Hook", "type": "WEBHOOK", "credentials": {"webhook": {"url": url}}}


def field_errors(result: dict[str, Any]) -> list[tuple[str, str]]:
    assert result["__typename"] == "ValidationError", result
    return [(e["field"], e["message"]) for e in result["fieldErrors"]]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            webhook_to("http://169.254.169.254/latest/meta-data/"),
            "credentials.webhook.url",
            "the URL points to a cloud metadata service",
        ),
        (
            webhook_to("http://10.0.0.7/hook"),
            "credentials.webhook.url",
            "the URL resolves to a private address",
        ),
        (
            ai_input(provider="OLLAMA", apiKey=None, baseUrl="http://localhost:11434"),
            "credentials.ai.baseUrl",
            "the URL resolves to a loopback address",
        ),
        (
            ai_input(baseUrl="http://metadata.google.internal/v1"),
            "credentials.ai.baseUrl",
            "the URL points to a cloud metadata service",
        ),
    ],
)
async def test_create_refuses_a_url_that_can_never_be_allowed(
    production_like: Harness, data: dict[str, Any], field: str, message: str
) -> None:
    token = await production_like.register("prod@example.com")
    assert field_errors(await create(production_like, token, data)) == [(field, message)]
    assert (await listing(production_like, token))["total"] == 0


async def test_update_refuses_it_too(production_like: Harness) -> None:
    token = await production_like.register("prod@example.com")
    created = await create_ok(production_like, token, webhook_to("https://hooks.example.com/in"))
    result = await update(
        production_like,
        token,
        created["id"],
        {"credentials": webhook_to("http://[::1]/")["credentials"]},
    )
    assert field_errors(result) == [
        ("credentials.webhook.url", "the URL resolves to a loopback address")
    ]


async def test_a_private_url_is_accepted_where_private_targets_are_allowed(
    harness: Harness,
) -> None:
    # The default outside production: a LAN webhook receiver or a local Ollama is legitimate.
    token = await harness.register("dev@example.com")
    await create_ok(harness, token, webhook_to("http://10.0.0.7/hook"))
    metadata = await create(harness, token, webhook_to("http://[fd00:ec2::254]/"))
    assert field_errors(metadata) == [
        ("credentials.webhook.url", "the URL points to a cloud metadata service")
    ]
