"""The server the console's browser tests (web/e2e, Playwright) run against.

    python -m tests.e2e.console_server --port 18180 --control-port 18181

Starts the fake Telegram and OpenAI upstreams on 127.0.0.1, then the real server
(`python -m app migrate` and `python -m app serve`, as tests/e2e does) on a fresh SQLite
database with its upstream base URLs pointing at the fakes, serving the built console from
`web/dist`. It runs until SIGTERM/SIGINT and then stops every process and thread it started.

A small control API on `--control-port` does what the browser tests need beyond the product:

- `POST /memberships {"email", "organizationId", "role"}` adds an existing user to an
  organization directly through the ORM. The product's own way (`addOrganizationMember`) is
  changing into an invitation, and a read-only MEMBER test must not depend on that flow.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tortoise import Tortoise

from app.auth.models import User
from app.db import tortoise_config
from app.organizations.models import Membership, Organization, OrganizationRole
from tests.e2e.fakes import FakeOpenAIAPI, FakeTelegramAPI, ServedApp, running
from tests.support.server import migrate, server_env, server_process

# The fake OpenAI accepts this key only; any other is refused with 401 (a failing test).
OPENAI_KEY = "sk-console-e2e-0123456789"
PUBLIC_BASE_URL = "https://console-e2e.example.test"


def control_app(database_url: str) -> Starlette:
    async def add_membership(request: Request) -> JSONResponse:
        body = await request.json()
        await Tortoise.init(config=tortoise_config(database_url))
        try:
            user = await User.get_or_none(email=str(body["email"]).lower())
            organization = await Organization.get_or_none(id=body["organizationId"])
            if user is None or organization is None:
                return JSONResponse({"error": "no such user or organization"}, status_code=404)
            membership = await Membership.create(
                user=user, organization=organization, role=OrganizationRole(body["role"])
            )
            return JSONResponse({"id": str(membership.id)}, status_code=201)
        finally:
            await Tortoise.close_connections()

    return Starlette(routes=[Route("/memberships", add_membership, methods=["POST"])])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True, help="the server's port")
    parser.add_argument("--control-port", type=int, required=True)
    args = parser.parse_args(argv)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    with contextlib.ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="console-e2e-")))
        telegram = stack.enter_context(running(FakeTelegramAPI()))
        openai = stack.enter_context(running(FakeOpenAIAPI(OPENAI_KEY)))
        database_url = f"sqlite://{directory / 'console.sqlite3'}"
        env = server_env(
            database_url=database_url,
            data_dir=str(directory / "data"),
            telegram_api_base_url=telegram.url,
            openai_base_url=f"{openai.url}/v1",
            public_base_url=PUBLIC_BASE_URL,
            log_level="WARNING",
        )
        migrate(env, directory)
        control = ServedApp(control_app(database_url), port=args.control_port)
        control.start()
        stack.callback(control.stop)
        server = stack.enter_context(server_process(env, directory, port=args.port))
        server.wait_ready()
        print(f"console e2e server ready on {server.http_url}", flush=True)
        while not stop.wait(0.5):
            if server.process.poll() is not None:
                print(server.log_tail(), file=sys.stderr)
                raise SystemExit(f"server exited with {server.process.returncode}")


if __name__ == "__main__":
    main()
