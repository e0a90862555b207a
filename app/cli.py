"""Command line: `python -m app serve | migrate | rotate-keys | check-gateways | create-user`
(and `demo`).

`python -m app --help` lists them; README "Command line" explains them.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
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


# For scripts: a password in the environment stays out of the shell history and `ps`.
PASSWORD_ENV = "APP_USER_PASSWORD"  # noqa: S105 - the variable's name, not a password


class CommandError(Exception):
    """A refusal to report in one line on stderr, with an exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def read_password(args: argparse.Namespace) -> tuple[str, bool]:
    """The new account's password and whether it was generated; never from the command line.

    In order: `--password-stdin` (one line), $APP_USER_PASSWORD, `--generate-password`, then a
    prompt (twice) when stdin is a terminal. Anything else is a usage error, not a silent default.
    """
    from app.seed import generate_password

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CommandError("--password-stdin: standard input held no password", 2)
        return password, False
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV], False
    if args.generate_password:
        return generate_password(), True
    if not sys.stdin.isatty():
        raise CommandError(
            f"no password: use --password-stdin, {PASSWORD_ENV} or --generate-password", 2
        )
    password = getpass.getpass("Password: ")
    if getpass.getpass("Repeat it: ") != password:
        raise CommandError("the passwords differ", 2)
    return password, False


def _domain_error(exc: Exception) -> CommandError:
    from app.errors import ValidationFailedError

    if isinstance(exc, ValidationFailedError):
        return CommandError("; ".join(f"{i.field}: {i.message}" for i in exc.issues))
    return CommandError(str(exc))


def _run_command(settings: Settings, work: Callable[[], Awaitable[int]]) -> int:
    """Run `work` on the database; a CommandError becomes one line on stderr and its status."""
    try:
        return _run_on_database(settings, work)
    except CommandError as exc:
        print(exc, file=sys.stderr)
        return exc.status


def cmd_create_user(args: argparse.Namespace) -> int:
    from app.auth.models import User
    from app.container import build_services
    from app.core.clock import SystemClock
    from app.errors import ConflictError, ValidationFailedError
    from app.seed import ensure_user, make_owner

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format.value, log_sql=settings.log_sql)
    email: str = args.email.strip().lower()

    async def work() -> int:
        async with build_services(settings, SystemClock()) as services:
            exists = await User.filter(email=email).exists()
            if exists and args.organization is None:
                raise CommandError(
                    f"a user with the email {email!r} exists already "
                    "(add --organization NAME to make them the OWNER of a new organization)"
                )
            password, generated = (None, False) if exists else read_password(args)
            name = args.name or email.split("@", 1)[0]
            try:
                user, created = await ensure_user(services, email, name, password)
                if created:
                    print(f"created user {user.email} (id {user.id})")
                    if generated:
                        print(f"password: {password}")
                if args.organization is not None:
                    org = await make_owner(user, args.organization, args.slug)
                    print(
                        f"created organization {org.name!r} (slug {org.slug}, id {org.id}) "
                        f"with {user.email} as OWNER"
                    )
            except (ValidationFailedError, ConflictError) as exc:
                raise _domain_error(exc) from None
        return 0

    return _run_command(settings, work)


def cmd_demo(args: argparse.Namespace) -> int:
    from app.container import build_services
    from app.core.clock import SystemClock
    from app.errors import ConflictError
    from app.seed import DEMO_EMAIL, DemoExistsError, seed_demo

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format.value, log_sql=settings.log_sql)
    if settings.is_production:
        print("demo refuses to run with APP_ENV=production", file=sys.stderr)
        return 2

    async def work() -> int:
        async with build_services(settings, SystemClock()) as services:
            try:
                data = await seed_demo(services)
            except (DemoExistsError, ConflictError):
                raise CommandError(
                    f"the demo data exists already ({DEMO_EMAIL}); nothing changed. Log in "
                    "with the password printed the first time, or start from a new database."
                ) from None
        gateways = ", ".join(f"{n} {t.value}" for t, n in data.gateways.items())
        print("demo data created")
        print(f"  log in as {data.email} with the password {data.password}")
        org = data.organization
        print(f"  organization {org.name!r} (slug {org.slug}), owned by {data.email}")
        print(f"  gateways: {gateways}; all DISCONNECTED, with made-up credentials")
        return 0

    return _run_command(settings, work)


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
    create_user = commands.add_parser(
        "create-user",
        help="create an account (and/or make it the OWNER of a new organization) without the API",
        description="Create an account. The password is read from a prompt, from standard input "
        f"(--password-stdin) or from ${PASSWORD_ENV}, or generated and printed once; it is never "
        "an argument. With --organization, an existing account is made the OWNER of a new "
        "organization (no password needed).",
    )
    create_user.add_argument("email")
    create_user.add_argument("--name", help="display name (default: the email's local part)")
    create_user.add_argument(
        "--organization",
        metavar="NAME",
        help="also create this organization, with the account as its OWNER",
    )
    create_user.add_argument("--slug", help="the organization's slug (default: from its name)")
    source = create_user.add_mutually_exclusive_group()
    source.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    source.add_argument(
        "--generate-password", action="store_true", help="generate a password and print it once"
    )
    create_user.set_defaults(func=cmd_create_user)
    demo = commands.add_parser(
        "demo",
        help="fill a development database with a demo account, organization and gateways",
        description="Create the account demo@example.com (a generated password is printed), "
        "an organization it owns and a few DISCONNECTED gateways of each type with made-up "
        "credentials; no upstream is called. Refuses with APP_ENV=production, and on a "
        "database that has the demo account already.",
    )
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result
