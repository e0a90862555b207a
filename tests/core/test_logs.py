"""No secret reaches the logs at any level (app/core/logs.py).

Real operations run through the app with LOG_LEVEL=DEBUG and the real handler and formatters, on
SQLite and PostgreSQL; the captured output must not contain any password, token, token hash,
password hash, credential ciphertext, email or bot token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.auth.models import User
from app.core.logs import configure_logging
from app.gateways.models import Gateway
from tests.support.harness import Harness, make_settings, running_app
from tests.support.upstreams import FakeUpstreams

PASSWORD = "correct horse battery staple"
EMAIL = "secret.person@example.com"
BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
OPENAI_KEY = "sk-test-logs-0123456789abcdefWXYZ"
SIGNING_SECRET = "whsec_bG9ncy10ZXN0LXNpZ25pbmctc2VjcmV0LTMyYnl0ZXM="

REGISTER = """mutation($input: RegisterInput!) { register(input: $input) {
  __typename ... on AuthPayload { token } } }"""
LOGIN = """mutation($input: LoginInput!) { login(input: $input) {
  __typename ... on AuthPayload { token } } }"""
CREATE = """mutation($input: CreateGatewayInput!) { createGateway(input: $input) {
  __typename ... on Gateway { id } } }"""
CONNECT = """mutation($id: ID!) { connectGateway(id: $id) { __typename } }"""
VIEWER = "{ viewer { email } }"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state; put it back for the other tests."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    names = ["tortoise.db_client", "aiosqlite", "httpx", "httpcore"]
    saved = {n: (logging.getLogger(n).level, logging.getLogger(n).filters[:]) for n in names}
    yield
    root.handlers[:], root.level = handlers, level
    for name, (saved_level, filters) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(saved_level)
        logger.filters[:] = filters


def telegram(request: httpx.Request) -> httpx.Response:
    method = request.url.path.rsplit("/", 1)[-1]
    results: dict[str, object] = {
        "getMe": {"id": 123456789, "is_bot": True, "first_name": "T", "username": "t_bot"},
        "setWebhook": True,
    }
    return httpx.Response(200, json={"ok": True, "result": results.get(method, True)})


async def run_operations(harness: Harness) -> tuple[str, str]:
    """Register, fail and succeed a login, create and connect gateways, read; -> (token, id)."""
    account = {"email": EMAIL, "password": PASSWORD, "name": "Secret Person"}
    data = await harness.gql(REGISTER, {"input": account})
    token: str = data["register"]["token"]
    await harness.gql(LOGIN, {"input": {"email": EMAIL, "password": "wrong password!"}})
    data = await harness.gql(LOGIN, {"input": {"email": EMAIL, "password": PASSWORD}})
    second: str = data["login"]["token"]
    assert (await harness.gql(VIEWER, token=second))["viewer"]["email"] == EMAIL
    gateways = [
        {
            "name": "Bot",
            "type": "TELEGRAM_BOT",
            "credentials": {"telegramBot": {"botToken": BOT_TOKEN}},
        },
        {
            "name": "AI",
            "type": "AI",
            "credentials": {"ai": {"provider": "OPENAI", "apiKey": OPENAI_KEY}},
        },
        {
            "name": "Hook",
            "type": "WEBHOOK",
            "credentials": {
                "webhook": {"url": "https://hooks.example.test/in", "signingSecret": SIGNING_SECRET}
            },
        },
    ]
    ids = []
    for gateway in gateways:
        data = await harness.gql(CREATE, {"input": gateway}, token=token)
        assert data["createGateway"]["__typename"] == "Gateway", data
        ids.append(data["createGateway"]["id"])
    data = await harness.gql(CONNECT, {"id": ids[0]}, token=token)
    assert data["connectGateway"]["__typename"] == "Gateway", data
    return token + " " + second, ids[0]


async def secrets_in_the_database() -> list[str]:
    user = await User.get(email=EMAIL)
    values = [user.password_hash]
    for gateway in await Gateway.all():
        blob = bytes(gateway.credentials_ciphertext)
        values += [blob.hex(), base64.b64encode(blob).decode(), repr(blob)[2:40]]
        if gateway.webhook_secret_hash:
            values.append(gateway.webhook_secret_hash)
    return values


@pytest.mark.parametrize("log_format", ["text", "json"])
@pytest.mark.parametrize("log_sql", [False, True])
async def test_debug_logs_of_real_operations_hold_no_secret(
    any_database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    log_format: str,
    log_sql: bool,
) -> None:
    # Configured before the app starts, like `serve`; the handler writes to the captured stderr.
    configure_logging("DEBUG", log_format, log_sql=log_sql)
    upstreams = FakeUpstreams()
    upstreams.route("api.telegram.test", telegram)
    settings = make_settings(any_database_url, str(tmp_path), log_level="DEBUG")
    async with running_app(settings, upstream_transport=upstreams.transport()) as harness:
        tokens, _ = await run_operations(harness)
        stored = await secrets_in_the_database()

    output = capsys.readouterr().err
    assert "auth.login.failed" in output  # the capture works, and DEBUG is on
    token_hashes = [hashlib.sha256(t.encode()).hexdigest() for t in tokens.split()]
    secrets = [PASSWORD, EMAIL, BOT_TOKEN, OPENAI_KEY, SIGNING_SECRET, *tokens.split()]
    for secret in [*secrets, *token_hashes, *stored]:
        assert secret not in output
    # JSON escapes nothing in these values, but check the parsed form too.
    if log_format == "json":
        records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        assert records
        assert EMAIL not in json.dumps(records)
    # The statement log is there only when asked for.
    assert ("db.query INSERT INTO" in output) is log_sql


def test_library_loggers_have_a_floor_whatever_the_level() -> None:
    configure_logging("DEBUG", "text")

    for name in ("tortoise.db_client", "aiosqlite", "httpx", "httpcore"):
        assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
    assert logging.getLogger("app.auth").isEnabledFor(logging.DEBUG)


def test_the_sql_logger_drops_parameters_even_when_raised_by_hand(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("DEBUG", "text")
    sql = logging.getLogger("tortoise.db_client")
    sql.setLevel(logging.DEBUG)  # an operator's override, say

    sql.debug("%s: %s", "SELECT 1 WHERE email=?", ["secret.person@example.com"])
    sql.debug("Created connection pool %s with params: %s", "pool", {"password": "hunter2"})

    output = capsys.readouterr().err
    assert "db.query SELECT 1 WHERE email=?" in output
    assert "secret.person" not in output
    assert "hunter2" not in output
