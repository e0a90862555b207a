"""`python -m bench.server SCENARIO --database-url URL --port N --seed-file F`: the server under
test, in its own process.

The real app from `app.main.create_app(settings)` with the baseline routes of `bench.baselines`
added to the same Starlette app, served by one uvicorn worker configured like `python -m app
serve` (minus the per-request access log). The lifespan is wrapped so the scenario's data is
seeded through the app's services before the first request; the seed is written to the seed
file, whose appearance tells the runner the server is ready.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast, get_args

import uvicorn
from starlette.applications import Starlette

from app.cli import server_config
from app.config import Settings
from app.core.logs import configure_logging
from app.main import create_app
from bench.baselines import ROUTES
from bench.process import raise_open_files_limit
from bench.seed import Scenario, seed

# Throwaway key for throwaway data: 32 zero bytes, base64.
BENCH_KEY = "bench1:" + "A" * 43 + "="
GATEWAYS = {"gateways": 50, "webhook": 1, "fanout": 1}


def bench_settings(database_url: str, data_dir: str, app_env: str) -> Settings:
    values: dict[str, Any] = {
        "app_env": app_env,
        "database_url": database_url,
        "data_dir": data_dir,
        "encryption_keys": BENCH_KEY,
        "public_base_url": "https://gateway.bench.test",
        "redis_url": None,
        "health_check_interval": 0,
        "log_level": "WARNING",
    }
    return Settings(_env_file=None, **values)


def build_app(settings: Settings, scenario: Scenario, seed_file: Path) -> Starlette:
    app = create_app(settings, run_health_checker=False, tune_gc=True)
    # Ahead of the app's routes; same middleware stack, same lifespan, same connection.
    app.router.routes[0:0] = ROUTES
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Starlette) -> AsyncIterator[Any]:
        async with inner(app_) as state:
            data = await seed(app_.state.services, scenario, GATEWAYS[scenario])
            data["pid"] = os.getpid()
            partial = seed_file.with_suffix(".partial")
            partial.write_text(json.dumps(data))
            partial.replace(seed_file)
            yield state

    app.router.lifespan_context = lifespan
    return app


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("scenario", choices=get_args(Scenario))
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seed-file", type=Path, required=True)
    parser.add_argument("--app-env", default="production", choices=["production", "test"])
    args = parser.parse_args(argv)
    raise_open_files_limit()
    settings = bench_settings(args.database_url, args.data_dir, args.app_env)
    configure_logging(settings.log_level, settings.log_format.value)
    app = build_app(settings, cast(Scenario, args.scenario), args.seed_file)
    # As `python -m app serve` configures it, without the per-request access log line.
    config = server_config(app, "127.0.0.1", args.port, access_log=False, backlog=4096)
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
