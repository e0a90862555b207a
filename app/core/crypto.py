"""Authenticated encryption of secrets at rest: AES-256-GCM under a ring of rotating keys.

Envelope layout (bytes)::

    0x01 | len(key id) (1 byte) | key id (ASCII) | nonce (12 bytes) | ciphertext || tag (16 bytes)
    \\________________ header ________________/

The AEAD associated data is ``header || caller's associated data``. The header is length-prefixed,
so the concatenation is unambiguous; binding it means a rewritten key id or version fails
authentication even if two ids share a secret. The caller's associated data binds a ciphertext to
its row (e.g. the gateway id), so a ciphertext copied onto another row fails to decrypt.

Keys come from ``ENCRYPTION_KEYS`` = ``keyid:base64,keyid:base64,...``: the first encrypts, all
decrypt, so rotation is "prepend a new key, re-encrypt what `needs_rotation`, drop the old key".
Development and tests without keys use `load_or_create_key_file`. Nothing here ever puts key
bytes or plaintext into an exception message or a repr.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = 0x01
NONCE_SIZE = 12
TAG_SIZE = 16
KEY_SIZE = 32
KEY_FILE_NAME = "encryption.key"
_KEY_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")
_KEY_ID_RULE = "1-32 characters of [A-Za-z0-9_-]"


class DecryptionError(Exception):
    """An envelope could not be opened: malformed, unknown key id, or authentication failed.

    Deliberately coarse: the message names the key id at most, never key bytes or plaintext.
    """


def _key_id_ok(key_id: str) -> bool:
    return _KEY_ID_RE.fullmatch(key_id) is not None


@dataclass(frozen=True, slots=True, repr=False)
class EncryptionKey:
    key_id: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        # Messages name the id only once it is known to be a plain, valid id.
        if not _key_id_ok(self.key_id):
            raise ValueError(f"encryption key id must be {_KEY_ID_RULE}")
        if len(self.secret) != KEY_SIZE:
            raise ValueError(
                f"encryption key {self.key_id!r} must be {KEY_SIZE} bytes, got {len(self.secret)}"
            )

    def __repr__(self) -> str:
        return f"EncryptionKey(key_id={self.key_id!r}, secret=***)"


def parse_keys(value: str) -> list[EncryptionKey]:
    """Parse ``keyid:base64,...``. `ValueError` names the entry and the problem, never the key."""
    return _parse_keys(value, source="ENCRYPTION_KEYS")


def _parse_keys(value: str, *, source: str) -> list[EncryptionKey]:
    if not value.strip():
        raise ValueError(f"{source} is empty: expected 'keyid:base64-32-bytes[,...]'")
    keys: list[EncryptionKey] = []
    seen: dict[str, int] = {}
    for position, raw in enumerate(value.split(","), start=1):
        where = f"{source} entry {position}"
        entry = raw.strip()
        if not entry:
            raise ValueError(f"{where} is empty (stray comma?)")
        key_id, sep, encoded = (part.strip() for part in entry.partition(":"))
        if not sep:
            raise ValueError(f"{where} has no ':' between key id and key")
        if not _key_id_ok(key_id):
            # Not echoed: a malformed entry may be a pasted secret.
            raise ValueError(f"{where}: key id must be {_KEY_ID_RULE}")
        where = f"{where} (key id {key_id!r})"
        try:
            secret = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            # `from None`: the decoder's own error is not needed and must not travel with ours.
            raise ValueError(f"{where}: key is not valid base64") from None
        if len(secret) != KEY_SIZE:
            raise ValueError(f"{where}: key must decode to {KEY_SIZE} bytes, got {len(secret)}")
        if key_id in seen:
            raise ValueError(f"{where}: duplicate key id, also used by entry {seen[key_id]}")
        seen[key_id] = position
        keys.append(EncryptionKey(key_id, secret))
    return keys


def generate_key(key_id: str | None = None) -> EncryptionKey:
    """A fresh random key. The default id is ``k<UTC date>-<6 hex>``, e.g. ``k20261125-3fa9c1``:

    sortable by creation day for operators, and the random suffix keeps two rotations on one day
    from colliding.
    """
    if key_id is None:
        key_id = f"k{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3)}"
    return EncryptionKey(key_id, secrets.token_bytes(KEY_SIZE))


def format_key(key: EncryptionKey) -> str:
    """The ``keyid:base64`` form that `parse_keys` reads. Contains the secret: never log it."""
    return f"{key.key_id}:{base64.b64encode(key.secret).decode('ascii')}"


def load_or_create_key_file(data_dir: Path) -> tuple[EncryptionKey, bool]:
    """Read ``data_dir/encryption.key``, creating it (mode 0600) first if absent; -> (key, created).

    Creation is atomic: the key is written and fsynced to a private temporary file (opened with
    O_CREAT|O_EXCL, mode 0600), then hard-linked to the final name. `link` fails if the name
    exists, so of several processes starting at once exactly one wins and the losers read the
    winner's complete file; a crash never leaves a half-written key file behind.
    """
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = data_dir / KEY_FILE_NAME
    if not path.exists():
        key = generate_key()
        tmp = data_dir / f".{KEY_FILE_NAME}.{secrets.token_hex(8)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(format_key(key) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.link(tmp, path)
            created = True
        except FileExistsError:
            created = False  # another process won the race: its key is read below
        finally:
            tmp.unlink(missing_ok=True)
        if created:
            return key, True
    try:
        text = path.read_bytes().decode("ascii")
    except UnicodeDecodeError:
        # `from None`: the codec's message quotes a byte of the file.
        raise ValueError(f"{path} is not ASCII text") from None
    keys = _parse_keys(text, source=str(path))
    if len(keys) != 1:
        raise ValueError(f"{path} must hold exactly one key, found {len(keys)}")
    return keys[0], False


class KeyRing:
    """Encrypts with the first key, decrypts with any; see the module docstring for the layout."""

    __slots__ = ("_active", "_aeads")

    def __init__(self, keys: Sequence[EncryptionKey]) -> None:
        if not keys:
            raise ValueError("a key ring needs at least one key")
        self._aeads: dict[str, AESGCM] = {}
        for key in keys:
            if key.key_id in self._aeads:
                raise ValueError(f"duplicate key id {key.key_id!r} in key ring")
            self._aeads[key.key_id] = AESGCM(key.secret)
        self._active = keys[0].key_id

    @property
    def active_key_id(self) -> str:
        return self._active

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._aeads)

    def encrypt(self, plaintext: bytes, *, associated_data: bytes) -> bytes:
        header = _header(self._active)
        # A random nonce per message; 2**32 messages per key keeps the collision risk negligible,
        # far beyond what a credentials table will see between rotations.
        nonce = os.urandom(NONCE_SIZE)
        sealed = self._aeads[self._active].encrypt(nonce, plaintext, header + associated_data)
        return header + nonce + sealed

    def decrypt(self, envelope: bytes, *, associated_data: bytes) -> bytes:
        key_id, header_len = _split_header(envelope)
        aead = self._aeads.get(key_id)
        if aead is None:
            raise DecryptionError(f"cannot decrypt: unknown key id {key_id!r}")
        nonce = envelope[header_len : header_len + NONCE_SIZE]
        sealed = envelope[header_len + NONCE_SIZE :]
        try:
            return aead.decrypt(nonce, sealed, envelope[:header_len] + associated_data)
        except InvalidTag:
            # Wrong key, wrong associated data and tampering are indistinguishable by design.
            raise DecryptionError(
                f"cannot decrypt: authentication failed (key id {key_id!r})"
            ) from None

    def key_id_of(self, envelope: bytes) -> str:
        """The key id in the header. Unauthenticated until `decrypt` succeeds: a hint only."""
        return _split_header(envelope)[0]

    def needs_rotation(self, envelope: bytes) -> bool:
        return self.key_id_of(envelope) != self._active

    def __repr__(self) -> str:
        return f"KeyRing(active_key_id={self._active!r}, key_ids={self.key_ids!r})"


def _header(key_id: str) -> bytes:
    encoded = key_id.encode("ascii")
    return bytes((VERSION, len(encoded))) + encoded


def _split_header(envelope: bytes) -> tuple[str, int]:
    """Validate the framing and return (key id, header length); `DecryptionError` if malformed."""
    if len(envelope) < 2:
        raise DecryptionError("cannot decrypt: envelope is truncated")
    if envelope[0] != VERSION:
        raise DecryptionError(f"cannot decrypt: unsupported envelope version {envelope[0]}")
    header_len = 2 + envelope[1]
    if len(envelope) < header_len + NONCE_SIZE + TAG_SIZE:
        raise DecryptionError("cannot decrypt: envelope is truncated")
    # Validate before echoing the id in any message: it comes from untrusted storage.
    key_id = envelope[2:header_len].decode("ascii", errors="replace")
    if not _key_id_ok(key_id):
        raise DecryptionError("cannot decrypt: malformed key id in envelope")
    return key_id, header_len
