"""The SSRF guard: URL syntax, and which resolved addresses a user's URL may reach."""

from __future__ import annotations

import socket
from collections.abc import Sequence

import pytest

from app.core.outbound import Resolver, UnsafeTargetError, ensure_public_target, validate_http_url


def resolver(*answers: str) -> tuple[list[str], Resolver]:
    asked: list[str] = []

    async def resolve(host: str) -> Sequence[str]:
        asked.append(host)
        return list(answers)

    return asked, resolve


async def no_dns(host: str) -> Sequence[str]:
    raise AssertionError(f"an IP literal must not be resolved ({host})")


# --- validate_http_url -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/hook",
        "http://example.com:8080/a?b=c",
        "https://[2606:4700::1111]/x",
        "HTTPS://Example.COM",
    ],
)
def test_valid_urls(url: str) -> None:
    assert validate_http_url(url) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "empty"),
        ("ftp://example.com/", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("https://", "no host"),
        ("https:///path", "no host"),
        ("https://user:pass@example.com/", "user name or password"),
        ("https://user@example.com/", "user name or password"),
        ("https://example.com:99999/", "malformed"),
        ("https://example.com:abc/", "malformed"),
        ("https://exa mple.com/", "whitespace"),
        ("https://example.com/\r\nX-Injected: 1", "whitespace"),
        ("https://example.com/" + "a" * 2048, "longer than 2048"),
    ],
)
def test_invalid_urls(url: str, problem: str) -> None:
    message = validate_http_url(url)
    assert message is not None
    assert problem in message


# --- ensure_public_target: IP literals ---------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.1.2.3", "loopback"),
        ("[::1]", "loopback"),
        ("10.0.0.5", "private"),
        ("172.16.3.4", "private"),
        ("192.168.1.1", "private"),
        ("[fc00::1]", "private"),
        ("[fd12:3456::1]", "private"),
        ("169.254.10.1", "link-local"),
        ("[fe80::1]", "link-local"),
        ("224.0.0.1", "multicast"),
        ("[ff02::1]", "multicast"),
        ("0.0.0.0", "unspecified"),  # noqa: S104
        ("[::]", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.10", "private"),  # TEST-NET-1: documentation, never a real service
        ("100.64.0.1", "CGNAT"),
        ("100.127.255.254", "CGNAT"),
        ("[::ffff:127.0.0.1]", "loopback"),  # IPv4-mapped IPv6
        ("[::ffff:10.0.0.1]", "private"),
        ("[::ffff:169.254.169.254]", "metadata"),
        ("[2002:7f00:1::]", "loopback"),  # 6to4 wrapping 127.0.0.1
        ("[64:ff9b::a00:1]", "private"),  # NAT64 of 10.0.0.1
        ("169.254.169.254", "metadata"),
        ("[fd00:ec2::254]", "metadata"),
    ],
)
async def test_non_public_ip_literals_are_refused(host: str, reason: str) -> None:
    with pytest.raises(UnsafeTargetError, match=reason):
        await ensure_public_target(f"http://{host}/x", allow_private=False, resolve=no_dns)


@pytest.mark.parametrize("host", ["8.8.8.8", "93.184.215.14", "[2606:4700:4700::1111]"])
async def test_public_ip_literals_are_allowed(host: str) -> None:
    await ensure_public_target(f"https://{host}/hook", allow_private=False, resolve=no_dns)


@pytest.mark.parametrize("host", ["127.0.0.1", "10.1.2.3", "[::1]", "100.64.1.1", "[fe80::1]"])
async def test_allow_private_permits_internal_addresses(host: str) -> None:
    await ensure_public_target(f"http://{host}:11434/", allow_private=True, resolve=no_dns)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://[::ffff:169.254.169.254]/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://METADATA.google.internal./",
    ],
)
async def test_metadata_endpoints_are_refused_even_when_private_is_allowed(url: str) -> None:
    with pytest.raises(UnsafeTargetError, match="metadata"):
        await ensure_public_target(url, allow_private=True, resolve=no_dns)


# --- ensure_public_target: host names ----------------------------------------------------------


async def test_a_public_host_name_is_resolved_and_allowed() -> None:
    asked, resolve = resolver("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    await ensure_public_target("https://Example.com./hook", allow_private=False, resolve=resolve)
    assert asked == ["example.com"]


async def test_a_host_name_is_refused_when_any_address_is_private() -> None:
    _, resolve = resolver("93.184.215.14", "10.0.0.7")
    with pytest.raises(UnsafeTargetError, match="private"):
        await ensure_public_target("https://mixed.example/", allow_private=False, resolve=resolve)


async def test_a_host_name_resolving_to_metadata_is_refused_with_allow_private() -> None:
    _, resolve = resolver("169.254.169.254")
    with pytest.raises(UnsafeTargetError, match="metadata"):
        await ensure_public_target("http://sneaky.example/", allow_private=True, resolve=resolve)


async def test_scoped_ipv6_answers_are_understood() -> None:
    _, resolve = resolver("fe80::1%eth0")
    with pytest.raises(UnsafeTargetError, match="link-local"):
        await ensure_public_target("http://lan.example/", allow_private=False, resolve=resolve)


async def test_resolution_failure_is_refused() -> None:
    async def broken(host: str) -> Sequence[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(UnsafeTargetError, match="cannot resolve host") as info:
        await ensure_public_target("https://nope.invalid/", allow_private=False, resolve=broken)
    assert isinstance(info.value.__cause__, socket.gaierror)


async def test_empty_resolution_is_refused() -> None:
    _, resolve = resolver()
    with pytest.raises(UnsafeTargetError, match="cannot resolve host"):
        await ensure_public_target("https://empty.example/", allow_private=False, resolve=resolve)


async def test_syntactically_invalid_urls_are_refused_before_resolving() -> None:
    with pytest.raises(UnsafeTargetError, match="user name or password"):
        await ensure_public_target("https://u:p@example.com/", allow_private=True, resolve=no_dns)


def test_unsafe_target_error_is_a_value_error() -> None:
    assert issubclass(UnsafeTargetError, ValueError)


@pytest.mark.parametrize("host", ["2130706433", "127.1", "0x7f.1", "017700000001"])
async def test_numeric_shorthands_are_caught_by_the_system_resolver(host: str) -> None:
    # Not IP literals to `ipaddress`, but inet_aton (and so the connection) reads them as
    # 127.0.0.1. getaddrinfo parses them locally: no DNS query leaves the machine.
    with pytest.raises(UnsafeTargetError, match="loopback"):
        await ensure_public_target(f"http://{host}/", allow_private=False)
