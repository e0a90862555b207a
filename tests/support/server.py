"""The real server on a real socket: in this process (uvicorn as a task) or as a subprocess.

In-process (`serving`) gives the test the app object, so it can look at the broker; a
subprocess (`server_process`) is the deployed shape — `python -m app migrate`, then
`python -m app serve --port N` — and the only way to run several server processes. A
subprocess runs this checkout's `app` in a scratch directory (no developer `.env` is read).

Every wait is bounded. A subprocess writes its output to a log file (never a pipe, which would
block the server once full); the file is closed and the process terminated, then killed if it
does not stop, when the block ends. A server that fails to start raises with its log's tail.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import uvicorn
from starlette.types import ASGIApp

from app.config import Settings
from tests.support.harness import TEST_KEY

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


# ---------------------------------------------------------------- in-process uvicorn


@asynccontextmanager
async def serving(app: ASGIApp, *, within: float = 10.0) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free port of 127.0.0.1; yields "127.0.0.1:port".

    The app's lifespan runs inside uvicorn, as in production.
    """
    config = uvicorn.Config(
        app,
        host=HOST,
        port=0,
        lifespan="on",
        log_config=None,
        ws_max_size=1024 * 1024,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)

    async def run() -> None:
        try:
            await server.serve()
        except SystemExit as exc:  # uvicorn exits when the lifespan fails to start
            raise RuntimeError(f"uvicorn stopped at start-up (exit code {exc.code})") from None

    task = asyncio.create_task(run(), name="tests.uvicorn")
    try:
        async with asyncio.timeout(within):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"{HOST}:{port}"
    finally:
        server.should_exit = True
        try:
            async with asyncio.timeout(within):
                await task
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            raise


# ---------------------------------------------------------------- subprocess


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(**settings: str) -> dict[str, str]:
    """The environment of a server process: this one's, minus every app setting, plus
    test defaults and `settings` (by field name: database_url="...", redis_url="...")."""
    fields = {name.lower() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.lower() not in fields}
    env.update(
        APP_ENV="test",
        ENCRYPTION_KEYS=TEST_KEY,
        HEALTH_CHECK_INTERVAL="0",
        LOG_LEVEL="INFO",  # into the log file, whose tail explains a failed start
    )
    env.update({name.upper(): value for name, value in settings.items()})
    # The checkout's `app`, whether or not it is installed in the interpreter.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def migrate(env: Mapping[str, str], directory: Path, *, timeout: float = 60.0) -> str:
    """Run `python -m app migrate` (the deploy step) in `directory`; its output."""
    result = subprocess.run(
        [sys.executable, "-m", "app", "migrate"],
        env=dict(env),
        cwd=directory,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"migrate failed ({result.returncode}):\n{output}"
    return output


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    _log: IO[bytes]

    @property
    def http_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}/graphql"

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, *, timeout: float = 20.0) -> None:
        """Poll GET /readyz until 200; AssertionError with the log if it never is."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        with httpx.Client(base_url=self.http_url, timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise AssertionError(
                        f"server exited with {self.process.returncode} before it was ready:\n"
                        + self.log_tail()
                    )
                try:
                    response = client.get("/readyz")
                except httpx.TransportError as exc:
                    last = type(exc).__name__
                else:
                    if response.status_code == 200:
                        return
                    last = f"{response.status_code} {response.text}"
                time.sleep(0.1)
        raise AssertionError(
            f"server on port {self.port} not ready after {timeout}s ({last}):\n" + self.log_tail()
        )

    def terminate(self) -> None:
        """Ask the server to shut down (SIGTERM) without waiting; `stop()` waits."""
        if self.process.poll() is None:
            self.process.terminate()

    def stop(self, *, timeout: float = 10.0) -> None:
        """Terminate the server and wait for it (kill it past `timeout`); close its log."""
        try:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout)
        finally:
            self._log.close()


@contextmanager
def server_process(
    env: Mapping[str, str], directory: Path, *, name: str = "server", port: int | None = None
) -> Iterator[ServerProcess]:
    """`python -m app serve --port N` as a subprocess, stopped when the block ends.

    It runs in `directory` (so no developer's `.env` is read) and logs to `directory/name.log`.
    Not waited for: call `wait_ready()` (starting several first lets them boot in parallel).
    """
    port = port or free_port()
    log_path = directory / f"{name}.log"
    log = log_path.open("wb")
    try:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "app", "serve", "--host", HOST, "--port", str(port)],
            env=dict(env),
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    except BaseException:
        log.close()
        raise
    server = ServerProcess(process=process, port=port, log_path=log_path, _log=log)
    try:
        yield server
    finally:
        server.stop()
