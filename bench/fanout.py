"""Issue 4 §5: 1,000 subscribers on one process — delivery delay of a status change (p50, p99)
and the server's memory per idle subscription, end to end over real WebSockets."""

from __future__ import annotations

import dataclasses
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.databases import Engine
from bench.measure import Options, served
from bench.report import Row, Verdict, ceiling_row, failed_row

P99_TARGET_MS = 250.0
KB_TARGET = 100.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def run(engine: Engine, options: Options) -> list[Row]:
    scenario = f"fanout [{engine}]"
    workdir = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    try:
        return _run(scenario, engine, options, workdir / "result.json")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run(scenario: str, engine: Engine, options: Options, output: Path) -> list[Row]:
    with served("fanout", engine, options) as server:
        job = {
            "ws_url": server.ws_url,
            "base_url": server.base_url,
            "token": server.seed["token"],
            "org": server.seed["organization_id"],
            "gateway_id": server.seed["gateway_ids"][0],
            "server_pid": server.pid,
            "subscribers": options.subscribers,
            "rounds": max(3, round(options.duration)),
            "pause": 0.2,
            "round_timeout": 30.0,
            "connect_concurrency": 50,
            "compression": options.ws_compression,
            "output": str(output),
        }
        done = subprocess.run(
            [sys.executable, "-m", "bench.fanout_client"],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        server.check_alive()
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return [failed_row(scenario, Verdict.ERROR, f"fan-out client failed: {reason}")]
    result: dict[str, Any] = json.loads(output.read_text())
    return rows(scenario, result)


def rows(scenario: str, result: dict[str, Any]) -> list[Row]:
    n = result["subscribers"]
    sent: list[float] = result["from_sent_ms"]
    occurred: list[float] = result["from_occurred_ms"]
    if not sent:
        return [failed_row(scenario, Verdict.ERROR, "no event was delivered")]
    idle_kb = (result["rss_idle_kb"] - result["rss_before_kb"]) / n
    after_kb = (result["rss_after_kb"] - result["rss_before_kb"]) / n
    p99 = ceiling_row(scenario, "p99 delay ms", percentile(sent, 0.99), P99_TARGET_MS, "ms")
    kb = ceiling_row(scenario, "KB per idle subscription", idle_kb, KB_TARGET, "KB")
    note = (
        f"{n} subscribers x {result['rounds']} status changes, delay measured from sending the "
        f"mutation (from occurredAt: p50 {statistics.median(occurred):.0f} ms, "
        f"p99 {percentile(occurred, 0.99):.0f} ms); max {max(sent):.0f} ms; "
        f"connected in {result['connect_seconds']:.1f} s; server CPU per delivery "
        f"{1000 * result['server_cpu_seconds'] / (n * result['rounds']):.2f} ms; "
        f"RSS {result['rss_before_kb'] / 1024:.0f} -> {result['rss_idle_kb'] / 1024:.0f} MiB idle "
        f"-> {result['rss_after_kb'] / 1024:.0f} MiB after events ({after_kb:.0f} KB/subscription)"
    )
    if result["missing"]:
        note += f"; {result['missing']} deliveries MISSING"
    p50 = Row(scenario, "p50 delay ms", None, statistics.median(sent), "", Verdict.INFO, note=note)
    out = [p50, p99, kb]
    if result["missing"]:
        out = [dataclasses.replace(r, verdict=Verdict.ERROR) for r in out]
    return out
