"""The built web console served by the app: caching, SPA fallback, CSP, and the unbuilt page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.main import create_app
from tests.support.harness import make_settings

INDEX = "<!doctype html><title>console</title><script src=/assets/index-abc123.js></script>"


def build(directory: Path) -> Path:
    (directory / "assets").mkdir(parents=True)
    (directory / "index.html").write_text(INDEX)
    (directory / "assets" / "index-abc123.js").write_text("console.log('console')")
    (directory / "favicon.svg").write_text("<svg/>")
    return directory


async def client_for(console_dir: Path, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(f"sqlite://{tmp_path / 'unused.sqlite3'}", str(tmp_path))
    app = create_app(settings, run_health_checker=False, console_dir=console_dir)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as client:
        yield client


@pytest.fixture
async def built(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for client in client_for(build(tmp_path / "dist"), tmp_path):
        yield client


@pytest.fixture
async def unbuilt(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for client in client_for(tmp_path / "no-dist", tmp_path):
        yield client


def assert_strict_csp(response: httpx.Response) -> None:
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    # Same origin only, its WebSocket named explicitly.
    assert policy["connect-src"] == "'self' ws://console.test"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_index_is_served_at_the_root_and_revalidated(built: httpx.AsyncClient) -> None:
    response = await built.get("/")
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert_strict_csp(response)


@pytest.mark.parametrize(
    "path", ["/gateways", "/gateways/new", "/gateways/0193e1a2-7b1c", "/explorer"]
)
async def test_client_routes_fall_back_to_the_index(built: httpx.AsyncClient, path: str) -> None:
    response = await built.get(path)
    assert (response.status_code, response.text) == (200, INDEX)
    assert response.headers["cache-control"] == "no-cache"


async def test_hashed_assets_are_immutable(built: httpx.AsyncClient) -> None:
    response = await built.get("/assets/index-abc123.js")
    assert response.status_code == 200
    assert response.text == "console.log('console')"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "javascript" in response.headers["content-type"]
    assert_strict_csp(response)
    # StaticFiles' conditional requests still work underneath.
    again = await built.get(
        "/assets/index-abc123.js", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304


async def test_top_level_files_are_served_and_revalidated(built: httpx.AsyncClient) -> None:
    response = await built.get("/favicon.svg")
    assert (response.status_code, response.text) == (200, "<svg/>")
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    "path",
    [
        "/assets/index-missing.js",  # an old build's asset: never the index with status 200
        "/robots.txt",
        "/api/unknown",
        "/api/webhooks",
        "/graphql/extra",
        "/readyz/more",
        "/metrics",  # with metrics off: a 404, not the console
    ],
)
async def test_missing_files_and_api_paths_do_not_fall_back(
    built: httpx.AsyncClient, path: str
) -> None:
    response = await built.get(path)
    assert response.status_code == 404
    assert INDEX not in response.text


async def test_paths_outside_the_build_are_not_served(
    built: httpx.AsyncClient, tmp_path: Path
) -> None:
    (tmp_path / "secret.txt").write_text("do not serve")
    for path in ["/assets/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt", "/%2e%2e/secret.txt"]:
        response = await built.get(path)
        assert "do not serve" not in response.text, path


async def test_the_api_is_not_shadowed(built: httpx.AsyncClient) -> None:
    response = await built.get("/healthz")
    assert response.status_code == 200
    assert "content-security-policy" not in response.headers


async def test_an_unbuilt_console_says_how_to_build_it(unbuilt: httpx.AsyncClient) -> None:
    for path in ["/", "/gateways"]:
        response = await unbuilt.get(path)
        assert response.status_code == 503
        assert "make web" in response.text
        assert response.headers["cache-control"] == "no-store"
        assert_strict_csp(response)
    assert (await unbuilt.get("/assets/index-abc123.js")).status_code == 404
    assert (await unbuilt.get("/healthz")).status_code == 200


async def test_a_console_built_while_the_server_runs_is_served(
    unbuilt: httpx.AsyncClient, tmp_path: Path
) -> None:
    assert (await unbuilt.get("/")).status_code == 503
    build(tmp_path / "no-dist")
    response = await unbuilt.get("/")
    assert (response.status_code, response.text) == (200, INDEX)
    assert (await unbuilt.get("/assets/index-abc123.js")).status_code == 200
