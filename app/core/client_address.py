"""Who is on the other end of a request: the client address, behind trusted proxies or not.

The address is taken from the socket (`scope["client"]`). `X-Forwarded-For` is believed only when
the socket's peer is one of `FORWARDED_ALLOW_IPS`: uvicorn's `ProxyHeadersMiddleware`, which
`create_app` installs in the app itself (not as a uvicorn option) so that tests and `serve` run
the same code, then walks the header from the right and takes the first hop that is not a trusted
proxy. Every consumer (login throttling, the audit trail) reads `request.client` afterwards.
"""

from __future__ import annotations

import ipaddress

from starlette.requests import HTTPConnection

# An IPv6 host usually holds a whole /64: counting single addresses would give it 2**64 tries.
IPV6_THROTTLE_PREFIX = 64
# The address of a connection without one (an ASGI server over a UNIX socket, for example): such
# clients share one throttling bucket rather than escaping throttling.
UNKNOWN_CLIENT = "unknown"
_MAX_KEY_LENGTH = 64


def client_host(connection: HTTPConnection) -> str | None:
    """The client's address as the (proxy-aware) ASGI scope has it, or None."""
    client = connection.client
    return client.host if client and client.host else None


def throttle_key(host: str | None) -> str:
    """The bucket a client address is throttled in: an IPv4 address, an IPv6 /64 network.

    IPv4-mapped IPv6 addresses count as their IPv4 address. A value that is not an address (a
    trusted proxy may forward anything) is kept, truncated, as its own bucket.
    """
    if not host:
        return UNKNOWN_CLIENT
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host[:_MAX_KEY_LENGTH]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        network = ipaddress.IPv6Network((address, IPV6_THROTTLE_PREFIX), strict=False)
        return str(network)
    return str(address)


def parse_trusted_proxies(value: str) -> str:
    """Validate a `FORWARDED_ALLOW_IPS` value: `*`, or comma-separated addresses and networks.

    uvicorn silently treats anything unparsable as a literal that never matches a TCP peer; a typo
    would then quietly turn proxy support off (every client would look like the proxy), so it is
    refused here instead.
    """
    entries = [item.strip() for item in value.split(",") if item.strip()]
    if entries == ["*"]:
        return "*"
    for entry in entries:
        try:
            if "/" in entry:
                ipaddress.ip_network(entry)
            else:
                ipaddress.ip_address(entry)
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network (or use *)") from None
    return ",".join(entries)
