"""Issue 4 §5: updates/s of `POST /api/webhooks/telegram/{id}` with unique update ids and the
right secret, against a bare route doing the same single INSERT on the same connection."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import httpx

from bench.databases import Engine
from bench.load import COUNTER, LoadSpec
from bench.measure import Options, cpu_note, error_note, measure_pair, served
from bench.process import ServerProcess
from bench.report import Row, Verdict, failed_row, ratio_row

TARGET = 0.6
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
# A typical private-chat text message; update_id is the load generator's counter.
UPDATE = {
    "update_id": COUNTER,
    "message": {
        "message_id": 17,
        "from": {"id": 123456789, "is_bot": False, "first_name": "Ada", "language_code": "en"},
        "chat": {"id": 123456789, "first_name": "Ada", "type": "private"},
        "date": 1767225600,
        "text": "hello bench",
    },
}


def _specs(server: ServerProcess) -> tuple[LoadSpec, LoadSpec]:
    gateway_id = server.seed["gateway_ids"][0]
    headers = {SECRET_HEADER: server.seed["webhook_secret"], "Content-Type": "application/json"}
    # The counter replaces the quoted marker, so update_id is a JSON integer.
    body = json.dumps(UPDATE).replace(f'"{COUNTER}"', COUNTER)
    baseline = LoadSpec("POST", f"/bench/bare/webhook/{gateway_id}", body, headers)
    subject = LoadSpec("POST", f"/api/webhooks/telegram/{gateway_id}", body, headers)
    return baseline, subject


def _stats(server: ServerProcess) -> dict[str, Any]:
    stats: dict[str, Any] = httpx.get(f"{server.base_url}/bench/stats", timeout=30).json()
    return stats


def _stored(server: ServerProcess) -> int:
    count: int = _stats(server)["telegram_updates"]
    return count


def _check_routes(server: ServerProcess, baseline: LoadSpec, subject: LoadSpec) -> str | None:
    """Each route stores a new update once, and a duplicate not again."""
    before = _stored(server)
    for index, spec in enumerate((baseline, subject, subject), start=1):
        body = spec.body.replace(COUNTER, str(index if spec is baseline else 2))
        response = httpx.post(
            server.base_url + spec.path, content=body, headers=spec.headers, timeout=30
        )
        if response.status_code != 200:
            return f"{spec.path} answered {response.status_code}: {response.text[:200]}"
    stored = _stored(server) - before
    return None if stored == 2 else f"expected 2 stored updates, found {stored}"


def run(engine: Engine, options: Options) -> list[Row]:
    scenario = f"webhook [{engine}]"
    with served("webhook", engine, options) as server:
        baseline, subject = _specs(server)
        problem = _check_routes(server, baseline, subject)
        if problem:
            return [failed_row(scenario, Verdict.ERROR, problem)]
        before = _stats(server)
        pair = measure_pair(server, baseline, subject, options)
        stored = _stored(server) - before["telegram_updates"]
    notes = [n for n in (error_note(pair.baseline, "bare"), error_note(pair.subject, "route")) if n]
    errors = bool(notes)
    # Answers counted by the generator exclude warm-up and in-flight requests at each deadline;
    # every counted 200 must have its row, and unique ids mean no row is a duplicate.
    answered = (
        pair.baseline.requests + pair.subject.requests - pair.baseline.errors - pair.subject.errors
    )
    if stored < answered:
        notes.append(f"only {stored} rows stored for {answered} acknowledged updates")
        errors = True
    synchronous = before.get("sqlite_synchronous")
    if synchronous in ("FULL", "EXTRA"):
        notes.append(
            f"SQLite synchronous={synchronous}: every commit of both sides also waits for an "
            "fsync (--sqlite-options synchronous=NORMAL to leave it out)"
        )
    elif synchronous:
        notes.append(f"SQLite synchronous={synchronous}")
    notes.append(cpu_note(pair, "bare", "route"))
    row = ratio_row(scenario, "updates/s", pair.baseline.rps, pair.subject.rps, TARGET)
    row = dataclasses.replace(row, note="; ".join(n for n in notes if n))
    return [dataclasses.replace(row, verdict=Verdict.ERROR) if errors else row]
