"""`parse_keys` reads base64 strictly: a key with stray characters is refused, not "repaired".

A lenient decoder silently drops characters outside the alphabet, so a key damaged in a copy
and paste (an extra character, a line break, a quote) could still decode to 32 bytes, different
from the real key, and every ciphertext would fail to decrypt later. Found unguarded by a
mutation run: the existing tests only *replace* a character, which both decoders reject.
"""

from __future__ import annotations

import base64

import pytest

from app.core.crypto import parse_keys

SECRET = bytes(range(32))
B64 = base64.b64encode(SECRET).decode()


@pytest.mark.parametrize(
    "encoded",
    [
        f"{B64[:10]}!{B64[10:]}",  # one extra character in the middle
        f"{B64[:10]}\n{B64[10:]}",  # a line break inside the key
        f"{B64[:20]}.{B64[20:]}",
        f"{B64[:-1]}*{B64[-1]}",  # just before the padding
        f"'{B64}",
    ],
)
def test_base64_with_stray_characters_is_refused(encoded: str) -> None:
    with pytest.raises(ValueError, match=r"entry 1 \(key id 'k1'\): key is not valid base64"):
        parse_keys(f"k1:{encoded}")


def test_the_clean_key_is_accepted() -> None:
    [key] = parse_keys(f"k1:{B64}")
    assert key.secret == SECRET
