"""`python -m bench.fanout_client` (job as JSON on stdin): the subscribers of the fan-out run.

Opens N graphql-transport-ws connections (connection_init with the token and the organization,
then one `gatewayStatusChanged` subscription each), reads the server's RSS before and after, then
changes a gateway's status over HTTP round after round and timestamps every delivery. Runs in its
own process, so the server keeps its core. Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from bench.process import cpu_seconds, raise_open_files_limit, rss_kb

SUBSCRIPTION = (
    "subscription FanoutBench { gatewayStatusChanged { previousStatus status error occurredAt "
    "gateway { id name status } } }"
)
MUTATION = (
    "mutation FanoutTrigger($id: ID!, $status: GatewayStatus!, $error: String) { "
    "updateGatewayStatus(id: $id, status: $status, error: $error) { __typename } }"
)
PROTOCOL = Subprotocol("graphql-transport-ws")


@dataclass
class Tally:
    """Counts deliveries of the current round; `done` is set when every subscriber has one."""

    target: int = 0
    count: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def expect(self, target: int) -> None:
        self.target, self.count = target, 0
        self.done.clear()

    def hit(self) -> None:
        self.count += 1
        if self.count >= self.target:
            self.done.set()


@dataclass
class Subscriber:
    socket: ClientConnection
    # (receipt wall-clock time, raw message): parsed only after the run, to keep receipt cheap.
    log: list[tuple[float, str]] = field(default_factory=list)


async def open_subscriber(job: dict[str, Any], gate: asyncio.Semaphore) -> Subscriber:
    async with gate:
        socket = await connect(
            job["ws_url"],
            subprotocols=[PROTOCOL],
            compression="deflate" if job["compression"] else None,
            open_timeout=60,
            ping_interval=None,
            max_queue=None,
        )
        params = {"authorization": f"Bearer {job['token']}", "organizationId": job["org"]}
        await socket.send(json.dumps({"type": "connection_init", "payload": params}))
        ack = json.loads(await socket.recv())
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"connection_init refused: {ack}")
        await socket.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
        )
        return Subscriber(socket)


async def listen(subscriber: Subscriber, tally: Tally) -> None:
    socket = subscriber.socket
    with contextlib.suppress(Exception):
        async for raw in socket:
            text = raw if isinstance(raw, str) else raw.decode()
            subscriber.log.append((time.time(), text))
            if '"ping"' in text:
                await socket.send(json.dumps({"type": "pong"}))
            else:
                tally.hit()


async def subscriber_count(http: httpx.AsyncClient) -> int:
    count: int = (await http.get("/bench/stats")).json()["subscribers"]
    return count


async def wait_for_subscribers(http: httpx.AsyncClient, expected: int, within: float) -> None:
    deadline = time.monotonic() + within
    while (count := await subscriber_count(http)) != expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{count} subscriptions on the server, expected {expected}")
        await asyncio.sleep(0.1)


async def open_all(job: dict[str, Any], count: int, tally: Tally) -> list[Subscriber]:
    gate = asyncio.Semaphore(job["connect_concurrency"])
    subscribers = await asyncio.gather(*(open_subscriber(job, gate) for _ in range(count)))
    for subscriber in subscribers:
        asyncio.create_task(listen(subscriber, tally))  # noqa: RUF006 - ends with its socket
    return list(subscribers)


async def close_all(subscribers: list[Subscriber]) -> None:
    await asyncio.gather(*(s.socket.close() for s in subscribers), return_exceptions=True)


async def change_status(
    http: httpx.AsyncClient, job: dict[str, Any], round_index: int, tally: Tally, expected: int
) -> float:
    """One status change; returns the time it was sent once all subscribers got it (or not)."""
    status, error = (
        ("ERROR", f"bench round {round_index}") if round_index % 2 == 0 else ("CONNECTED", None)
    )
    tally.expect(expected)
    sent = time.time()
    response = await http.post(
        "/graphql",
        json={
            "query": MUTATION,
            "variables": {"id": job["gateway_id"], "status": status, "error": error},
        },
        headers={"Authorization": f"Bearer {job['token']}", "X-Organization-Id": job["org"]},
    )
    body = response.json()
    if body.get("errors") or body["data"]["updateGatewayStatus"]["__typename"] != "Gateway":
        raise RuntimeError(f"updateGatewayStatus failed: {body}")
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(tally.done.wait(), timeout=job["round_timeout"])
    return sent


def delays(
    subscribers: list[Subscriber], windows: list[tuple[float, float]]
) -> tuple[list[float], list[float], int]:
    """Per delivery in a measured round: ms since the mutation was sent, ms since occurredAt;
    and how many deliveries are missing or were not `next` messages."""
    from_sent: list[float] = []
    from_occurred: list[float] = []
    missing = 0
    for start, end in windows:
        for subscriber in subscribers:
            got = [(t, raw) for t, raw in subscriber.log if start <= t < end]
            nexts = [(t, json.loads(raw)) for t, raw in got if '"next"' in raw]
            if len(nexts) != 1:
                missing += 1
                continue
            received, message = nexts[0]
            occurred = message["payload"]["data"]["gatewayStatusChanged"]["occurredAt"]
            from_sent.append((received - start) * 1000)
            from_occurred.append((received - datetime.fromisoformat(occurred).timestamp()) * 1000)
    return from_sent, from_occurred, missing


async def run(job: dict[str, Any]) -> dict[str, Any]:
    pid, n = job["server_pid"], job["subscribers"]
    tally = Tally()
    async with httpx.AsyncClient(base_url=job["base_url"], timeout=60) as http:
        base = await subscriber_count(http)
        # Warm-up: the first sockets, the first event and their code paths cost memory once.
        warm = await open_all(job, min(20, n), tally)
        await wait_for_subscribers(http, base + len(warm), 30)
        await change_status(http, job, 0, tally, len(warm))
        await close_all(warm)
        await wait_for_subscribers(http, base, 30)
        await asyncio.sleep(1.0)
        rss_before = rss_kb(pid)

        started = time.perf_counter()
        subscribers = await open_all(job, n, tally)
        await wait_for_subscribers(http, base + n, 120)
        connect_seconds = time.perf_counter() - started
        await asyncio.sleep(1.0)
        rss_idle = rss_kb(pid)

        windows: list[tuple[float, float]] = []
        cpu = 0.0
        for index in range(job["rounds"] + 1):  # the first round is a warm-up
            cpu_before = cpu_seconds(pid)
            sent = await change_status(http, job, index + 1, tally, n)
            if index > 0:
                cpu += cpu_seconds(pid) - cpu_before
            await asyncio.sleep(job["pause"])
            if index > 0:
                windows.append((sent, time.time()))
        rss_after = rss_kb(pid)
        await close_all(subscribers)
    from_sent, from_occurred, missing = delays(subscribers, windows)
    return {
        "subscribers": n,
        "rounds": job["rounds"],
        "connect_seconds": connect_seconds,
        "rss_before_kb": rss_before,
        "rss_idle_kb": rss_idle,
        "rss_after_kb": rss_after,
        "server_cpu_seconds": cpu,
        "from_sent_ms": from_sent,
        "from_occurred_ms": from_occurred,
        "missing": missing,
    }


def main() -> int:
    job = json.loads(sys.stdin.read())
    raise_open_files_limit()
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(run(job))
    else:
        result = uvloop.run(run(job))
    # A file, not stdout: the result holds every delivery's delay (hundreds of KB), and a
    # library writing to stdout meanwhile must not be able to corrupt it.
    Path(job["output"]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
