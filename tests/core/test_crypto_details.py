"""Details of `app.core.crypto` a mutation run found unasserted: the exact error messages of
malformed envelopes, key-entry splitting, the key id's UTC date and the key directory's mode."""

from __future__ import annotations

import base64
import os
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.core.crypto import (
    DecryptionError,
    KeyRing,
    generate_key,
    load_or_create_key_file,
    parse_keys,
)

B64 = base64.b64encode(bytes(range(32))).decode()
RING = KeyRing(parse_keys(f"k1:{B64}"))


@pytest.mark.parametrize(
    ("envelope", "message"),
    [
        (b"\x01", "cannot decrypt: envelope is truncated"),
        (b"\x01\x02k1" + bytes(27), "cannot decrypt: envelope is truncated"),
        (b"\x07\x02k1" + bytes(28), "cannot decrypt: unsupported envelope version 7"),
        (b"\x01\x02k!" + bytes(28), "cannot decrypt: malformed key id in envelope"),
    ],
)
def test_malformed_envelopes_have_exact_messages(envelope: bytes, message: str) -> None:
    with pytest.raises(DecryptionError) as info:
        RING.decrypt(envelope, associated_data=b"")
    assert str(info.value) == message


def test_an_entry_is_split_at_its_first_colon() -> None:
    # The id never contains ':', so a second colon belongs to (and spoils) the key part.
    with pytest.raises(ValueError, match=r"^ENCRYPTION_KEYS entry 1 \(key id 'k1'\): key is not"):
        parse_keys(f"k1:{B64[:8]}:{B64[8:]}")


def test_a_key_ring_without_keys_says_so() -> None:
    with pytest.raises(ValueError, match=r"^a key ring needs at least one key$"):
        KeyRing([])


@pytest.fixture
def far_from_utc() -> Iterator[str]:
    """A local time zone whose date differs from UTC's right now (UTC-12 or UTC+14)."""
    zone = "Etc/GMT+12" if datetime.now(UTC).hour < 12 else "Etc/GMT-14"
    previous = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        yield zone
    finally:
        if previous is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = previous
        time.tzset()


def test_generated_key_ids_carry_the_utc_date(far_from_utc: str) -> None:
    assert datetime.now().date() != datetime.now(UTC).date()  # the fixture did its job
    key_id = generate_key().key_id
    assert key_id.startswith(f"k{datetime.now(UTC):%Y%m%d}-")


def test_the_key_directory_is_created_with_its_parents_and_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "not" / "yet" / "there"
    old_umask = os.umask(0o022)
    try:
        key, created = load_or_create_key_file(data_dir)
    finally:
        os.umask(old_umask)
    assert created
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert load_or_create_key_file(data_dir) == (key, False)
