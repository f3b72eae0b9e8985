"""IANA time zones as the API accepts them (`timezone` of heartbeats and maintenance windows)."""

from __future__ import annotations

from datetime import UTC, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from chalicelib.domain.errors import InvalidInput


def zone(name: str, *, field: str = "timezone") -> tzinfo:
    """The zone called `name`; InvalidInput naming `field` for anything that is not an IANA zone name.

    ZoneInfo alone would also load file names that are not zones ("localtime", "posixrules") and
    paths, so the name must be in the IANA list (from the system database or the `tzdata` package).
    """
    if name == "UTC":
        return UTC  # cron and rrule skip their DST handling for the stdlib UTC
    if not isinstance(name, str) or name not in _iana_names():
        raise InvalidInput(f"{name!r} is not an IANA time zone (such as Europe/Berlin)", field=field)
    return ZoneInfo(name)


@cache
def _iana_names() -> frozenset[str]:
    # A system database may hold non-zone files that TZif parsing accepts; they are not IANA names.
    return frozenset(available_timezones()) - {"localtime", "posixrules", "Factory"}
