"""Which URLs and addresses a probe may reach (chalicelib/domain/targets.py)."""

import ipaddress

import pytest

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.targets import (
    MAX_URL_CHARS,
    check_url,
    embedded_ipv4,
    is_forbidden_address,
    is_internal_host,
    parse_address,
)


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


# ---- addresses -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        # IPv4 private, loopback, link-local and metadata
        "10.0.0.1",
        "10.255.255.255",
        "172.16.0.1",
        "172.31.255.254",
        "192.168.1.1",
        "127.0.0.1",
        "127.255.255.254",
        "169.254.0.1",
        "169.254.169.254",  # EC2/ECS metadata
        "169.254.170.2",  # ECS task metadata
        "192.0.0.192",  # Oracle Cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "100.127.255.254",
        "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
        "0.1.2.3",
        "192.0.2.1",
        "198.18.0.1",
        "198.51.100.7",
        "203.0.113.9",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        # IPv6
        "::",
        "::1",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",  # EC2 IPv6 metadata
        "fec0::1",
        "ff02::1",
        "100::1",
        "2001:db8::1",
        # IPv4 inside IPv6
        "::ffff:127.0.0.1",  # mapped
        "::ffff:169.254.169.254",
        "::ffff:10.0.0.1",
        "::127.0.0.1",  # compatible
        "::169.254.169.254",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::a00:1",  # local-use NAT64
        "64:ff9b:1:0:a:0:108:808",  # 10.0.0.1 in the /64 layout of RFC 6052, not in the last 32 bits
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    ],
)
def test_internal_addresses_are_forbidden(address: str) -> None:
    assert is_forbidden_address(ip(address))


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "93.184.216.34",
        "100.63.255.255",  # just below carrier-grade NAT
        "100.128.0.0",  # just above it
        "172.15.255.255",  # just below 172.16.0.0/12
        "172.32.0.0",  # just above it
        "192.169.0.1",
        "169.253.255.255",
        "11.0.0.1",
        "2606:4700:4700::1111",
        "2a00:1450:4001:80b::200e",
        "::ffff:8.8.8.8",
        "2002:808:808::",  # 6to4 of 8.8.8.8
        "64:ff9b::808:808",  # NAT64 of 8.8.8.8
    ],
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert not is_forbidden_address(ip(address))


def test_an_ipv6_address_with_a_zone_is_forbidden() -> None:
    assert is_forbidden_address(ipaddress.IPv6Address("2606:4700:4700::1111%eth0"))


@pytest.mark.parametrize(
    ("address", "inner"),
    [
        ("::ffff:10.1.2.3", "10.1.2.3"),
        ("::10.1.2.3", "10.1.2.3"),
        ("2002:a01:203::", "10.1.2.3"),
        ("64:ff9b::a01:203", "10.1.2.3"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "192.0.2.45"),  # RFC 4380's example
        ("2606:4700:4700::1111", None),
        ("::1", None),  # loopback, not IPv4-compatible 0.0.0.1
        ("::", None),
    ],
)
def test_embedded_ipv4(address: str, inner: str | None) -> None:
    found = embedded_ipv4(ipaddress.IPv6Address(address))
    assert found == (None if inner is None else ipaddress.IPv4Address(inner))


# ---- hosts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),  # decimal
        ("0x7f000001", "127.0.0.1"),  # hex
        ("0x7f.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),  # octal
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),  # short form
        ("10.1", "10.0.0.1"),
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("[::1]", "::1"),
        ("::ffff:169.254.169.254", "::ffff:a9fe:a9fe"),
        ("[fe80::1%eth0]", "fe80::1%eth0"),
        ("example.com", None),
        ("1e100.net", None),
        ("", None),
    ],
)
def test_parse_address_reads_every_spelling_a_resolver_accepts(host: str, address: str | None) -> None:
    assert parse_address(host) == (None if address is None else ip(address))


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST",
        "localhost.",
        "app.localhost",
        "printer.local",
        "ip-10-0-0-1.ec2.internal",
        "metadata.google.internal",
        "metadata",
        "instance-data",
        "router.localdomain",
        "nas.home.arpa",
        "127.0.0.1",
        "2130706433",
        "0x7f.1",
        "169.254.169.254",
        "169.254.169.254.",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[fd00:ec2::254]",
        "10.0.0.1",
    ],
)
def test_internal_hosts(host: str) -> None:
    assert is_internal_host(host)


@pytest.mark.parametrize(
    "host",
    ["example.com", "localhost.example.com", "internal.example.com", "local", "8.8.8.8", "[2606:4700::1111]"],
)
def test_public_hosts(host: str) -> None:
    assert not is_internal_host(host)


# ---- URLs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com",
        "http://example.com/health?full=1#top",
        "HTTPS://Example.COM/Path",
        "https://example.com:8443/",
        "http://[2606:4700:4700::1111]:8080/",
        "https://8.8.8.8/",
        "https://xn--bcher-kva.example/",
    ],
)
def test_well_formed_public_urls_pass(url: str) -> None:
    assert check_url(url, allow_private=False) == url


def test_surrounding_whitespace_is_trimmed() -> None:
    assert check_url("  https://example.com/  ", allow_private=False) == "https://example.com/"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "url: is required"),
        ("   ", "url: is required"),
        ("https://example.com/" + "a" * MAX_URL_CHARS, f"url: must be at most {MAX_URL_CHARS} characters"),
        ("https://exa mple.com/", "url: must not contain spaces or control characters"),
        ("https://example.com/\x00", "url: must not contain spaces or control characters"),
        ("https://example.com/\tx", "url: must not contain spaces or control characters"),
        ("ftp://example.com/", "url: must start with http:// or https://"),
        ("file:///etc/passwd", "url: must start with http:// or https://"),
        ("gopher://127.0.0.1:6379/_", "url: must start with http:// or https://"),
        ("javascript:alert(1)", "url: must start with http:// or https://"),
        ("example.com", "url: must start with http:// or https://"),
        ("//example.com/", "url: must start with http:// or https://"),
        ("https://example.com:99999/", "url: has an invalid port"),
        ("https://example.com:-1/", "url: has an invalid port"),
        ("https://example.com:http/", "url: has an invalid port"),
        ("https:///path", "url: must name a host"),
        ("https://:443/", "url: must name a host"),
        ("https://[::1/", "url: is not a valid URL"),
        ("https://[not-an-ip]/", "url: is not a valid URL"),
        ("https://user:secret@example.com/", "url: must not carry credentials; send them in headers"),
        ("https://user@example.com/", "url: must not carry credentials; send them in headers"),
        ("https://:secret@example.com/", "url: must not carry credentials; send them in headers"),
    ],
)
def test_malformed_urls_are_refused_with_a_reason(url: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_url(url, allow_private=True)
    assert caught.value.message == message


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8080/",
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fd00:ec2::254]/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://10.0.0.5:9200/",
        "http://100.100.100.200/",  # Alibaba Cloud metadata, in carrier-grade NAT space
    ],
)
def test_internal_urls_are_refused_unless_private_targets_are_allowed(url: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_url(url, allow_private=False)
    assert caught.value.message == "url: points at a private, loopback, link-local or metadata address"
    assert check_url(url, allow_private=True) == url


def test_the_field_named_is_the_one_given() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_url("ftp://x", allow_private=False, field="webhook_url")
    assert caught.value.field == "webhook_url"
    assert caught.value.message == "webhook_url: must start with http:// or https://"


def test_fullwidth_digits_and_dots_are_read_as_the_address_they_spell():
    from chalicelib.domain.targets import canonical_host, check_url

    wide = "".join(chr(ord(ch) + 0xFEE0) for ch in "127.0.0.1")  # fullwidth digits and dots
    assert canonical_host(wide) == "127.0.0.1"
    assert canonical_host("Hooks.Example.COM.") == "hooks.example.com"
    with pytest.raises(InvalidInput, match=r"^hook: points at a private"):
        check_url(f"http://{wide}:9000/x", allow_private=False, field="hook")
    assert check_url(f"http://{wide}:9000/x", allow_private=True)  # the local stack allows it
