"""No "Did you mean" in production, over HTTP or the WebSocket.

With introspection off, a hint names a field, argument, type, enum value or input field the
caller did not know: enough to map the schema one typo at a time. Every request below draws a
hint outside production (so the battery provably reaches each place graphql-core builds one);
in production none may.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from app.main import create_app
from tests.support import ws
from tests.support.harness import Harness, make_settings, running_app
from tests.support.server import serving

FILTERED = "query($f: GatewayFilter) { gateways(filter: $f) { total } }"
ENUM_VARIABLE = "query($t: GatewayType) { gateways(filter: {type: $t}) { total } }"
REGISTER = "mutation($input: RegisterInput!) { register(input: $input) { __typename } }"

# (what it probes, query, variables)
TYPOS: list[tuple[str, str, dict[str, Any]]] = [
    ("field", "{ viewr { id } }", {}),
    ("missing selection", "{ viewer }", {}),
    ("field on a subtype", "{ gateway(id: 1) { ... on Gateway { nam } } }", {}),
    (
        "field of an implementation",
        'mutation { register(input: {email: "a@b.c", password: "x", name: "n"}) '
        "{ ... on Error { fieldErrors { field } } } }",
        {},
    ),
    ("argument", "{ gateways(pageSiz: 5) { total } }", {}),
    ("directive argument", "{ viewer @include(iff: true) { id } }", {}),
    ("enum literal", "{ gateways(filter: {type: TELEGRAM_BOTT}) { total } }", {}),
    ("input field literal", "{ gateways(filter: {typ: AI}) { total } }", {}),
    ("variable type", "query($f: GatewayFiltr) { gateways(filter: $f) { total } }", {}),
    ("fragment type condition", "{ viewer { ... on Usr { id } } }", {}),
    ("named fragment type", "{ viewer { ...F } } fragment F on Usr { id }", {}),
    ("enum variable", ENUM_VARIABLE, {"t": "TELEGRAM_BOTT"}),
    ("input field variable", FILTERED, {"f": {"typ": "AI"}}),
    ("nested enum variable", FILTERED, {"f": {"status": "CONECTED"}}),
    (
        "mutation input variable",
        REGISTER,
        {"input": {"emial": "a@b.c", "password": "x", "name": "n"}},
    ),
    ("subscription field", "subscription { gatewayStatusChangd { status } }", {}),
    ("subscription argument", "subscription { gatewayStatusChanged(gatewayID: 1) { status } }", {}),
]
HINT = "did you mean"


def hints(errors: list[dict[str, Any]]) -> list[str]:
    return [e["message"] for e in errors if HINT in json.dumps(e).lower()]


async def http_errors(harness: Harness, query: str, variables: dict[str, Any]) -> list[Any]:
    """The errors of the request over POST, and over GET (queries only)."""
    found: list[Any] = []
    post = await harness.client.post("/graphql", json={"query": query, "variables": variables})
    found += post.json().get("errors", [])
    if not query.lstrip().startswith("mutation"):
        params = {"query": query, "variables": json.dumps(variables)}
        get = await harness.client.get("/graphql", params=params)
        found += get.json().get("errors", [])
    return found


@asynccontextmanager
async def server(database_url: str, tmp_path: Path, app_env: str) -> AsyncIterator[str]:
    settings = make_settings(database_url, str(tmp_path), app_env=app_env)
    async with serving(create_app(settings, run_health_checker=False)) as address:
        yield address


async def ws_errors(address: str, token: str, query: str, variables: dict[str, Any]) -> list[Any]:
    async with ws.connect(f"ws://{address}/graphql") as client:
        await client.init(ws.auth_payload(token))
        op = await client.subscribe(query, variables)
        message = await client.receive(op)
    assert message["type"] in {"error", "next"}, message
    payload = message["payload"]
    errors: list[Any] = payload if message["type"] == "error" else payload.get("errors", [])
    return errors


async def register(address: str) -> str:
    mutation = """mutation($input: RegisterInput!) {
        register(input: $input) { ... on AuthPayload { token } } }"""
    variables = {
        "input": {"email": "ws@example.test", "password": "correct horse battery", "name": "W"}
    }
    async with httpx.AsyncClient(base_url=f"http://{address}") as client:
        response = await client.post("/graphql", json={"query": mutation, "variables": variables})
    token: str = response.json()["data"]["register"]["token"]
    return token


async def probe(database_url: str, tmp_path: Path, app_env: str) -> dict[str, list[str]]:
    """Every typo over HTTP and WebSocket; the hinting messages per probe."""
    found: dict[str, list[str]] = {}
    settings = make_settings(database_url, str(tmp_path), app_env=app_env)
    async with running_app(settings) as harness:
        for name, query, variables in TYPOS:
            if not query.startswith("subscription"):  # served over the WebSocket only
                errors = await http_errors(harness, query, variables)
                assert errors, name  # every probe is an error, with or without a hint
                found[f"http {name}"] = hints(errors)
    async with server(database_url, tmp_path, app_env) as address:
        token = await register(address)
        for name, query, variables in TYPOS:
            errors = await ws_errors(address, token, query, variables)
            assert errors, name
            found[f"ws {name}"] = hints(errors)
    return found


async def test_every_probe_draws_a_hint_outside_production(
    database_url: str, tmp_path: Path
) -> None:
    found = await probe(database_url, tmp_path, "development")

    assert [name for name, messages in found.items() if not messages] == []


async def test_no_hint_anywhere_in_production(database_url: str, tmp_path: Path) -> None:
    found = await probe(database_url, tmp_path, "production")

    assert {name: messages for name, messages in found.items() if messages} == {}


async def test_the_errors_keep_their_explanation_without_the_hint(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, str(tmp_path), app_env="production")
    async with running_app(settings) as harness:
        leaf = await harness.post("{ viewer }")
        argument = await harness.post("{ gateways(pageSiz: 5) { total } }")
        enum = await harness.post(ENUM_VARIABLE, {"t": "TELEGRAM_BOTT"})

    assert [e["message"] for e in leaf["errors"]] == [
        "Field 'viewer' of type 'User' must have a selection of subfields."
    ]
    assert [e["message"] for e in argument["errors"]] == [
        "Unknown argument 'pageSiz' on field 'Query.gateways'."
    ]
    assert [e["message"] for e in enum["errors"]] == [
        "Variable '$t' has invalid value: "
        "Value 'TELEGRAM_BOTT' does not exist in 'GatewayType' enum."
    ]
