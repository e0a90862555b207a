"""The command line (`python -m app ...`), run as a real subprocess the way operators run it."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from uuid import UUID

import pytest

from app.cli import build_parser
from app.config import Settings
from app.core.crypto import format_key, generate_key
from tests.support.harness import TEST_KEY, make_settings, running_app

REPO_ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS = sorted(p.stem for p in (REPO_ROOT / "migrations").glob("[0-9]*.py") if p.is_file())
NEW_KEY = generate_key("k2")
SUBCOMMANDS = sorted(
    next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
)

OPTIONS = {
    "serve": ("--host", "--port"),
    "rotate-keys": ("--dry-run",),
    "create-user": ("--password-stdin", "--generate-password", "--organization", "--slug"),
}


def cli_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The parent environment without any app setting, plus `settings`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in Settings.model_fields and k != "PYTHONPATH"
    }
    defaults = {"APP_ENV": "test", "DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING"}
    env.update(defaults | settings, PYTHONPATH=str(REPO_ROOT))
    return env


def screen_lines(output: str) -> list[str]:
    """What a terminal shows: a progress line rewritten with `\\r` shows its last state."""
    return [line.split("\r")[-1] for line in output.split("\n") if line]


def run_cli(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    # cwd = tmp_path: no `.env` of the developer's checkout is read.
    return subprocess.run(  # noqa: S603 - fixed argv, our own interpreter
        [sys.executable, "-m", "app", *args],
        cwd=tmp_path,
        env=cli_env(tmp_path, **settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# ---------------------------------------------------------------- help


def test_help_lists_the_subcommands(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "--help")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m app")
    for command in ("serve", "migrate", "rotate-keys", "create-user", "demo"):
        assert command in result.stdout
        assert command in SUBCOMMANDS


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_each_subcommand_has_help(tmp_path: Path, command: str) -> None:
    # No database and an invalid PORT: --help must not need working settings.
    result = run_cli(tmp_path, command, "--help", PORT="abc")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python -m app {command}")
    for option in OPTIONS.get(command, ()):
        assert option in result.stdout
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("args", [[], ["frobnicate"]], ids=["none", "unknown"])
def test_a_missing_or_unknown_subcommand_is_a_usage_error(tmp_path: Path, args: list[str]) -> None:
    result = run_cli(tmp_path, *args)

    assert result.returncode == 2
    assert "usage: python -m app" in result.stderr
    assert result.stdout == ""


# ---------------------------------------------------------------- migrate


def test_migrate_creates_the_default_database_in_data_dir_and_is_idempotent(
    tmp_path: Path,
) -> None:
    first = run_cli(tmp_path, "migrate")

    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        *(f"applied app.{name}" for name in MIGRATIONS),
        "database is up to date",
    ]
    assert (tmp_path / "data" / "gateway.sqlite3").is_file()

    second = run_cli(tmp_path, "migrate")

    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines() == ["database is up to date"]


def test_migrate_honours_database_url(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "custom.sqlite3"
    target.parent.mkdir()

    result = run_cli(tmp_path, "migrate", DATABASE_URL=f"sqlite://{target}")

    assert result.returncode == 0, result.stderr
    assert f"applied app.{MIGRATIONS[0]}" in result.stdout
    assert target.is_file()
    assert not (tmp_path / "data" / "gateway.sqlite3").exists()


# ---------------------------------------------------------------- invalid settings


@pytest.mark.parametrize("command", ["serve", "migrate", "rotate-keys"])
def test_an_invalid_setting_exits_2_with_one_line(tmp_path: Path, command: str) -> None:
    result = run_cli(tmp_path, command, PORT="abc")

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("invalid setting PORT: ")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_production_without_keys_exits_2_naming_encryption_keys(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "migrate", APP_ENV="production")

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "invalid settings: ENCRYPTION_KEYS is required when APP_ENV=production"
    ]


def test_a_malformed_key_exits_2_without_echoing_it(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "rotate-keys", ENCRYPTION_KEYS="k1:c2VjcmV0LWtleS1ieXRlcw==")

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("invalid setting ENCRYPTION_KEYS: ")
    assert "c2VjcmV0LWtleS1ieXRlcw" not in result.stderr


# ---------------------------------------------------------------- rotate-keys


def test_rotate_keys_dry_run_on_an_empty_database(tmp_path: Path, database_url: str) -> None:
    result = run_cli(
        tmp_path, "rotate-keys", "--dry-run", DATABASE_URL=database_url, ENCRYPTION_KEYS=TEST_KEY
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "0 gateways use a key other than 'test1' (dry run: nothing changed)"
    )


@pytest.fixture
async def seeded(database_url: str, tmp_path: Path) -> list[UUID]:
    """Two gateways sealed under TEST_KEY, written by the real app, which is then stopped."""
    settings = make_settings(database_url, str(tmp_path / "seed"))
    async with running_app(settings) as harness:
        token = await harness.register("operator@example.com")
        ids = []
        for name in ("one", "two"):
            data = await harness.gql(
                """mutation($name: String!) { createGateway(input: {name: $name, type: WEBHOOK,
                     credentials: {webhook: {url: "https://hooks.example.com/x"}}}) {
                     ... on Gateway { id } } }""",
                {"name": name},
                token=token,
            )
            ids.append(UUID(data["createGateway"]["id"]))
    return ids


def test_rotate_keys_dry_run_then_real_run(
    tmp_path: Path, database_url: str, seeded: list[UUID]
) -> None:
    keys = f"{format_key(NEW_KEY)},{TEST_KEY}"
    before = (Path(database_url.removeprefix("sqlite://"))).read_bytes()

    dry = run_cli(
        tmp_path, "rotate-keys", "--dry-run", DATABASE_URL=database_url, ENCRYPTION_KEYS=keys
    )

    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.strip() == "2 gateways use a key other than 'k2' (dry run: nothing changed)"
    assert Path(database_url.removeprefix("sqlite://")).read_bytes() == before

    real = run_cli(tmp_path, "rotate-keys", DATABASE_URL=database_url, ENCRYPTION_KEYS=keys)

    assert real.returncode == 0, real.stderr
    lines = screen_lines(real.stdout)
    assert lines == [
        "2/2 gateways processed",
        "re-encrypted 2 gateways with key 'k2'",
        "0 gateways still use other keys",
    ]

    again = run_cli(tmp_path, "rotate-keys", DATABASE_URL=database_url, ENCRYPTION_KEYS=keys)

    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [
        "re-encrypted 0 gateways with key 'k2'",
        "0 gateways still use other keys",
    ]


def test_rotate_keys_exits_1_when_rows_cannot_be_decrypted(
    tmp_path: Path, database_url: str, seeded: list[UUID]
) -> None:
    # TEST_KEY is gone from the ring: nothing can be re-encrypted.
    result = run_cli(
        tmp_path, "rotate-keys", DATABASE_URL=database_url, ENCRYPTION_KEYS=format_key(NEW_KEY)
    )

    assert result.returncode == 1
    lines = screen_lines(result.stdout)
    assert lines == [
        "2/2 gateways processed",
        "re-encrypted 0 gateways with key 'k2'",
        "2 gateways cannot be decrypted with any configured key",
        "2 gateways still use other keys",
    ]


@pytest.mark.parametrize("command", ["rotate-keys", "check-gateways"])
def test_an_unmigrated_database_is_one_line_not_a_traceback(tmp_path: Path, command: str) -> None:
    url = f"sqlite://{tmp_path / 'empty.sqlite3'}"
    result = run_cli(tmp_path, command, DATABASE_URL=url)

    assert result.returncode == 2
    assert "database error:" in result.stderr
    assert "python -m app migrate" in result.stderr
    assert "Traceback" not in result.stderr
