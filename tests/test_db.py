"""Private files (app/db.py prepare_storage, app/core/private_files.py, app/keys.py).

The SQLite database used to be created 0644 (world-readable under the usual umask).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.crypto import KEY_FILE_NAME, format_key, generate_key
from app.db import prepare_storage, sqlite_path
from app.migrate import apply_migrations
from tests.support.harness import make_settings, running_app


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask most systems run with, under which files come out 0644 unless asked otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite://data/gateway.sqlite3", Path("data/gateway.sqlite3")),
        ("sqlite:///var/lib/app/db.sqlite3?journal_mode=WAL", Path("/var/lib/app/db.sqlite3")),
        ("sqlite://:memory:", None),
        ("postgres://user@localhost/db", None),
    ],
)
def test_sqlite_path(url: str, path: Path | None) -> None:
    assert sqlite_path(url) == path


async def test_a_new_data_dir_database_and_key_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    database = data / "gateway.sqlite3"
    url = f"sqlite://{database}"
    prepare_storage(url, data)
    await apply_migrations(url)
    # No ENCRYPTION_KEYS: the development key file is generated into DATA_DIR.
    settings = make_settings(url, str(data), encryption_keys=None)
    async with running_app(settings) as harness:
        await harness.register("someone@example.com")  # writes: SQLite's WAL files exist now
        side_files = [database.with_name(database.name + s) for s in ("-wal", "-shm")]
        assert all(p.exists() for p in side_files)

        assert mode(data) == 0o700
        assert mode(database) == 0o600
        assert [mode(p) for p in side_files] == [0o600, 0o600]
        assert mode(data / KEY_FILE_NAME) == 0o600


def test_existing_loose_files_are_tightened_and_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    database = data / "gateway.sqlite3"
    loose = [database, database.with_name(database.name + "-wal"), data / KEY_FILE_NAME]
    loose[0].write_bytes(b"")
    loose[1].write_bytes(b"")
    loose[2].write_text(format_key(generate_key()) + "\n")
    for path in loose:
        path.chmod(0o664)
    caplog.set_level(logging.WARNING, logger="app.storage")

    prepare_storage(f"sqlite://{database}", data)
    from app.keys import build_keyring

    build_keyring(make_settings(f"sqlite://{database}", str(data), encryption_keys=None))

    assert mode(data) == 0o700
    assert [mode(p) for p in loose] == [0o600, 0o600, 0o600]
    tightened = [r for r in caplog.records if r.getMessage() == "storage.permissions.tightened"]
    assert sorted(r.path for r in tightened) == sorted(  # type: ignore[attr-defined]
        [str(data), *(str(p) for p in loose)]
    )
    assert {r.mode for r in tightened} == {"0755", "0664"}  # type: ignore[attr-defined]


def test_a_database_elsewhere_gets_a_private_new_directory_but_an_existing_one_is_left(
    tmp_path: Path,
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    data = tmp_path / "data"  # absent, and not where the database is: not created

    prepare_storage(f"sqlite://{shared}/app.sqlite3", data)
    prepare_storage(f"sqlite://{tmp_path}/new/dir/app.sqlite3", data)

    assert mode(shared) == 0o755
    assert mode(shared / "app.sqlite3") == 0o600
    assert mode(tmp_path / "new/dir") == 0o700
    assert not data.exists()


def test_a_file_that_cannot_be_tightened_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "gateway.sqlite3"
    database.write_bytes(b"")
    database.chmod(0o644)

    def refuse(self: Path, mode: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(Path, "chmod", refuse)
    caplog.set_level(logging.WARNING, logger="app.storage")

    prepare_storage(f"sqlite://{database}", tmp_path / "elsewhere")

    (record,) = caplog.records
    assert record.getMessage() == "storage.permissions.too_open"
    assert (record.path, record.mode) == (str(database), "0644")  # type: ignore[attr-defined]


def test_postgres_touches_no_file(tmp_path: Path) -> None:
    prepare_storage("postgres://user@localhost/db", tmp_path / "data")
    assert list(tmp_path.iterdir()) == []
