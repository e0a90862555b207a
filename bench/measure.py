"""What every scenario shares: options, the server's life, and the paired throughput run."""

from __future__ import annotations

import dataclasses
import itertools
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.databases import Engine, SchemaSource, database
from bench.load import LoadGenerator, LoadResult, LoadSpec
from bench.process import ServerProcess
from bench.seed import Scenario

# Far apart, so no two runs of one server ever send the same update_id.
COUNTER_STRIDE = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Options:
    duration: float
    warmup: float
    connections: int
    generator: LoadGenerator
    app_env: str
    schema: SchemaSource
    subscribers: int
    ws_compression: bool = True
    # Query parameters appended to the server's DATABASE_URL (Tortoise connection options).
    db_options: dict[str, str] = dataclasses.field(default_factory=dict)


def with_options(url: str, options: str | None) -> str:
    if not options:
        return url
    return url + ("&" if "?" in url else "?") + options


@contextmanager
def served(scenario: Scenario, engine: Engine, options: Options) -> Iterator[ServerProcess]:
    """A fresh database of `engine`, migrated, and a seeded server on it; both gone on exit."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{scenario}-{engine}-") as tmp:
        workdir = Path(tmp)
        with (
            database(engine, workdir, options.schema) as url,
            ServerProcess(
                scenario,
                with_options(url, options.db_options.get(engine)),
                workdir,
                options.app_env,
            ) as server,
        ):
            yield server


@dataclass(slots=True)
class Pair:
    baseline: LoadResult
    subject: LoadResult


def measure_pair(
    server: ServerProcess, baseline: LoadSpec, subject: LoadSpec, options: Options
) -> Pair:
    """Warm both routes up, then run them alternately (B S B S), `duration` seconds per side in
    total, so a drift of the machine or the database during the run affects both alike."""
    starts = itertools.count(1)

    def run(spec: LoadSpec, seconds: float) -> LoadResult:
        spec = dataclasses.replace(spec, counter_start=next(starts) * COUNTER_STRIDE)
        cpu = server.cpu_seconds()
        result = options.generator.run(server.base_url, spec, options.connections, seconds)
        server.check_alive()
        return dataclasses.replace(result, server_cpu=server.cpu_seconds() - cpu)

    if options.warmup > 0:
        run(baseline, options.warmup)
        run(subject, options.warmup)
    halves = 2 if options.duration >= 4 else 1
    pair = Pair(LoadResult(0, 0.0, 0), LoadResult(0, 0.0, 0))
    for _ in range(halves):
        pair.baseline += run(baseline, options.duration / halves)
        pair.subject += run(subject, options.duration / halves)
    return pair


def cpu_note(pair: Pair, baseline: str, subject: str) -> str:
    """Server CPU per request of each side: unlike rates, barely moved by other processes."""
    b, s = pair.baseline.cpu_ms_per_request, pair.subject.cpu_ms_per_request
    if not b or not s:
        return ""
    return (
        f"server CPU per request: {baseline} {b:.2f} ms, {subject} {s:.2f} ms "
        f"(CPU ratio {b / s:.2f})"
    )


def error_note(result: LoadResult, side: str) -> str:
    if not result.errors:
        return ""
    share = result.errors / max(1, result.requests)
    detail = f" ({result.detail})" if result.detail else ""
    return f"{side}: {result.errors} failed answers ({share:.1%}){detail}"
