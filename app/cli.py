"""Command line: `python -m app serve | migrate | rotate-keys | check-gateways`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import uvicorn
from starlette.types import ASGIApp

from app.config import Settings, SettingsError
from app.core.logs import configure_logging

T = TypeVar("T")


def _settings() -> Settings:
    try:
        return Settings.load()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None


def _run_on_database(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Run a command's work with the ORM initialised; a database that is unreachable or not
    migrated is reported in one line (exit 2) instead of a traceback."""
    from tortoise import Tortoise
    from tortoise.exceptions import DBConnectionError, OperationalError

    from app.db import prepare_storage, tortoise_config

    prepare_storage(settings.database_url, settings.data_dir)

    async def run() -> T:
        await Tortoise.init(config=tortoise_config(settings.database_url))
        try:
            return await work()
        finally:
            await Tortoise.close_connections()

    try:
        return asyncio.run(run())
    except (OperationalError, DBConnectionError, OSError) as exc:
        print(
            f"database error: {exc}\n(is DATABASE_URL right, and has `python -m app migrate` run?)",
            file=sys.stderr,
        )
        raise SystemExit(2) from None


def server_config(app: ASGIApp, host: str, port: int, **overrides: Any) -> uvicorn.Config:
    """How `serve` runs uvicorn (the benchmarks use the same, so they measure what ships)."""
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": None,
        # The app handles X-Forwarded-For itself (FORWARDED_ALLOW_IPS, see create_app), so that
        # tests run the same code; doing it here too would apply the header twice.
        "proxy_headers": False,
        "server_header": False,
        # uvicorn's own 16 MiB websocket message limit is far above anything the API needs.
        "ws_max_size": 1024 * 1024,
        # Protocol-level pings keep idle subscription sockets alive through proxies and
        # detect clients that vanished without closing.
        "ws_ping_interval": 20.0,
        "ws_ping_timeout": 20.0,
        # Compression costs ~40 KB of zlib state per socket; status events are tiny anyway.
        "ws_per_message_deflate": False,
    }
    options.update(overrides)
    return uvicorn.Config(app, **options)


def cmd_serve(args: argparse.Namespace) -> int:
    from app.main import create_app

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format.value, log_sql=settings.log_sql)
    config = server_config(
        create_app(settings, tune_gc=True), args.host or settings.host, args.port or settings.port
    )
    uvicorn.Server(config).run()
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from app.db import prepare_storage
    from app.migrate import apply_migrations

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format.value, log_sql=settings.log_sql)
    prepare_storage(settings.database_url, settings.data_dir)

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            print(f"applied {app_label}.{name}")

    asyncio.run(apply_migrations(settings.database_url, progress))
    print("database is up to date")
    return 0


def cmd_rotate_keys(args: argparse.Namespace) -> int:
    from app.gateways.rotation import RotationReport, rotate_keys
    from app.gateways.vault import CredentialVault
    from app.keys import build_keyring

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format.value, log_sql=settings.log_sql)
    vault = CredentialVault(build_keyring(settings))

    def progress(report: RotationReport) -> None:
        done = report.rotated + report.undecryptable + report.skipped_concurrent
        print(f"\r{done}/{report.total} gateways processed", end="", flush=True)

    report = _run_on_database(
        settings, lambda: rotate_keys(vault, dry_run=args.dry_run, progress=progress)
    )
    active = vault.keyring.active_key_id
    if args.dry_run:
        print(f"{report.total} gateways use a key other than {active!r} (dry run: nothing changed)")
        return 0
    if report.total:
        print()
    print(f"re-encrypted {report.rotated} gateways with key {active!r}")
    if report.undecryptable:
        print(f"{report.undecryptable} gateways cannot be decrypted with any configured key")
    if report.skipped_concurrent:
        print(f"{report.skipped_concurrent} gateways changed meanwhile; run again to finish")
    print(f"{report.remaining} gateways still use other keys")
    return 0 if report.remaining == 0 else 1


def cmd_check_gateways(args: argparse.Namespace) -> int:
    from app.container import build_services
    from app.core.clock import SystemClock
    from app.gateways.health_checker import CheckReport

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format.value, log_sql=settings.log_sql)

    async def check() -> CheckReport:
        # The same services as the server: status changes reach subscribers through the
        # broker (Redis when configured) exactly as a server-side check would.
        async with build_services(settings, SystemClock()) as services:
            return await services.health_checker.run_once()

    report = _run_on_database(settings, check)
    print(
        f"checked {report.checked} gateways: {report.healthy} healthy, {report.failed} failing, "
        f"{report.skipped_open_circuit} skipped (circuit open); "
        f"pruned {report.pruned_updates} old Telegram updates and "
        f"{report.pruned_auth_rows} dead tokens or stale failed logins"
    )
    for gateway_id, error in report.failures.items():
        print(f"  {gateway_id}: {error}")
    return 0 if report.failed == 0 else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app",
        description="Multi-tenant GraphQL gateway API server. Settings come from the "
        "environment (see .env.example).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP/WebSocket server (uvicorn)")
    serve.add_argument("--host", help="bind address (default: HOST)")
    serve.add_argument("--port", type=int, help="port (default: PORT)")
    serve.set_defaults(func=cmd_serve)
    migrate = commands.add_parser("migrate", help="apply pending database migrations")
    migrate.set_defaults(func=cmd_migrate)
    rotate = commands.add_parser(
        "rotate-keys",
        help="re-encrypt every gateway's credentials with the first key of ENCRYPTION_KEYS",
    )
    rotate.add_argument(
        "--dry-run", action="store_true", help="only count the gateways that would change"
    )
    rotate.set_defaults(func=cmd_rotate_keys)
    check = commands.add_parser(
        "check-gateways",
        help="run one health-check pass over connected and failing gateways, then exit",
    )
    check.set_defaults(func=cmd_check_gateways)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result
