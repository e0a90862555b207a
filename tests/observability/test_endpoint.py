"""/metrics through the ASGI app: on/off, bearer token, HTTP and GraphQL series, bounded labels."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from app.observability.setup import build_observability
from tests.observability.scrape import label_values, value
from tests.support.harness import TEST_KEY, Harness, make_settings, running_app
from tests.support.upstreams import FakeUpstreams

METRICS_TOKEN = "scrape-token-0123456789"


def test_metrics_are_on_by_default_only_in_development() -> None:
    assert Settings(_env_file=None, app_env="development").metrics_on  # type: ignore[call-arg]
    assert not Settings(_env_file=None, app_env="test").metrics_on  # type: ignore[call-arg]
    explicit = Settings(_env_file=None, app_env="test", metrics_enabled=True)  # type: ignore[call-arg]
    assert explicit.metrics_on


def test_unprotected_metrics_in_production_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    values: dict[str, Any] = {"app_env": "production", "encryption_keys": TEST_KEY}
    open_metrics = Settings(_env_file=None, metrics_enabled=True, **values)  # type: ignore[call-arg]
    with caplog.at_level(logging.WARNING, logger="app.observability"):
        build_observability(open_metrics)
    assert [r.getMessage() for r in caplog.records] == ["observability.metrics.unprotected"]
    caplog.clear()
    protected = Settings(  # type: ignore[call-arg]
        _env_file=None, metrics_enabled=True, metrics_token=METRICS_TOKEN, **values
    )
    with caplog.at_level(logging.WARNING, logger="app.observability"):
        build_observability(protected)
    assert caplog.records == []


def test_a_short_metrics_token_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        Settings(_env_file=None, metrics_token="short")  # type: ignore[call-arg]


@pytest.fixture
async def metered(
    database_url: str, tmp_path: Path, upstreams: FakeUpstreams
) -> AsyncIterator[Harness]:
    settings = make_settings(database_url, str(tmp_path), metrics_enabled=True)
    async with running_app(settings, upstream_transport=upstreams.transport()) as harness:
        yield harness


async def scrape(h: Harness, **headers: str) -> str:
    response = await h.client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_off_means_no_route(harness: Harness) -> None:
    assert (await harness.client.get("/metrics")).status_code == 404


async def test_token_is_required_when_set(
    database_url: str, tmp_path: Path, upstreams: FakeUpstreams
) -> None:
    settings = make_settings(
        database_url, str(tmp_path), metrics_enabled=True, metrics_token=METRICS_TOKEN
    )
    async with running_app(settings, upstream_transport=upstreams.transport()) as h:
        assert (await h.client.get("/metrics")).status_code == 401
        wrong = {"Authorization": "Bearer scrape-token-wrong-value"}
        refused = await h.client.get("/metrics", headers=wrong)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
        text = await scrape(h, Authorization=f"Bearer {METRICS_TOKEN}")
        assert "http_requests_total" in text


async def test_http_requests_are_labelled_by_route_template(metered: Harness) -> None:
    h = metered
    gateway = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
    await h.client.get(f"/api/webhooks/telegram/{gateway}")  # POST only: 405, same route
    await h.client.get("/healthz")
    await h.client.get("/api/no/such/path/with-an-id-12345")  # the API's: not the console's
    await h.client.get("/gateways/with-an-id-67890")  # a console page
    text = await scrape(h)
    route = "/api/webhooks/telegram/{gateway_id}"
    assert value(text, "http_requests_total", method="GET", route=route, status="405") == 1
    assert value(text, "http_requests_total", method="GET", route="/healthz", status="200") == 1
    assert value(text, "http_requests_total", method="GET", route="unmatched", status="404") == 1
    # The console's page (200 when web/dist is built, 503 when not): its route template.
    assert "/{path:path}" in label_values(text, "http_requests_total", "route")
    assert value(text, "http_request_duration_seconds_count", method="GET", route=route) == 1
    # Neither the id nor the raw path ever becomes a label.
    assert gateway not in text
    assert "with-an-id" not in text


async def test_a_body_refused_before_routing_keeps_its_route(metered: Harness) -> None:
    response = await metered.client.post(
        "/graphql", content=b"x" * (metered.settings.max_request_bytes + 1)
    )
    assert response.status_code == 413
    text = await scrape(metered)
    assert value(text, "http_requests_total", method="POST", route="/graphql", status="413") == 1


async def test_unknown_methods_collapse_to_one_label(metered: Harness) -> None:
    await metered.client.request("BREW", "/healthz")
    text = await scrape(metered)
    assert label_values(text, "http_requests_total", "method") <= {"GET", "other"}


async def _post(h: Harness, body: dict[str, Any], token: str | None = None) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    await h.client.post("/graphql", json=body, headers=headers)


async def test_graphql_operations_by_name_type_and_outcome(metered: Harness) -> None:
    h = metered
    token = await h.register("metrics@example.com")
    # ok: a contract operation name is kept.
    await _post(h, {"query": "query Viewer { viewer { id } }"}, token)
    # expected error member: a gateway that does not exist.
    missing = """mutation TestGateway { testGateway(id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b") {
        __typename } }"""
    await _post(h, {"query": missing}, token)
    # error: an invalid query, under a name the contract does not know.
    await _post(h, {"query": "query MadeUpByTheClient_1 { noSuchField }"})
    # error: not even parseable.
    await _post(h, {"query": "query {"})
    text = await scrape(h)
    name = "graphql_operation_duration_seconds_count"
    assert value(text, name, operation="Viewer", type="query", outcome="ok") == 1
    expected = {"operation": "TestGateway", "type": "mutation", "outcome": "expected_error"}
    assert value(text, name, **expected) == 1
    assert value(text, name, operation="other", type="query", outcome="error") == 1
    assert value(text, name, operation="anonymous", type="unknown", outcome="error") == 1
    assert "MadeUpByTheClient_1" not in text
    # register() is an anonymous mutation that succeeded.
    assert value(text, name, operation="anonymous", type="mutation", outcome="ok") == 1


async def test_every_operation_label_is_bounded(metered: Harness) -> None:
    for i in range(20):
        await _post(metered, {"query": f"query Random{i} {{ __typename }}"})
    text = await scrape(metered)
    assert label_values(text, "graphql_operation_duration_seconds_count", "operation") == {"other"}


async def test_health_check_passes_are_counted(metered: Harness) -> None:
    await metered.services.health_checker.run_once()
    text = await scrape(metered)
    assert value(text, "gateway_health_check_passes_total") == 1
    assert value(text, "gateway_health_checks_total", verdict="healthy") == 0


async def test_two_apps_keep_separate_registries(
    database_url: str, tmp_path: Path, upstreams: FakeUpstreams
) -> None:
    settings = make_settings(database_url, str(tmp_path), metrics_enabled=True)
    async with (
        running_app(settings, upstream_transport=upstreams.transport()) as first,
        running_app(settings, upstream_transport=upstreams.transport()) as second,
    ):
        await first.client.get("/healthz")
        text = await scrape(second)
        assert value(text, "http_requests_total", method="GET", route="/healthz", status="200") == 0
