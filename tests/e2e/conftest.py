"""Processes of the end-to-end suite: two fake upstreams and the real server, once per module.

The server is `python -m app serve` in a subprocess (tests.support.server) with a fresh, migrated
SQLite database and its upstream base URLs pointing at the fakes. Every wait is bounded, and
every process and thread is stopped by a finalizer even when a test fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.fakes import FakeOpenAIAPI, FakeTelegramAPI, running
from tests.support.server import migrate, server_env, server_process

OPENAI_KEY = "sk-e2e-0123456789abcdef"
PUBLIC_BASE_URL = "https://gateway.example.test"


@pytest.fixture(scope="module")
def fake_telegram() -> Iterator[FakeTelegramAPI]:
    with running(FakeTelegramAPI()) as fake:
        yield fake


@pytest.fixture(scope="module")
def fake_openai() -> Iterator[FakeOpenAIAPI]:
    with running(FakeOpenAIAPI(OPENAI_KEY)) as fake:
        yield fake


@dataclass(frozen=True)
class Server:
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


CIRCUIT_RESET_TIMEOUT = 4.0


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
    fake_telegram: FakeTelegramAPI,
    fake_openai: FakeOpenAIAPI,
) -> Iterator[Server]:
    """A running, migrated, ready server; it logs at INFO, so tests can check what it logs."""
    directory = tmp_path_factory.mktemp("e2e-server")
    env = server_env(
        database_url=f"sqlite://{directory / 'e2e.sqlite3'}",
        data_dir=str(directory / "data"),
        telegram_api_base_url=fake_telegram.url,
        openai_base_url=f"{fake_openai.url}/v1",
        public_base_url=PUBLIC_BASE_URL,
        # Short enough to watch an open circuit recover, long enough to see it refuse calls.
        circuit_reset_timeout=str(CIRCUIT_RESET_TIMEOUT),
    )
    migrate(env, directory)
    with server_process(env, directory) as process:
        process.wait_ready()
        yield Server(process.http_url, process.log_path)
