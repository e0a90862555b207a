"""The command line: pick scenarios and engines, run each on a fresh database, print the table."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence

from bench import fanout, gateways, webhook
from bench.databases import DatabaseUnavailableError, Engine, postgres_server_url
from bench.load import GeneratorError, choose
from bench.measure import Options
from bench.process import ServerError
from bench.report import Row, Verdict, failed_row, render

Scenario = Callable[[Engine, Options], list[Row]]
SCENARIOS: dict[str, Scenario] = {
    "gateways": gateways.run,
    "webhook": webhook.run,
    "fanout": fanout.run,
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks of the real server against bare routes measured in the same run.",
    )
    parser.add_argument("scenario", nargs="?", default="all", choices=[*SCENARIOS, "all"])
    parser.add_argument(
        "--duration",
        type=float,
        default=10.0,
        help="seconds of load per side (gateways, webhook); status changes (fanout) [10]",
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per side before [2]")
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections [32]")
    parser.add_argument("--subscribers", type=int, default=1000, help="fanout subscribers [1000]")
    parser.add_argument(
        "--generator",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="load generator: wrk when installed, else a Python client [auto]",
    )
    parser.add_argument(
        "--app-env",
        choices=["production", "test"],
        default="production",
        help="APP_ENV of the server under test [production]",
    )
    parser.add_argument(
        "--schema",
        choices=["migrations", "models"],
        default="migrations",
        help="build the database from the migration chain, or from the models when the chain "
        "does not apply [migrations]",
    )
    parser.add_argument(
        "--sqlite-options",
        default="",
        metavar="QUERY",
        help="appended to the server's SQLite DATABASE_URL, e.g. synchronous=NORMAL",
    )
    parser.add_argument(
        "--postgres-options",
        default="",
        metavar="QUERY",
        help="appended to the server's PostgreSQL DATABASE_URL, e.g. maxsize=20",
    )
    parser.add_argument(
        "--no-ws-compression",
        dest="ws_compression",
        action="store_false",
        help="fanout clients do not offer permessage-deflate (browsers do)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        generator = choose(args.generator)
    except GeneratorError as exc:
        print(exc, file=sys.stderr)
        return 2
    options = Options(
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        generator=generator,
        app_env=args.app_env,
        schema=args.schema,
        subscribers=args.subscribers,
        ws_compression=args.ws_compression,
        db_options={"sqlite": args.sqlite_options, "postgres": args.postgres_options},
    )
    engines: list[Engine] = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    print(
        f"bench: {', '.join(names)} on {', '.join(engines)}; generator {generator.name}, "
        f"{args.connections} connections, {args.duration:g} s per side; APP_ENV={args.app_env}, "
        f"schema from {args.schema}; Python {platform.python_version()}"
        + (f"; PostgreSQL {postgres_server_url()}" if "postgres" in engines else "")
        + "".join(
            f"; {engine} options {query}" for engine, query in options.db_options.items() if query
        ),
        flush=True,
    )
    load = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    if load > 0.5:
        print(
            f"  warning: load average {load:.1f} on {cores} cores before the run; other processes "
            "compete with the server, so absolute figures are low and noisy (ratios less so)",
            flush=True,
        )
    rows: list[Row] = []
    for name in names:
        for engine in engines:
            started = time.monotonic()
            print(f"  running {name} [{engine}] ...", end="", flush=True)
            try:
                found = SCENARIOS[name](engine, options)
            except DatabaseUnavailableError as exc:
                found = [failed_row(f"{name} [{engine}]", Verdict.SKIPPED, str(exc))]
            except (ServerError, GeneratorError) as exc:
                found = [failed_row(f"{name} [{engine}]", Verdict.ERROR, str(exc))]
            except Exception as exc:  # a broken scenario must not hide the others' figures
                reason = f"{type(exc).__name__}: {exc}"
                found = [failed_row(f"{name} [{engine}]", Verdict.ERROR, reason)]
            print(f" {time.monotonic() - started:.0f} s", flush=True)
            rows += found
    print()
    print(render(rows))
    return 1 if any(r.verdict is Verdict.ERROR for r in rows) else 0
