"""Load generators: wrk when it is installed, else a Python keep-alive client in a child process.

Both sides of a ratio always use the same generator, the same connection count and the same
duration. A request body may contain `COUNTER`; each request then carries the next integer of a
counter starting after `counter_start` (unique Telegram `update_id`s).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

COUNTER = "__COUNTER__"


@dataclass(frozen=True, slots=True)
class LoadSpec:
    method: str
    path: str
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    counter_start: int = 0


@dataclass(frozen=True, slots=True)
class LoadResult:
    requests: int
    seconds: float
    errors: int
    detail: str = ""
    # CPU seconds the server process (all its threads) used meanwhile; set by the runner.
    server_cpu: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.server_cpu / self.requests if self.requests else 0.0

    def __add__(self, other: LoadResult) -> LoadResult:
        detail = "; ".join(d for d in (self.detail, other.detail) if d)
        return LoadResult(
            self.requests + other.requests,
            self.seconds + other.seconds,
            self.errors + other.errors,
            detail,
            self.server_cpu + other.server_cpu,
        )


class LoadGenerator(Protocol):
    name: str

    def run(self, base_url: str, spec: LoadSpec, connections: int, seconds: float) -> LoadResult:
        """Keep `connections` keep-alive connections busy for `seconds`; count the answers."""
        ...


class GeneratorError(Exception):
    pass


# ------------------------------------------------------------------------------------------ wrk


def _lua_string(value: str) -> str:
    escaped = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in '\\"' else f"\\{ord(ch):03d}"
        for ch in value
    )
    return f'"{escaped}"'


def wrk_script(spec: LoadSpec) -> str:
    lines = [f"wrk.method = {_lua_string(spec.method)}"]
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in spec.headers.items()]
    if COUNTER not in spec.body:
        lines.append(f"wrk.body = {_lua_string(spec.body)}")
        return "\n".join(lines) + "\n"
    prefix, suffix = spec.body.split(COUNTER, 1)
    lines += [
        f"local counter = {spec.counter_start}",
        f"local prefix = {_lua_string(prefix)}",
        f"local suffix = {_lua_string(suffix)}",
        "request = function()",
        "  counter = counter + 1",
        '  return wrk.format(nil, nil, nil, prefix .. string.format("%d", counter) .. suffix)',
        "end",
    ]
    return "\n".join(lines) + "\n"


_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_wrk(output: str) -> LoadResult:
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h),", output)
    if total is None:
        raise GeneratorError(f"unexpected wrk output:\n{output}")
    requests = int(total.group(1))
    seconds = float(total.group(2)) * _UNITS[total.group(3)]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    socket_errors = sum(int(g) for g in sockets.groups()) if sockets else 0
    detail = f"{socket_errors} socket errors" if socket_errors else ""
    return LoadResult(requests, seconds, errors + socket_errors, detail)


class Wrk:
    name = "wrk"

    def __init__(self, executable: str, threads: int = 1) -> None:
        self._executable = executable
        self._threads = threads

    def run(self, base_url: str, spec: LoadSpec, connections: int, seconds: float) -> LoadResult:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(wrk_script(spec))
        try:
            command = [
                self._executable,
                f"-t{self._threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                base_url + spec.path,
            ]
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=seconds + 60, check=False
            )
        finally:
            Path(script.name).unlink(missing_ok=True)
        if done.returncode != 0:
            raise GeneratorError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
        return parse_wrk(done.stdout)


# --------------------------------------------------------------------------------- Python client


class PythonClient:
    """`python -m bench.pyload` in a child process, so it never shares the server's core."""

    name = "python"

    def run(self, base_url: str, spec: LoadSpec, connections: int, seconds: float) -> LoadResult:
        parts = urlsplit(base_url)
        job = {
            "host": parts.hostname,
            "port": parts.port,
            "connections": connections,
            "seconds": seconds,
            "spec": asdict(spec),
        }
        done = subprocess.run(
            [sys.executable, "-m", "bench.pyload"],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
        if done.returncode != 0:
            raise GeneratorError(f"bench.pyload failed: {done.stderr.strip()[-2000:]}")
        data = json.loads(done.stdout)
        return LoadResult(data["requests"], data["seconds"], data["errors"], data["detail"])


def choose(preference: str) -> LoadGenerator:
    """`auto`: wrk if installed, else the Python client; `wrk` or `python` to force one."""
    executable = shutil.which("wrk")
    if preference == "wrk" and executable is None:
        raise GeneratorError("wrk is not installed (apt-get install wrk), use --generator python")
    if preference in ("auto", "wrk") and executable is not None:
        return Wrk(executable)
    return PythonClient()
