import pytest

from chalicelib.domain.accounts import (
    check_password,
    check_slug,
    is_free_mail,
    login_client,
    login_delay_seconds,
    normalize_email,
    slugify,
)
from chalicelib.domain.errors import InvalidInput


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Ada@Example.COM", "ada@example.com"), ("  bob+ops@sub.example.io ", "bob+ops@sub.example.io")],
)
def test_emails_are_trimmed_and_lower_cased(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "plain", "a@b", "a@@example.com", "a..b@example.com", "a@-x.com", "a b@example.com", None, 3],
)
def test_bad_emails_name_the_field(raw):
    with pytest.raises(InvalidInput, match=r"^email: "):
        normalize_email(raw)


def test_an_overlong_local_part_is_refused():
    with pytest.raises(InvalidInput):
        normalize_email("x" * 65 + "@example.com")


def test_passwords_are_8_characters_to_72_bytes():
    assert check_password("12345678") == "12345678"
    with pytest.raises(InvalidInput, match="password: must be at least 8 characters"):
        check_password("1234567")
    with pytest.raises(InvalidInput, match="new_password: must be at most 72 bytes"):
        check_password("ü" * 37, field="new_password")  # 37 characters, 74 bytes
    assert check_password("a" * 72)


def test_slugs_are_derived_from_names():
    assert slugify("Acme Café — Ops!") == "acme-cafe-ops"
    assert slugify("日本") == ""
    assert len(slugify("x" * 100)) == 48


@pytest.mark.parametrize("slug", ["acme", "a", "acme-ops-2", "0ps"])
def test_good_slugs(slug):
    assert check_slug(slug) == slug


@pytest.mark.parametrize("slug", ["", "-acme", "acme-", "Acme", "acme_ops", "a" * 49])
def test_bad_slugs(slug):
    with pytest.raises(InvalidInput, match=r"^slug: "):
        check_slug(slug)


def test_free_mail_domains():
    assert is_free_mail("someone@gmail.com")
    assert not is_free_mail("oncall@acme.io")


def test_login_delays_start_after_the_free_failures_and_double_up_to_the_cap():
    delays = [login_delay_seconds(n, failures_before_delay=5, max_delay_seconds=900) for n in range(1, 18)]
    assert delays == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]
    assert login_delay_seconds(10_000, failures_before_delay=5, max_delay_seconds=900) == 900


def test_logins_are_throttled_per_ipv4_address_and_per_ipv6_64():
    assert login_client("203.0.113.7") == "203.0.113.7"
    assert login_client("::ffff:203.0.113.7") == "203.0.113.7"
    assert login_client("2001:db8:1:2:aaaa::1") == login_client("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert login_client("2001:db8:1:3::1") != login_client("2001:db8:1:2::1")
    assert login_client("") == "unknown"
