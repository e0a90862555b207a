"""`python -m bench.schema DATABASE_URL [--from-models]`: build the schema of a fresh database.

By default the project's migration chain (`app.migrate.apply_migrations`), as a deployment does.
`--from-models` uses `Tortoise.generate_schemas()` instead: a stop-gap for benchmarking an
engine on which the chain does not apply; results say which source built the schema.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence

from tortoise import Tortoise

from app.db import tortoise_config
from app.migrate import apply_migrations


async def _from_models(url: str) -> None:
    try:
        await Tortoise.init(config=tortoise_config(url))
        await Tortoise.generate_schemas(safe=False)
    finally:
        await Tortoise.close_connections()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.schema")
    parser.add_argument("database_url")
    parser.add_argument("--from-models", action="store_true")
    args = parser.parse_args(argv)
    asyncio.run(
        _from_models(args.database_url) if args.from_models else apply_migrations(args.database_url)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
