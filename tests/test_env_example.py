"""`.env.example` documents exactly the settings the server reads, and loads as it is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.config import Settings

EXAMPLE = Path(__file__).resolve().parents[1] / ".env.example"


def _example_names() -> set[str]:
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", EXAMPLE.read_text(), re.MULTILINE))


def test_every_setting_is_documented_and_nothing_else() -> None:
    settings = {name.upper() for name in Settings.model_fields}
    assert _example_names() == settings


def test_the_example_loads_as_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _example_names():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(EXAMPLE.read_text())
    loaded = Settings.load()
    assert loaded == Settings.load(_env_file=None)
    assert loaded.database_url == "sqlite://data/gateway.sqlite3"
