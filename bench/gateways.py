"""Issue 2 §9: the `gateways` query (pageSize 50, nested owner and organization, credentialInfo)
through GraphQL, against a bare route returning the same data from the same ORM queries."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import httpx

from bench.databases import Engine
from bench.load import LoadSpec
from bench.measure import Options, cpu_note, error_note, measure_pair, served
from bench.process import ServerProcess
from bench.report import Row, Verdict, failed_row, ratio_row

HELLO_REFERENCE = 33_700
PAGE_SIZE = 50
TARGET = 0.5
QUERY = (
    f"query GatewayBench {{ gateways(pageSize: {PAGE_SIZE}) {{ items {{ id name type status "
    "owner { id email } organization { id name } credentialInfo { __typename "
    "... on TelegramBotCredentialInfo { botTokenHint } } } } }"
)


def _specs(server: ServerProcess) -> tuple[LoadSpec, LoadSpec]:
    headers = {
        "Authorization": f"Bearer {server.seed['token']}",
        "X-Organization-Id": server.seed["organization_id"],
        "Content-Type": "application/json",
    }
    baseline = LoadSpec(
        "POST", "/bench/bare/gateways", json.dumps({"pageSize": PAGE_SIZE}), headers
    )
    subject = LoadSpec("POST", "/graphql", json.dumps({"query": QUERY}), headers)
    return baseline, subject


def _items(server: ServerProcess, spec: LoadSpec) -> list[dict[str, Any]]:
    response = httpx.post(
        server.base_url + spec.path, content=spec.body, headers=spec.headers, timeout=30
    )
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise AssertionError(f"{spec.path} answered errors: {body['errors']}")
    items: list[dict[str, Any]] = body["data"]["gateways"]["items"]
    return items


def check_same_data(server: ServerProcess, baseline: LoadSpec, subject: LoadSpec) -> str | None:
    """None when both routes return the same 50 items; otherwise what differs."""
    bare, graphql = _items(server, baseline), _items(server, subject)
    if len(graphql) != PAGE_SIZE:
        return f"GraphQL returned {len(graphql)} items, expected {PAGE_SIZE}"
    if bare != graphql:
        first = next(i for i, (a, b) in enumerate(zip(bare, graphql, strict=False)) if a != b)
        return f"item {first} differs: bare {bare[first]} / graphql {graphql[first]}"
    return None


def run(engine: Engine, options: Options) -> list[Row]:
    scenario = f"gateways [{engine}]"
    with served("gateways", engine, options) as server:
        baseline, subject = _specs(server)
        mismatch = check_same_data(server, baseline, subject)
        if mismatch:
            return [failed_row(scenario, Verdict.ERROR, f"routes disagree: {mismatch}")]
        pair = measure_pair(server, baseline, subject, options)
        hello = calibrate(server, options, f"calibration [{engine}]")
    errors = [
        n for n in (error_note(pair.baseline, "bare"), error_note(pair.subject, "GraphQL")) if n
    ]
    notes = [*errors, cpu_note(pair, "bare", "GraphQL")]
    row = ratio_row(scenario, "req/s", pair.baseline.rps, pair.subject.rps, TARGET)
    row = dataclasses.replace(row, note="; ".join(n for n in notes if n))
    # Failed answers are cheap and would inflate a side's rate: such a figure is not a result.
    return [dataclasses.replace(row, verdict=Verdict.ERROR) if errors else row, hello]


def calibrate(server: ServerProcess, options: Options, label: str) -> Row:
    """The bare JSON hello of ARCHITECTURE.md on the same server: how fast this machine is now."""
    result = options.generator.run(
        server.base_url, LoadSpec("GET", "/bench/bare/hello"), options.connections, 3
    )
    return Row(
        label,
        "hello req/s",
        None,
        result.rps,
        "",
        Verdict.INFO,
        note="a JSON hello route on the server under test, through the app's middleware; "
        f"ARCHITECTURE.md measured ~{HELLO_REFERENCE:,} req/s for a bare Starlette hello",
    )
