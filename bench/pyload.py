"""`python -m bench.pyload` (job as JSON on stdin): the fallback load generator.

N keep-alive HTTP/1.1 connections over raw asyncio streams (uvloop when available), each sending
its next request as soon as the previous answer is read, until the deadline. Prints one JSON
object: completed requests, elapsed seconds, errors (non-2xx answers and broken connections).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from bench.load import COUNTER


def _request_factory(host: str, port: int, spec: dict[str, Any]) -> Callable[[], bytes]:
    head = f"{spec['method']} {spec['path']} HTTP/1.1\r\nHost: {host}:{port}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in spec["headers"].items())
    body: str = spec["body"]
    if COUNTER not in body:
        encoded = body.encode()
        fixed = (head + f"Content-Length: {len(encoded)}\r\n\r\n").encode() + encoded
        return lambda: fixed
    prefix, suffix = (part.encode() for part in body.split(COUNTER, 1))
    head_bytes = head.encode()
    counter: Iterator[int] = itertools.count(int(spec["counter_start"]) + 1)

    def build() -> bytes:
        payload = prefix + str(next(counter)).encode() + suffix
        return head_bytes + b"Content-Length: %d\r\n\r\n" % len(payload) + payload

    return build


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """(status, keep-alive) of one response; its body is read and dropped."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    if b"transfer-encoding: chunked" in lower:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        start = lower.find(b"content-length:")
        if start >= 0:
            end = lower.index(b"\r\n", start)
            await reader.readexactly(int(lower[start + 15 : end]))
    return status, b"connection: close" not in lower


async def _connection(
    host: str, port: int, build: Callable[[], bytes], deadline: float, stats: Counter[str]
) -> None:
    writer: asyncio.StreamWriter | None = None
    try:
        while time.perf_counter() < deadline:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            writer.write(build())
            try:
                status, keep_alive = await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                stats["broken"] += 1
                writer.close()
                writer = None
                continue
            # Answers that arrive after the deadline belong to no measured second.
            if time.perf_counter() <= deadline:
                stats["requests"] += 1
                if not 200 <= status < 400:
                    stats[f"status {status}"] += 1
            if not keep_alive:
                writer.close()
                writer = None
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


async def run(job: dict[str, Any]) -> dict[str, Any]:
    host, port = job["host"], int(job["port"])
    build = _request_factory(host, port, job["spec"])
    stats: Counter[str] = Counter()
    started = time.perf_counter()
    deadline = started + float(job["seconds"])
    await asyncio.gather(
        *(_connection(host, port, build, deadline, stats) for _ in range(job["connections"]))
    )
    elapsed = min(time.perf_counter(), deadline) - started
    failures = {k: v for k, v in stats.items() if k != "requests"}
    return {
        "requests": stats["requests"],
        "seconds": elapsed,
        "errors": sum(failures.values()),
        "detail": ", ".join(f"{k}: {v}" for k, v in sorted(failures.items())),
    }


def main() -> int:
    job = json.loads(sys.stdin.read())
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(run(job))
    else:
        result = uvloop.run(run(job))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
