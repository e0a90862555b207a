"""`python -m app check-gateways`: one health-check pass as a real subprocess, then exit."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from datetime import timedelta
from pathlib import Path

from app.config import Settings
from app.core.clock import utcnow
from app.gateways.enums import GatewayStatus
from app.gateways.lifecycle import hash_webhook_secret
from app.gateways.models import Gateway
from app.webhooks.models import TelegramUpdate
from tests.support.harness import TEST_KEY, Harness

REPO_ROOT = Path(__file__).resolve().parents[1]
CREATE = """mutation($input: CreateGatewayInput!) { createGateway(input: $input) {
  __typename ... on Gateway { id } ... on Error { message } } }"""
BOT_TOKEN = "123456789:AAHk-SECRET_token_value_abcdefghijklm"


def cli_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The parent environment without any app setting, plus `settings`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in Settings.model_fields and k != "PYTHONPATH"
    }
    env.update(
        {
            "APP_ENV": "test",
            "DATA_DIR": str(tmp_path / "data"),
            "LOG_LEVEL": "WARNING",
            "ENCRYPTION_KEYS": TEST_KEY,
            "PYTHONPATH": str(REPO_ROOT),
            **settings,
        }
    )
    return env


async def run_cli(tmp_path: Path, *args: str, **settings: str) -> tuple[int, str, str]:
    # cwd = tmp_path: no `.env` of the developer's checkout is read.
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        *args,
        cwd=tmp_path,
        env=cli_env(tmp_path, **settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_help(tmp_path: Path) -> None:
    code, out, _ = await run_cli(tmp_path, "check-gateways", "--help")

    assert code == 0
    assert out.startswith("usage: python -m app check-gateways")


async def test_the_command_is_listed_in_the_main_help(tmp_path: Path) -> None:
    code, out, _ = await run_cli(tmp_path, "--help")

    assert code == 0
    assert "check-gateways" in out
    assert "run one health-check pass" in out


async def test_no_live_gateways_checks_nothing_and_exits_0(
    tmp_path: Path, database_url: str
) -> None:
    code, out, err = await run_cli(tmp_path, "check-gateways", DATABASE_URL=database_url)

    assert code == 0, err
    assert out.splitlines() == [
        "checked 0 gateways: 0 healthy, 0 failing, 0 skipped (circuit open); "
        "pruned 0 old Telegram updates and 0 dead tokens or stale failed logins"
    ]


async def create_telegram(h: Harness, token: str) -> str:
    data = {
        "name": "Bot",
        "type": "TELEGRAM_BOT",
        "credentials": {"telegramBot": {"botToken": BOT_TOKEN}},
    }
    result = (await h.gql(CREATE, {"input": data}, token=token))["createGateway"]
    assert result["__typename"] == "Gateway", result
    gateway_id: str = result["id"]
    return gateway_id


async def test_a_disconnected_gateway_is_not_checked_and_old_updates_are_pruned(
    tmp_path: Path, harness: Harness
) -> None:
    token = await harness.register("owner@example.test")
    gateway_id = await create_telegram(harness, token)
    now = utcnow()
    for update_id, age in ((1, timedelta(days=8)), (2, timedelta(days=1))):
        await TelegramUpdate.create(
            gateway_id=gateway_id,
            update_id=update_id,
            update_type="message",
            payload={"update_id": update_id},
            received_at=now - age,
        )

    code, out, err = await run_cli(
        tmp_path, "check-gateways", DATABASE_URL=harness.settings.database_url
    )

    assert code == 0, err
    assert out.startswith("checked 0 gateways: ")
    assert "pruned 1 old Telegram updates" in out
    assert [u.update_id for u in await TelegramUpdate.all()] == [2]
    assert (await Gateway.get(id=gateway_id)).status is GatewayStatus.DISCONNECTED


async def test_a_failing_live_gateway_is_reported_and_exits_1(
    tmp_path: Path, harness: Harness
) -> None:
    token = await harness.register("owner@example.test")
    gateway_id = await create_telegram(harness, token)
    await Gateway.filter(id=gateway_id).update(
        status=GatewayStatus.CONNECTED, webhook_secret_hash=hash_webhook_secret("s")
    )

    code, out, err = await run_cli(
        tmp_path,
        "check-gateways",
        DATABASE_URL=harness.settings.database_url,
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{closed_port()}",
    )

    assert code == 1, err
    lines = out.splitlines()
    assert lines[0].startswith("checked 1 gateways: 0 healthy, 1 failing, ")
    assert lines[1].startswith(f"  {gateway_id}: UNAVAILABLE")
    assert BOT_TOKEN.split(":")[1] not in out + err
    row = await Gateway.get(id=gateway_id)
    assert row.status is GatewayStatus.ERROR
    assert row.last_error is not None
    assert row.last_error.startswith("UNAVAILABLE")
    assert row.health_checked_at is not None
