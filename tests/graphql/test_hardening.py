"""The GraphQL endpoint's defences: document limits, body limit, error masking, production mode
and CORS (the HTTP methods it accepts: test_app.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import app.graphql.validation as app_validation
from app.gateways.service import GatewayService
from tests.support.harness import TEST_KEY, Harness, make_settings, running_app

SPA_ORIGIN = "https://spa.example.test"
ONE_MIB = 1024 * 1024
LIST_GATEWAYS = "{ gateways { total items { id } } }"


@pytest.fixture
async def production(database_url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    settings = make_settings(
        database_url, str(tmp_path), app_env="production", encryption_keys=TEST_KEY
    )
    async with running_app(settings) as harness:
        yield harness


@pytest.fixture
async def with_cors(database_url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    settings = make_settings(database_url, str(tmp_path), cors_origins=[SPA_ORIGIN])
    async with running_app(settings) as harness:
        yield harness


def messages(body: dict[str, Any]) -> list[str]:
    return [error["message"] for error in body.get("errors") or []]


def nested_organizations(depth: int) -> str:
    """organizations → members → user → memberships → organization → members → ... → a scalar,
    with the scalar `depth` levels below the root field (QueryDepthLimiter counts the root as 0)."""
    cycle = ("members", "user", "memberships", "organization")
    leaf = {"members": "role", "user": "id", "memberships": "role", "organization": "id"}
    fields = ["organizations"] + [cycle[i % 4] for i in range(depth - 1)]
    query = leaf.get(fields[-1], "id")
    for name in reversed(fields):
        query = f"{name} {{ {query} }}"
    return "{ " + query + " }"


# ---------------------------------------------------------------- document limits


async def test_query_deeper_than_the_limit_is_refused(harness: Harness) -> None:
    token = await harness.register("deep@example.test")
    await harness.create_org(token, "Deep", "deep")
    limit = harness.settings.graphql_max_depth

    too_deep = await harness.post(nested_organizations(limit + 1), token=token)
    assert too_deep.get("data") is None
    assert messages(too_deep) == [f"'anonymous' exceeds maximum operation depth of {limit}"]

    at_limit = await harness.post(nested_organizations(limit), token=token)
    assert "errors" not in at_limit
    assert len(at_limit["data"]["organizations"]) == 1  # resolved all the way down


async def test_depth_limit_sees_through_fragments(harness: Harness) -> None:
    limit = harness.settings.graphql_max_depth
    deep = nested_organizations(limit + 1)
    inner = deep.removeprefix("{ organizations { ").removesuffix(" } }")
    query = f"{{ organizations {{ ...Deep }} }} fragment Deep on Organization {{ {inner} }}"

    body = await harness.post(query)

    assert messages(body) == [f"'anonymous' exceeds maximum operation depth of {limit}"]


async def test_too_many_aliases_are_refused(harness: Harness) -> None:
    limit = harness.settings.graphql_max_aliases

    def aliased(count: int) -> str:
        return "{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(count)) + " }"

    refused = await harness.post(aliased(limit + 1))
    assert messages(refused) == [f"{limit + 1} aliases found. Allowed: {limit}"]
    assert refused.get("data") is None
    accepted = await harness.post(aliased(limit))
    assert "errors" not in accepted
    assert accepted["data"]["a0"] is None  # anonymous viewer


async def test_too_many_tokens_are_refused(harness: Harness) -> None:
    limit = harness.settings.graphql_max_tokens
    query = "{ viewer { " + "id " * limit + "} }"

    body = await harness.post(query)

    assert body.get("data") is None
    [message] = messages(body)
    assert f"more than {limit} tokens" in message


async def test_a_repeated_query_is_validated_once(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    validated: list[object] = []
    validate = app_validation.validate

    def counting_validate(*args: Any, **kwargs: Any) -> Any:
        validated.append(args[1])
        return validate(*args, **kwargs)

    monkeypatch.setattr(app_validation, "validate", counting_validate)
    for _ in range(3):
        assert await harness.post("{ gatewayProviders { type } }") == {
            "data": {
                "gatewayProviders": [{"type": "TELEGRAM_BOT"}, {"type": "AI"}, {"type": "WEBHOOK"}]
            }
        }

    assert len(validated) == 1


# ---------------------------------------------------------------- request body limit


def oversized_body(size: int = ONE_MIB) -> bytes:
    padding = " " * size
    return json.dumps({"query": "{ viewer { id } }" + padding}).encode()


async def test_body_over_one_mib_is_refused_with_413(harness: Harness) -> None:
    body = oversized_body()
    assert len(body) > harness.settings.max_request_bytes == ONE_MIB

    response = await harness.client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 413


async def test_chunked_body_over_one_mib_is_refused_with_413(harness: Harness) -> None:
    body = oversized_body(2 * ONE_MIB)
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            sent.append(start)
            yield body[start : start + 64 * 1024]

    response = await harness.client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )

    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 413
    # Refused as soon as the limit is crossed, not after buffering the whole upload.
    assert len(sent) <= ONE_MIB // (64 * 1024) + 1 < len(body) // (64 * 1024)


async def test_body_just_under_the_limit_is_served(harness: Harness) -> None:
    query = "{ viewer { id } }"
    padding = " " * (ONE_MIB - 100 - len(query))
    body = json.dumps({"query": query + padding}).encode()
    assert len(body) < ONE_MIB

    response = await harness.client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": None}}


# ---------------------------------------------------------------- error masking


async def test_unexpected_exception_is_masked(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    token = await harness.register("mask@example.test")

    async def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(GatewayService, "list", explode)
    response = await harness.client.post(
        "/graphql", json={"query": LIST_GATEWAYS}, headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert messages(body) == ["Unexpected error."]
    assert "secret detail" not in response.text
    assert "RuntimeError" not in response.text
    # The detail stays on the server side, for whoever reads the logs.
    assert any("secret detail" in r.getMessage() for r in caplog.records)


async def test_expected_auth_errors_are_not_masked(harness: Harness) -> None:
    body = await harness.post(LIST_GATEWAYS)

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["errors"][0]["message"] != "Unexpected error."


# ---------------------------------------------------------------- production mode

INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_introspection_is_allowed_outside_production(harness: Harness) -> None:
    body = await harness.post(INTROSPECTION)

    assert body == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_introspection_is_refused_in_production(production: Harness) -> None:
    schema_body = await production.post(INTROSPECTION)
    type_body = await production.post('{ __type(name: "Gateway") { name } }')
    typename = await production.post("{ __typename }")

    assert schema_body.get("data") is None
    assert "introspection has been disabled" in messages(schema_body)[0]
    assert type_body.get("data") is None
    assert "introspection has been disabled" in messages(type_body)[0]
    assert typename == {"data": {"__typename": "Query"}}  # not introspection: still answered


async def test_field_suggestions_only_outside_production(
    harness: Harness, production: Harness
) -> None:
    development = await harness.post("{ viewr { id } }")
    hidden = await production.post("{ viewr { id } }")

    assert "Did you mean 'viewer'?" in messages(development)[0]
    [message] = messages(hidden)
    assert "Cannot query field 'viewr'" in message
    assert "Did you mean" not in message


# ---------------------------------------------------------------- CORS


async def test_cors_allows_the_configured_origin(with_cors: Harness) -> None:
    preflight = await with_cors.client.options(
        "/graphql",
        headers={
            "Origin": SPA_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-organization-id",
        },
    )
    actual = await with_cors.client.post(
        "/graphql", json={"query": "{ viewer { id } }"}, headers={"Origin": SPA_ORIGIN}
    )

    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == SPA_ORIGIN
    allowed_headers = preflight.headers["access-control-allow-headers"].lower()
    assert "x-organization-id" in allowed_headers
    assert "authorization" in allowed_headers
    assert actual.headers["access-control-allow-origin"] == SPA_ORIGIN


async def test_cors_ignores_other_origins(with_cors: Harness) -> None:
    other = "https://evil.example.test"
    preflight = await with_cors.client.options(
        "/graphql", headers={"Origin": other, "Access-Control-Request-Method": "POST"}
    )
    actual = await with_cors.client.post(
        "/graphql", json={"query": "{ viewer { id } }"}, headers={"Origin": other}
    )

    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in actual.headers


async def test_no_cors_origins_by_default(harness: Harness) -> None:
    response = await harness.client.post(
        "/graphql", json={"query": "{ viewer { id } }"}, headers={"Origin": SPA_ORIGIN}
    )

    assert harness.settings.cors_origins == []
    assert "access-control-allow-origin" not in response.headers
