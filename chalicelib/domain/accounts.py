"""Rules for accounts and organizations: emails, passwords, names, slugs, codes, login throttling."""

from __future__ import annotations

import ipaddress
import re
import unicodedata

from chalicelib.domain.errors import InvalidInput

PASSWORD_MIN_CHARS = 8
PASSWORD_MAX_BYTES = 72  # bcrypt ignores (bcrypt 5 refuses) anything longer
NAME_MAX_CHARS = 200
EMAIL_MAX_CHARS = 254
VERIFICATION_CODE_TTL_SECONDS = 15 * 60
VERIFICATION_MAX_WRONG_TRIES = 5
# Verification codes and reset tokens that anyone can have sent to one address (the answer stays 202).
ACCOUNT_EMAILS_PER_HOUR = 5

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$"
_SLUG = re.compile(SLUG_PATTERN)

# Consumer mailbox providers refused for org creation when
# VIGIL_REQUIRE_BUSINESS_EMAIL is on (the seed product's rule).
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.es",
        "yahoo.com.br", "ymail.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr", "hotmail.es",
        "outlook.com", "outlook.es", "live.com", "msn.com", "aol.com", "icloud.com", "me.com",
        "mac.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de", "gmx.net", "web.de",
        "mail.com", "yandex.com", "yandex.ru", "zoho.com", "uol.com.br", "bol.com.br",
        "terra.com.br", "orange.fr", "free.fr", "laposte.net", "t-online.de", "qq.com",
        "163.com", "tutanota.com",
    }
)  # fmt: skip


def normalize_email(raw: object, *, field: str = "email") -> str:
    """Trimmed and lower-cased; raises InvalidInput naming `field` when it is not an address."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput("is required", field=field)
    email = raw.strip().lower()
    if len(email) > EMAIL_MAX_CHARS or not _EMAIL.match(email) or ".." in email:
        raise InvalidInput("is not a valid email address", field=field)
    if len(email.split("@", 1)[0]) > 64:
        raise InvalidInput("is not a valid email address", field=field)
    return email


def check_password(password: str, *, field: str = "password") -> str:
    if len(password) < PASSWORD_MIN_CHARS:
        raise InvalidInput(f"must be at least {PASSWORD_MIN_CHARS} characters", field=field)
    if len(password.encode("utf-8")) > PASSWORD_MAX_BYTES:
        raise InvalidInput(f"must be at most {PASSWORD_MAX_BYTES} bytes", field=field)
    return password


def is_free_mail(email: str) -> bool:
    return email.rsplit("@", 1)[-1] in FREE_MAIL_DOMAINS


def slugify(name: str) -> str:
    """'Acme Café — Ops' -> 'acme-cafe-ops'; empty when nothing usable is left."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:48].strip("-")


def check_slug(slug: str, *, field: str = "slug") -> str:
    if not _SLUG.fullmatch(slug):
        raise InvalidInput(
            "must be 1-48 lowercase letters, digits or hyphens, not starting or ending with a hyphen",
            field=field,
        )
    return slug


def login_delay_seconds(failures: int, *, failures_before_delay: int, max_delay_seconds: int) -> int:
    """The wait before the next login from a client after `failures` failed ones in a row: none at
    first, then 1 s doubling with each further failure (1, 2, 4, ...), capped."""
    if failures < failures_before_delay:
        return 0
    return min(max_delay_seconds, 2 ** min(failures - failures_before_delay, 32))


def login_client(source_ip: str) -> str:
    """The client a login is throttled by: its address, and for IPv6 its /64, which one subscriber
    usually holds whole (counting single addresses would give an attacker 2**64 budgets)."""
    try:
        address = ipaddress.ip_address(source_ip.strip())
    except ValueError:
        return source_ip.strip()[:64] or "unknown"
    if address.version == 6 and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
