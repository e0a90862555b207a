"""Client addresses (app/core/client_address.py) and X-Forwarded-For through the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from app.config import Settings, SettingsError
from app.core.client_address import parse_trusted_proxies, throttle_key
from app.main import create_app
from tests.support.harness import make_settings

LOGIN = """mutation($input: LoginInput!) { login(input: $input) {
  __typename ... on RateLimitedError { retryAfterSeconds } ... on AuthPayload { token } } }"""
PROXY = "10.0.0.5"


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("[2001:db8::1]", "2001:db8::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        (None, "unknown"),
        ("", "unknown"),
        ("not-an-address" * 10, ("not-an-address" * 10)[:64]),
    ],
)
def test_throttle_key(host: str | None, key: str) -> None:
    assert throttle_key(host) == key


def test_trusted_proxies_are_validated() -> None:
    assert parse_trusted_proxies(" 10.0.0.0/8, ::1 ") == "10.0.0.0/8,::1"
    assert parse_trusted_proxies("*") == "*"
    with pytest.raises(ValueError, match=r"'proxy\.internal' is not an IP address"):
        parse_trusted_proxies("10.0.0.1,proxy.internal")
    with pytest.raises(SettingsError, match="FORWARDED_ALLOW_IPS"):
        Settings.load(_env_file=None, forwarded_allow_ips="10.0.0.300")


@asynccontextmanager
async def client_from(settings: Settings, peer: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, run_health_checker=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def login(client: httpx.AsyncClient, forwarded_for: str | None = None) -> str:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    body = {"query": LOGIN, "variables": {"input": {"email": "x@example.com", "password": "nope"}}}
    response = await client.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200, response.text
    typename: str = response.json()["data"]["login"]["__typename"]
    return typename


async def exhaust(client: httpx.AsyncClient, forwarded_for: str | None) -> None:
    """Use up the (email, client) budget of whoever the app believes is calling."""
    for _ in range(5):
        assert await login(client, forwarded_for) == "InvalidCredentialsError"
    assert await login(client, forwarded_for) == "RateLimitedError"


def settings_for(database_url: str, tmp_path: Path, trusted: str) -> Settings:
    return make_settings(database_url, str(tmp_path), forwarded_allow_ips=trusted)


async def test_forwarded_for_is_ignored_from_an_untrusted_peer(
    database_url: str, tmp_path: Path
) -> None:
    async with client_from(settings_for(database_url, tmp_path, PROXY), "203.0.113.50") as c:
        # A client that invents a new X-Forwarded-For per guess is still one client.
        for n in range(5):
            assert await login(c, f"192.0.2.{n}") == "InvalidCredentialsError"
        assert await login(c, "192.0.2.99") == "RateLimitedError"


async def test_forwarded_for_is_honoured_from_a_trusted_proxy(
    database_url: str, tmp_path: Path
) -> None:
    async with client_from(settings_for(database_url, tmp_path, PROXY), PROXY) as c:
        await exhaust(c, "192.0.2.1")
        # Another client behind the same proxy is another client.
        assert await login(c, "192.0.2.2") == "InvalidCredentialsError"


async def test_the_right_most_untrusted_hop_is_the_client(
    database_url: str, tmp_path: Path
) -> None:
    trusted = f"{PROXY},10.0.0.6"
    async with client_from(settings_for(database_url, tmp_path, trusted), PROXY) as c:
        # 192.0.2.1 reached the trusted proxies; whatever it put in front of its own address is
        # forged, so varying that part changes nothing.
        for n in range(5):
            assert await login(c, f"198.51.100.{n}, 192.0.2.1, 10.0.0.6") == (
                "InvalidCredentialsError"
            )
        assert await login(c, "198.51.100.99, 192.0.2.1, 10.0.0.6") == "RateLimitedError"
        assert await login(c, "192.0.2.2, 10.0.0.6") == "InvalidCredentialsError"


async def test_the_audit_trail_records_the_forwarded_client(
    database_url: str, tmp_path: Path
) -> None:
    from app.audit.models import AuditEvent

    register = """mutation($input: RegisterInput!) { register(input: $input) {
      __typename ... on AuthPayload { token } } }"""
    create = """mutation($input: CreateGatewayInput!) { createGateway(input: $input) {
      __typename } }"""
    async with client_from(settings_for(database_url, tmp_path, PROXY), PROXY) as c:
        headers = {"X-Forwarded-For": "192.0.2.77"}
        account = {"email": "a@example.com", "password": "correct horse battery", "name": "A"}
        response = await c.post(
            "/graphql",
            json={"query": register, "variables": {"input": account}},
            headers=headers,
        )
        token = response.json()["data"]["register"]["token"]
        hook = {"url": "https://hooks.example.test/in"}
        gateway = {"name": "Hook", "type": "WEBHOOK", "credentials": {"webhook": hook}}
        response = await c.post(
            "/graphql",
            json={"query": create, "variables": {"input": gateway}},
            headers={**headers, "Authorization": f"Bearer {token}"},
        )
        assert response.json()["data"]["createGateway"]["__typename"] == "Gateway"
        event = await AuditEvent.get(action="gateway.create")
        assert event.ip_address == "192.0.2.77"


def test_serve_leaves_forwarded_headers_to_the_app(database_url: str, tmp_path: Path) -> None:
    from app.cli import server_config

    app = create_app(settings_for(database_url, tmp_path, PROXY), run_health_checker=False)
    # uvicorn applying X-Forwarded-For as well would apply it twice (and with its own
    # FORWARDED_ALLOW_IPS reading): the app's middleware, tested above, is the only one.
    assert server_config(app, "127.0.0.1", 8000).proxy_headers is False
