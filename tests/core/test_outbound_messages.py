"""The outbound guard's messages, exactly: they are shown to the user who entered the URL (as a
field error on save, or as the reason a call was refused), so their wording is part of the API.
Also the length limit's boundary, private addresses inside IPv6 tunnels with `allow_private`,
and the resolver's timeout. Found unasserted by a mutation run."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from app.core import outbound
from app.core.outbound import (
    MAX_URL_LENGTH,
    UnsafeTargetError,
    ensure_public_target,
    validate_http_url,
)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "the URL is empty"),
        ("http://example.com:99999/", "the URL is malformed"),
        ("ftp://example.com/", "the URL must start with http:// or https://"),
        ("http://user:pw@example.com/", "the URL must not contain a user name or password"),
        ("http:///path", "the URL has no host"),
    ],
)
def test_validation_messages(url: str, message: str) -> None:
    assert validate_http_url(url) == message


def test_a_url_of_exactly_the_maximum_length_is_accepted() -> None:
    base = "https://example.com/"
    url = base + "a" * (MAX_URL_LENGTH - len(base))
    assert len(url) == MAX_URL_LENGTH
    assert validate_http_url(url) is None
    assert validate_http_url(url + "a") == f"the URL is longer than {MAX_URL_LENGTH} characters"


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("169.254.169.254", "the URL points to a cloud metadata service"),
        ("0.0.0.0", "the URL resolves to an unspecified address"),  # noqa: S104
        ("127.0.0.1", "the URL resolves to a loopback address"),
        ("169.254.1.1", "the URL resolves to a link-local address"),
        ("224.0.0.1", "the URL resolves to a multicast address"),
        ("100.64.0.1", "the URL resolves to a shared (CGNAT) address"),
        ("240.0.0.1", "the URL resolves to a reserved address"),
        ("10.0.0.1", "the URL resolves to a private address"),
    ],
)
async def test_refusal_messages(host: str, message: str) -> None:
    with pytest.raises(UnsafeTargetError) as info:
        await ensure_public_target(f"http://{host}/", allow_private=False)
    assert str(info.value) == message


async def test_a_metadata_host_name_message() -> None:
    with pytest.raises(UnsafeTargetError) as info:
        await ensure_public_target("http://metadata.google.internal/", allow_private=False)
    assert str(info.value) == "the URL points to a cloud metadata service"


@pytest.mark.parametrize("answers", [[], ["not an address"]])
async def test_an_unusable_resolution_message(answers: list[str]) -> None:
    async def resolve(host: str) -> list[str]:
        return answers

    with pytest.raises(UnsafeTargetError) as info:
        await ensure_public_target("http://x.example/", allow_private=False, resolve=resolve)
    assert str(info.value) == "cannot resolve host"


async def test_a_failed_resolution_message() -> None:
    async def resolve(host: str) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(UnsafeTargetError) as info:
        await ensure_public_target("http://x.example/", allow_private=False, resolve=resolve)
    assert str(info.value) == "cannot resolve host"


@pytest.mark.parametrize(
    "host", ["[::ffff:10.0.0.1]", "[2002:c0a8:0101::1]", "[64:ff9b::c0a8:101]"]
)
async def test_allow_private_also_permits_private_addresses_inside_ipv6(host: str) -> None:
    # Mapped, 6to4 and NAT64 forms of 10.0.0.1 / 192.168.1.1: a LAN target, like the plain form.
    await ensure_public_target(f"http://{host}/", allow_private=True)


async def test_the_system_resolver_is_given_up_on_after_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def hang(*args: Any, **kwargs: Any) -> Any:
        await asyncio.Event().wait()

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", hang)
    monkeypatch.setattr(outbound, "_RESOLVE_TIMEOUT", 0.01)
    with pytest.raises(UnsafeTargetError) as info:
        await asyncio.wait_for(ensure_public_target("http://slow.example/", allow_private=False), 5)
    assert str(info.value) == "cannot resolve host"
