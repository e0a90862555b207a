"""Starting, watching and stopping the server under test (a child process, one worker)."""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from bench.seed import Scenario

STARTUP_TIMEOUT = 90.0


def raise_open_files_limit() -> int:
    """As many descriptors as the hard limit allows: a thousand sockets need more than 1024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its threads, from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ServerError(Exception):
    """The server did not start or died; the message carries the tail of its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_kb(pid: int) -> int:
    """Resident set size of a process, from /proc (no psutil needed)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise ServerError(f"no VmRSS for pid {pid}")


class ServerProcess:
    """`with ServerProcess(...) as server:` a seeded server on a free port, stopped on exit."""

    def __init__(self, scenario: Scenario, database_url: str, workdir: Path, app_env: str) -> None:
        self.scenario = scenario
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/graphql"
        self._seed_file = workdir / f"seed-{scenario}.json"
        self._log_path = workdir / f"server-{scenario}.log"
        self._command = [
            sys.executable,
            "-m",
            "bench.server",
            scenario,
            "--database-url",
            database_url,
            "--data-dir",
            str(workdir),
            "--port",
            str(self.port),
            "--seed-file",
            str(self._seed_file),
            "--app-env",
            app_env,
        ]
        self._process: subprocess.Popen[bytes] | None = None
        self.seed: dict[str, Any] = {}

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self._log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])

    def __enter__(self) -> ServerProcess:
        log = self._log_path.open("wb")
        self._process = subprocess.Popen(self._command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise ServerError(f"the server exited at start-up:\n{self.log_tail()}")
            if self._seed_file.exists():
                try:
                    if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                        self.seed = json.loads(self._seed_file.read_text())
                        return
                except httpx.HTTPError:
                    pass
            time.sleep(0.1)
        raise ServerError(
            f"the server was not ready after {STARTUP_TIMEOUT:.0f} s:\n{self.log_tail()}"
        )

    def check_alive(self) -> None:
        if self._process is None or self._process.poll() is not None:
            raise ServerError(f"the server died:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGINT (uvicorn's graceful shutdown, so the lifespan closes the pool), then SIGKILL."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def rss_kb(self) -> int:
        return rss_kb(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)
