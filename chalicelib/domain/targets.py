"""Which URLs and addresses a probe (or a webhook) may reach.

Checked when a service is saved and again by the prober on the address it
actually connected to, on every redirect: a hostname that resolves somewhere
safe today may resolve to 169.254.169.254 tomorrow (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
import unicodedata
from urllib.parse import urlsplit

from chalicelib.domain.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_CHARS = 2048

_FORBIDDEN_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this" network
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, including the EC2/ECS metadata endpoints
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments (includes 192.0.0.192 Oracle metadata)
        "192.0.2.0/24",  # TEST-NET-1
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # TEST-NET-2
        "203.0.113.0/24",  # TEST-NET-3
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the broadcast address
        "::/128",
        "::1/128",
        "fc00::/7",  # unique local (includes fd00:ec2::254, the EC2 IPv6 metadata endpoint)
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
        "100::/64",  # discard-only
        "2001:db8::/32",  # documentation
        "64:ff9b:1::/48",  # local-use NAT64: its IPv4 part need not sit in the last 32 bits
    )
)

_FORBIDDEN_HOSTNAMES = ("localhost", "metadata.google.internal", "metadata", "instance-data")
_FORBIDDEN_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64, Teredo), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    packed = address.packed
    if packed[:12] == bytes(12) and packed[12:] != bytes(4) and address != ipaddress.IPv6Address("::1"):
        return ipaddress.IPv4Address(packed[12:])  # IPv4-compatible ::a.b.c.d
    if address in ipaddress.ip_network("64:ff9b::/96") or address in ipaddress.ip_network("64:ff9b:1::/48"):
        return ipaddress.IPv4Address(packed[12:])  # NAT64
    return None


def is_forbidden_address(address: IPAddress) -> bool:
    """True for every address a probe of a deployed stack must never reach."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None and is_forbidden_address(inner):
            return True
        if address.scope_id:
            return True
    return any(address.version == net.version and address in net for net in _FORBIDDEN_NETWORKS)


def parse_address(host: str) -> IPAddress | None:
    """The host as an IP address when it is a literal (IPv6 brackets and zone ids allowed)."""
    candidate = host.strip("[]")
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        pass
    # Legacy IPv4 spellings resolvers accept: 2130706433, 0x7f.1, 017700000001 (parsing only, no I/O).
    try:
        return ipaddress.IPv4Address(socket.inet_aton(candidate))
    except (OSError, ValueError):
        return None


def check_url(url: str, *, allow_private: bool, field: str = "url") -> str:
    """A well-formed http(s) URL whose host is not obviously internal; DNS is checked by the caller."""
    url = url.strip()
    if not url:
        raise InvalidInput("is required", field=field)
    if len(url) > MAX_URL_CHARS:
        raise InvalidInput(f"must be at most {MAX_URL_CHARS} characters", field=field)
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise InvalidInput("must not contain spaces or control characters", field=field)
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # an unclosed or non-IP "[...]" host
        raise InvalidInput("is not a valid URL", field=field) from exc
    if parts.scheme.lower() not in {"http", "https"}:
        raise InvalidInput("must start with http:// or https://", field=field)
    try:
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise InvalidInput("has an invalid port", field=field) from exc
    if not host:
        raise InvalidInput("must name a host", field=field)
    if parts.username or parts.password:
        raise InvalidInput("must not carry credentials; send them in headers", field=field)
    if not allow_private and is_internal_host(canonical_host(host)):
        raise InvalidInput("points at a private, loopback, link-local or metadata address", field=field)
    return url


def canonical_host(host: str) -> str:
    """The host as resolvers and HTTP clients read it: IDNA-encoded, which folds fullwidth digits
    and dots (127.0.0.1 written with U+FF11...) into the ASCII they stand for, lowercased, no
    trailing dot.
    A name IDNA cannot encode is only NFKC-folded: it will not resolve anyway."""
    host = host.strip().rstrip(".")
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return unicodedata.normalize("NFKC", host).lower()


def is_internal_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    address = parse_address(host)
    if address is not None:
        return is_forbidden_address(address)
    return host in _FORBIDDEN_HOSTNAMES or host.endswith(_FORBIDDEN_SUFFIXES)
