"""Guard for user-supplied outgoing URLs (an AI provider's baseUrl, a webhook target's url).

A user who can make the server send requests to a URL of their choosing can otherwise reach what
only the server can: its loopback services, the private network, the cloud metadata endpoint that
hands out instance credentials. Two checks:

- `validate_http_url` is syntactic and cheap, and `refusal_without_dns` adds what can be known
  about the target without asking DNS: both run when a gateway is created or updated, so a URL
  that can never be allowed is refused with a field error before anything is stored.
- `ensure_public_target` resolves the host and refuses any non-public address. Providers run it
  before *every* call, because DNS answers change after the URL was accepted.

"Can never be allowed", decided at save time without DNS: a malformed URL, a scheme other than
http(s), a user name or password in the URL, a well-known metadata host name, a literal IP
address (in any form the system resolver accepts, e.g. `2130706433` or `0x7f.1` for 127.0.0.1)
that is a metadata address or, when private targets are not allowed, a non-public one, and
`localhost` or any `*.localhost` name (RFC 6761: always loopback). A host *name* is not resolved
at save time, on purpose: its answer proves nothing about the answer at use time, a name not yet
published would be refused, a slow resolver would stall the mutation, and answering "that name
resolves to a private address" would let any user probe the server's internal DNS.

Residual risk, accepted: DNS rebinding. We resolve, check, and then httpx resolves again when it
connects, so a hostile DNS server with a zero TTL can answer a public address to us and a private
one to httpx. Closing that window means pinning the checked IP into the connection (a custom
transport that connects to the IP while keeping SNI/Host on the name). It is not done here because
responses are never returned verbatim to the caller (webhook targets yield only a status code and
latency, AI adapters parse a fixed JSON shape), redirects are never followed, and metadata services
that matter (AWS IMDSv2, GCP) require headers we never send; that leaves a blind, low-value request.
Revisit if a provider ever relays raw upstream bodies.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import SplitResult, urlsplit

Resolver = Callable[[str], Awaitable[Sequence[str]]]
"""Resolves a host name to IP address strings; injectable so tests never touch DNS."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2048
_RESOLVE_TIMEOUT = 5.0

# Carrier-grade NAT space: not "private" to the ipaddress module, but never a public service.
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
# NAT64 well-known prefix: the last 32 bits are an IPv4 address that the gateway will reach.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

# Metadata endpoints are refused even when private targets are allowed: a self-hosted Ollama on
# the LAN is a legitimate target, the instance's credential service never is.
_METADATA_IPS: frozenset[IPAddress] = frozenset(
    {
        ipaddress.IPv4Address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack, DigitalOcean
        ipaddress.IPv4Address("169.254.170.2"),  # AWS ECS task metadata
        ipaddress.IPv4Address("100.100.100.200"),  # Alibaba Cloud
        ipaddress.IPv6Address("fd00:ec2::254"),  # AWS IPv6 IMDS
    }
)
_METADATA_HOSTS = frozenset(
    {
        "metadata.google.internal",  # GCP
        "metadata.goog",  # GCP
        "metadata",  # GCP, from inside the VPC's search domain
        "instance-data",  # AWS, from inside the VPC's search domain
        "instance-data.ec2.internal",  # AWS
        "metadata.azure.internal",  # Azure
    }
)
_IPV4_SHORTHAND = frozenset("0123456789abcdefx.")


class UnsafeTargetError(ValueError):
    """The URL must not be called; the message is safe to show to the user who supplied it."""


def validate_http_url(url: str) -> str | None:
    """A message saying what is wrong with `url`, or None when it is an acceptable http(s) URL."""
    if not url:
        return "the URL is empty"
    if len(url) > MAX_URL_LENGTH:
        return f"the URL is longer than {MAX_URL_LENGTH} characters"
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return "the URL contains whitespace or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a non-numeric or out-of-range port
    except ValueError:
        return "the URL is malformed"
    if parts.scheme.lower() not in ("http", "https"):
        return "the URL must start with http:// or https://"
    # Credentials in the URL would end up in logs and proxies; headers are the place for them.
    if "@" in parts.netloc:
        return "the URL must not contain a user name or password"
    if not parts.hostname:
        return "the URL has no host"
    return None


def _host_of(parts: SplitResult) -> str:
    host = parts.hostname or ""
    return host.rstrip(".").lower()  # "Metadata.Google.Internal." is the same name


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address tunnels to (mapped, 6to4, Teredo, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _refusal(ip: IPAddress, *, allow_private: bool) -> str | None:
    """Why `ip` must not be contacted, or None."""
    if ip in _METADATA_IPS:
        return "the URL points to a cloud metadata service"
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return _refusal(inner, allow_private=allow_private)
    if allow_private:
        return None
    if ip.is_unspecified:
        return "the URL resolves to an unspecified address"
    if ip.is_loopback:
        return "the URL resolves to a loopback address"
    if ip.is_link_local:
        return "the URL resolves to a link-local address"
    if ip.is_multicast:
        return "the URL resolves to a multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "the URL resolves to a shared (CGNAT) address"
    if ip.is_reserved:
        return "the URL resolves to a reserved address"
    if ip.is_private or not ip.is_global:
        # Also documentation and benchmarking ranges (192.0.2.0/24, 198.18.0.0/15 ...).
        return "the URL resolves to a private address"
    return None


async def _default_resolve(host: str) -> Sequence[str]:
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(
        loop.getaddrinfo(host, None, type=socket.SOCK_STREAM), _RESOLVE_TIMEOUT
    )
    return [str(info[4][0]) for info in infos]


def _parse_ip(value: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(value.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return None


def _literal_ip(host: str) -> IPAddress | None:
    """The address `host` spells without DNS, including the legacy IPv4 forms `inet_aton` takes.

    "2130706433", "0x7f.1" and "0177.0.0.1" are all 127.0.0.1 to the system resolver (and so to
    httpx), but not to `ipaddress`; a check that missed them would wave a loopback URL through.
    """
    literal = _parse_ip(host)
    if literal is not None or not host or not set(host) <= _IPV4_SHORTHAND:
        return literal
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def refusal_without_dns(url: str, *, allow_private: bool) -> str | None:
    """Why `url` can never be called, judged without DNS (see the module docstring), or None.

    None does not make the URL safe: `ensure_public_target` still decides at every use.
    """
    problem = validate_http_url(url)
    if problem is not None:
        return problem
    host = _host_of(urlsplit(url))
    if host in _METADATA_HOSTS:
        return "the URL points to a cloud metadata service"
    literal = _literal_ip(host)
    if literal is not None:
        return _refusal(literal, allow_private=allow_private)
    if not allow_private and (host == "localhost" or host.endswith(".localhost")):
        return "the URL resolves to a loopback address"
    return None


async def ensure_public_target(
    url: str, *, allow_private: bool, resolve: Resolver | None = None
) -> None:
    """Raise `UnsafeTargetError` unless every address `url`'s host resolves to may be contacted.

    Every address must pass, not just the first: the connection may use any of them.
    `allow_private` (self-hosted deployments, a local Ollama) permits loopback and private ranges
    but never a cloud metadata endpoint.
    """
    problem = refusal_without_dns(url, allow_private=allow_private)
    if problem is not None:
        raise UnsafeTargetError(problem)
    host = _host_of(urlsplit(url))
    literal = _literal_ip(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            answers = await (resolve or _default_resolve)(host)
        except (OSError, UnicodeError, TimeoutError) as exc:
            # socket.gaierror is an OSError; the resolver's own message may echo internals.
            raise UnsafeTargetError("cannot resolve host") from exc
        parsed = [_parse_ip(answer) for answer in answers]
        addresses = [ip for ip in parsed if ip is not None]
        if not addresses:
            raise UnsafeTargetError("cannot resolve host")

    for ip in addresses:
        reason = _refusal(ip, allow_private=allow_private)
        if reason is not None:
            raise UnsafeTargetError(reason)
