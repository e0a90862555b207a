"""AES-GCM envelopes, key parsing, the development key file and rotation (app/core/crypto.py)."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.core.crypto import (
    KEY_FILE_NAME,
    NONCE_SIZE,
    TAG_SIZE,
    DecryptionError,
    EncryptionKey,
    KeyRing,
    format_key,
    generate_key,
    load_or_create_key_file,
    parse_keys,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET_1 = bytes(range(32))
SECRET_2 = bytes(range(100, 132))
B64_1 = base64.b64encode(SECRET_1).decode()
ROW_A = b"gateway:0190a1b2-0000-7000-8000-00000000000a"
ROW_B = b"gateway:0190a1b2-0000-7000-8000-00000000000b"
PLAINTEXT = b'{"bot_token":"123456789:AAE-very-secret-token"}'


def ring(*keys: tuple[str, bytes]) -> KeyRing:
    return KeyRing([EncryptionKey(key_id, secret) for key_id, secret in keys])


def assert_no_key_material(message: str, encoded: str) -> None:
    """Neither the base64 text nor any 8-character run of it may appear in `message`."""
    assert encoded not in message
    for start in range(len(encoded) - 7):
        assert encoded[start : start + 8] not in message


# --- envelopes --------------------------------------------------------------------------------


def test_round_trip() -> None:
    keys = ring(("k1", SECRET_1))
    for plaintext in (PLAINTEXT, b"", os.urandom(4096)):
        envelope = keys.encrypt(plaintext, associated_data=ROW_A)
        assert keys.decrypt(envelope, associated_data=ROW_A) == plaintext


def test_envelope_layout() -> None:
    envelope = ring(("key_7", SECRET_1)).encrypt(PLAINTEXT, associated_data=ROW_A)
    assert envelope[0] == 0x01
    assert envelope[1] == len("key_7")
    assert envelope[2:7] == b"key_7"
    assert len(envelope) == 7 + NONCE_SIZE + len(PLAINTEXT) + TAG_SIZE
    assert PLAINTEXT not in envelope


def test_each_encryption_uses_a_fresh_nonce() -> None:
    keys = ring(("k1", SECRET_1))
    first = keys.encrypt(PLAINTEXT, associated_data=ROW_A)
    second = keys.encrypt(PLAINTEXT, associated_data=ROW_A)
    assert first != second
    assert first[4 : 4 + NONCE_SIZE] != second[4 : 4 + NONCE_SIZE]
    assert keys.decrypt(first, associated_data=ROW_A) == PLAINTEXT
    assert keys.decrypt(second, associated_data=ROW_A) == PLAINTEXT


def test_ciphertext_copied_onto_another_row_fails() -> None:
    keys = ring(("k1", SECRET_1))
    envelope = keys.encrypt(PLAINTEXT, associated_data=ROW_A)
    with pytest.raises(DecryptionError, match="authentication failed"):
        keys.decrypt(envelope, associated_data=ROW_B)
    with pytest.raises(DecryptionError, match="authentication failed"):
        keys.decrypt(envelope, associated_data=b"")


# Offsets into an envelope of key id "k1": header is 4 bytes, then the 12-byte nonce.
@pytest.mark.parametrize(
    ("part", "offset"),
    [
        ("version byte", 0),
        ("key id length", 1),
        ("key id", 3),
        ("nonce", 4),
        ("nonce end", 4 + NONCE_SIZE - 1),
        ("ciphertext", 4 + NONCE_SIZE),
        ("tag", -1),
        ("tag start", -TAG_SIZE),
    ],
)
def test_tampering_with_any_part_fails_closed(part: str, offset: int) -> None:
    keys = ring(("k1", SECRET_1))
    tampered = bytearray(keys.encrypt(PLAINTEXT, associated_data=ROW_A))
    tampered[offset] ^= 0x01
    with pytest.raises(DecryptionError):
        keys.decrypt(bytes(tampered), associated_data=ROW_A)


def test_every_single_bit_flip_fails_closed() -> None:
    keys = ring(("k1", SECRET_1), ("k0", SECRET_2), ("k3", SECRET_2))
    envelope = keys.encrypt(b"short secret", associated_data=ROW_A)
    for index in range(len(envelope)):
        for bit in range(8):
            tampered = bytearray(envelope)
            tampered[index] ^= 1 << bit
            with pytest.raises(DecryptionError):
                keys.decrypt(bytes(tampered), associated_data=ROW_A)


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(lambda e: b"", id="empty"),
        pytest.param(lambda e: e[:1], id="one byte"),
        pytest.param(lambda e: e[:4], id="header only"),
        pytest.param(lambda e: e[: 4 + NONCE_SIZE + TAG_SIZE - 1], id="shorter than a tag"),
        pytest.param(lambda e: e[:-1], id="last tag byte missing"),
        pytest.param(lambda e: e + b"\x00", id="extra byte"),
    ],
)
def test_truncated_or_extended_envelope_fails_closed(cut: Callable[[bytes], bytes]) -> None:
    keys = ring(("k1", SECRET_1))
    envelope = keys.encrypt(PLAINTEXT, associated_data=ROW_A)
    with pytest.raises(DecryptionError):
        keys.decrypt(cut(envelope), associated_data=ROW_A)


def test_header_is_authenticated_even_when_two_ids_share_a_secret() -> None:
    # Without the header in the associated data, relabelling k1 -> k2 would decrypt here.
    keys = ring(("k1", SECRET_1), ("k2", SECRET_1))
    envelope = keys.encrypt(PLAINTEXT, associated_data=ROW_A)
    relabelled = envelope[:2] + b"k2" + envelope[4:]
    assert keys.key_id_of(relabelled) == "k2"
    with pytest.raises(DecryptionError, match="authentication failed"):
        keys.decrypt(relabelled, associated_data=ROW_A)


def test_unsupported_version_fails() -> None:
    keys = ring(("k1", SECRET_1))
    envelope = keys.encrypt(PLAINTEXT, associated_data=ROW_A)
    with pytest.raises(DecryptionError, match="unsupported envelope version 2"):
        keys.decrypt(b"\x02" + envelope[1:], associated_data=ROW_A)


def test_wrong_key_with_the_same_id_fails() -> None:
    envelope = ring(("k1", SECRET_1)).encrypt(PLAINTEXT, associated_data=ROW_A)
    with pytest.raises(DecryptionError, match=r"authentication failed \(key id 'k1'\)"):
        ring(("k1", SECRET_2)).decrypt(envelope, associated_data=ROW_A)


def test_unknown_key_id_fails() -> None:
    envelope = ring(("k2", SECRET_1)).encrypt(PLAINTEXT, associated_data=ROW_A)
    with pytest.raises(DecryptionError, match="cannot decrypt: unknown key id 'k2'"):
        ring(("k1", SECRET_1)).decrypt(envelope, associated_data=ROW_A)


def test_decryption_errors_never_show_key_or_plaintext() -> None:
    keys = ring(("k1", SECRET_1))
    envelope = keys.encrypt(PLAINTEXT, associated_data=ROW_A)
    failures: list[Callable[[], bytes]] = [
        lambda: keys.decrypt(envelope, associated_data=ROW_B),
        lambda: ring(("k1", SECRET_2)).decrypt(envelope, associated_data=ROW_A),
        lambda: ring(("k9", SECRET_1)).decrypt(envelope, associated_data=ROW_A),
        lambda: keys.decrypt(envelope[:10], associated_data=ROW_A),
    ]
    for failure in failures:
        with pytest.raises(DecryptionError) as caught:
            failure()
        message = str(caught.value)
        assert message.startswith("cannot decrypt: ")
        assert_no_key_material(message, B64_1)
        assert repr(SECRET_1) not in message
        assert SECRET_1.hex() not in message
        assert "very-secret-token" not in message
        # No chained cryptography error either: a traceback shows only ours.
        assert caught.value.__cause__ is None
        assert caught.value.__context__ is None or caught.value.__suppress_context__


def test_key_id_of_reads_the_header_and_rejects_malformed_envelopes() -> None:
    keys = ring(("k1", SECRET_1))
    envelope = ring(("other", SECRET_2)).encrypt(PLAINTEXT, associated_data=ROW_A)
    assert keys.key_id_of(envelope) == "other"
    bad_id = envelope[:2] + b"o\xffher" + envelope[7:]
    for malformed in (b"", b"\x01", b"\x09" + envelope[1:], bad_id, envelope[:20]):
        with pytest.raises(DecryptionError):
            keys.key_id_of(malformed)
    with pytest.raises(DecryptionError, match="malformed key id"):
        keys.key_id_of(bad_id)


# --- rotation ---------------------------------------------------------------------------------


def test_rotation_keeps_old_ciphertexts_readable_and_writes_with_the_new_key() -> None:
    old_ring = ring(("k1", SECRET_1))
    old_envelope = old_ring.encrypt(PLAINTEXT, associated_data=ROW_A)

    rotated = ring(("k2", SECRET_2), ("k1", SECRET_1))
    assert rotated.active_key_id == "k2"
    assert rotated.key_ids == ("k2", "k1")
    assert rotated.decrypt(old_envelope, associated_data=ROW_A) == PLAINTEXT
    assert rotated.needs_rotation(old_envelope)

    new_envelope = rotated.encrypt(PLAINTEXT, associated_data=ROW_A)
    assert rotated.key_id_of(new_envelope) == "k2"
    assert not rotated.needs_rotation(new_envelope)

    # Once everything is re-encrypted the old key can go; old envelopes then fail closed.
    retired = ring(("k2", SECRET_2))
    assert retired.decrypt(new_envelope, associated_data=ROW_A) == PLAINTEXT
    with pytest.raises(DecryptionError, match="unknown key id 'k1'"):
        retired.decrypt(old_envelope, associated_data=ROW_A)


def test_needs_rotation_rejects_malformed_envelopes() -> None:
    with pytest.raises(DecryptionError):
        ring(("k1", SECRET_1)).needs_rotation(b"\x01\x02")


def test_key_ring_rejects_no_keys_and_duplicate_ids() -> None:
    with pytest.raises(ValueError, match="at least one key"):
        KeyRing([])
    with pytest.raises(ValueError, match="duplicate key id 'k1'"):
        ring(("k1", SECRET_1), ("k1", SECRET_2))


# --- keys and their text form -----------------------------------------------------------------


def test_parse_keys_reads_several_keys_in_order() -> None:
    first, second = generate_key("new"), generate_key("old-1")
    value = f" {format_key(first)} ,\n{format_key(second)}\n"
    assert parse_keys(value) == [first, second]
    assert format_key(first) == f"new:{base64.b64encode(first.secret).decode()}"


def test_generate_key() -> None:
    key, other = generate_key(), generate_key()
    assert re.fullmatch(r"k\d{8}-[0-9a-f]{6}", key.key_id)
    assert len(key.secret) == 32
    assert key.secret != other.secret
    assert key.key_id != other.key_id
    assert generate_key("mine").key_id == "mine"
    with pytest.raises(ValueError, match="key id"):
        generate_key("not valid!")


B64_16 = base64.b64encode(bytes(16)).decode()
B64_33 = base64.b64encode(SECRET_1 + b"!").decode()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "ENCRYPTION_KEYS is empty"),
        ("  \n", "ENCRYPTION_KEYS is empty"),
        (f"k1:{B64_1},", "entry 2 is empty"),
        (f"k1:{B64_1},,k2:{B64_1}", "entry 2 is empty"),
        (B64_1, "entry 1 has no ':'"),
        (f":{B64_1}", "entry 1: key id must be 1-32 characters"),
        (f"bad id:{B64_1}", "entry 1: key id must be"),
        (f"{'k' * 33}:{B64_1}", "entry 1: key id must be"),
        (f"k\u00e9:{B64_1}", "entry 1: key id must be"),
        (f"k1:{B64_1[:-1]}", r"entry 1 \(key id 'k1'\): key is not valid base64"),
        (f"k1:{B64_1[:10]}!{B64_1[11:]}", "key is not valid base64"),
        (f"k1:{B64_1[:10]}-{B64_1[11:]}", "key is not valid base64"),
        ("k1:", "key must decode to 32 bytes, got 0"),
        (f"k1:{B64_16}", "key must decode to 32 bytes, got 16"),
        (f"k1:{B64_33}", "key must decode to 32 bytes, got 33"),
        (f"k1:{B64_1},k2:{B64_1},k1:{B64_1}", "entry 3 .*duplicate key id, also used by entry 1"),
    ],
)
def test_parse_keys_errors_name_the_problem_but_never_the_key(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_keys(value)
    assert_no_key_material(str(caught.value), B64_1)
    assert_no_key_material(str(caught.value), B64_16)
    assert caught.value.__cause__ is None


def test_encryption_key_validates_its_fields() -> None:
    with pytest.raises(ValueError, match="must be 32 bytes, got 16"):
        EncryptionKey("k1", bytes(16))
    with pytest.raises(ValueError, match="key id must be"):
        EncryptionKey("", SECRET_1)


def test_reprs_never_show_secrets() -> None:
    key = EncryptionKey("k1", SECRET_1)
    keys = KeyRing([key, EncryptionKey("k0", SECRET_2)])
    shown = [repr(key), str(key), f"{key}", repr([key]), repr(keys), str(keys)]
    for text in shown:
        assert_no_key_material(text, B64_1)
        assert repr(SECRET_1)[2:12] not in text
        assert SECRET_1.hex()[:16] not in text
        assert repr(SECRET_2)[2:12] not in text
    assert repr(key) == "EncryptionKey(key_id='k1', secret=***)"
    assert repr(keys) == "KeyRing(active_key_id='k1', key_ids=('k1', 'k0'))"


# --- the development key file -----------------------------------------------------------------


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    key, created = load_or_create_key_file(data_dir)
    path = data_dir / KEY_FILE_NAME
    assert created
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == format_key(key) + "\n"
    assert sorted(p.name for p in data_dir.iterdir()) == [KEY_FILE_NAME]  # no temp file left

    again, created_again = load_or_create_key_file(data_dir)
    assert not created_again
    assert again == key


def test_existing_key_file_is_used_as_is(tmp_path: Path) -> None:
    existing = EncryptionKey("dev", SECRET_1)
    (tmp_path / KEY_FILE_NAME).write_text(format_key(existing))
    assert load_or_create_key_file(tmp_path) == (existing, False)


def test_loser_of_a_creation_race_reads_the_winners_key(tmp_path: Path) -> None:
    class NoFileYet(type(tmp_path)):  # type: ignore[misc]
        """Reports the key file missing, as a process that checked just before the winner wrote."""

        def exists(self, *, follow_symlinks: bool = True) -> bool:
            return False

    winner, _ = load_or_create_key_file(tmp_path)
    loser, created = load_or_create_key_file(NoFileYet(tmp_path))
    assert (loser, created) == (winner, False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_FILE_NAME]


def test_concurrent_creation_in_threads_yields_one_key(tmp_path: Path) -> None:
    barrier = threading.Barrier(8)

    def start() -> tuple[EncryptionKey, bool]:
        barrier.wait()
        return load_or_create_key_file(tmp_path)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: start(), range(8)))
    assert len({key for key, _ in results}) == 1
    assert sum(created for _, created in results) == 1


CHILD = """
import hashlib, sys, time
from pathlib import Path
from app.core.crypto import load_or_create_key_file
start = float(sys.argv[2])
while time.time() < start:
    pass
key, created = load_or_create_key_file(Path(sys.argv[1]))
print(key.key_id, hashlib.sha256(key.secret).hexdigest(), created)
"""


def test_concurrent_creation_in_processes_yields_one_key(tmp_path: Path) -> None:
    start = str(time.time() + 1.0)  # all children spin until the same instant, then race
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    children = [
        subprocess.Popen(  # noqa: S603 - fixed argv: this interpreter and a literal script
            [sys.executable, "-c", CHILD, str(tmp_path), start],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [child.communicate(timeout=30)[0].split() for child in children]
    assert all(child.returncode == 0 for child in children)
    assert len({(key_id, digest) for key_id, digest, _ in outputs}) == 1
    assert [created for _, _, created in outputs].count("True") == 1
    on_disk = parse_keys((tmp_path / KEY_FILE_NAME).read_text())[0]
    assert outputs[0][:2] == [on_disk.key_id, hashlib.sha256(on_disk.secret).hexdigest()]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (f"k1:{B64_16}\n".encode(), "key must decode to 32 bytes, got 16"),
        (f"k1:{B64_1},k2:{B64_1}".encode(), "must hold exactly one key, found 2"),
        (b"k1:\xff" + B64_1.encode(), "is not ASCII text"),
    ],
)
def test_unusable_key_file_is_an_error_that_does_not_echo_it(
    tmp_path: Path, content: bytes, message: str
) -> None:
    (tmp_path / KEY_FILE_NAME).write_bytes(content)
    with pytest.raises(ValueError, match=message) as caught:
        load_or_create_key_file(tmp_path)
    assert str(tmp_path / KEY_FILE_NAME) in str(caught.value)
    assert_no_key_material(str(caught.value), B64_1)
