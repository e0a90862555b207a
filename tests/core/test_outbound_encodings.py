"""Outbound guard: addresses hidden in another encoding, and characters no URL may carry.

An IPv6 tunnel address carries an IPv4 address the packet is finally delivered to; a URL with a
control character may be read differently by the guard and by the HTTP client. Each case here
was found unguarded by a mutation run (the code was right; no test kept it right).
"""

from __future__ import annotations

import pytest

from app.core.outbound import UnsafeTargetError, ensure_public_target, validate_http_url

# Teredo 2001:0::/32: server 65.54.227.120, client = 169.254.169.254 with every bit inverted
# (0x5601 0x5601 -> ~ -> a9fe:a9fe), the cloud metadata address.
TEREDO_TO_METADATA = "http://[2001:0:4136:e378::5601:5601]/"
# The same server wrapping the public 8.8.8.8 (0xf7f7 0xf7f7 inverted): an ordinary address.
TEREDO_TO_PUBLIC = "http://[2001:0:4136:e378::f7f7:f7f7]/"


@pytest.mark.parametrize("allow_private", [True, False])
async def test_teredo_wrapping_the_metadata_address_is_refused(allow_private: bool) -> None:
    with pytest.raises(UnsafeTargetError, match="cloud metadata service"):
        await ensure_public_target(TEREDO_TO_METADATA, allow_private=allow_private)


async def test_teredo_checks_the_client_not_the_public_server_address() -> None:
    # allow_private: only the embedded client address can make it refused.
    await ensure_public_target(TEREDO_TO_PUBLIC, allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/\x7f",
        "http://exa\x7fmple.com/",
        "https://example.com/?q=\x7f",
    ],
)
def test_delete_character_is_refused(url: str) -> None:
    assert validate_http_url(url) == "the URL contains whitespace or control characters"


async def test_delete_character_is_refused_before_resolving() -> None:
    async def resolve(host: str) -> list[str]:
        raise AssertionError("must not resolve")

    with pytest.raises(UnsafeTargetError, match="control characters"):
        await ensure_public_target("http://example.com/\x7f", allow_private=False, resolve=resolve)


def test_the_unit_separator_is_refused() -> None:
    assert validate_http_url("http://example.com/\x1f") == (
        "the URL contains whitespace or control characters"
    )


def test_printable_neighbours_of_the_control_ranges_are_accepted() -> None:
    # "!" follows space (0x20) and "~" precedes DEL (0x7F): both are ordinary URL characters.
    assert validate_http_url("http://example.com/!~") is None
