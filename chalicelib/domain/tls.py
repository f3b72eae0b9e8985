"""TLS certificate expiry: days left, which warning threshold is reached, and what to do about it.

One incident per certificate: it opens at the first threshold reached, later thresholds raise its
severity (a timeline entry, not another incident), and a renewed certificate resolves it. Severity by
the position of the threshold in the list, largest first: the last threshold is `high` (the last
warning before expiry), the first is `low`, any between are `medium`. So [14, 7, 1] gives low, medium,
high; [14, 3] gives low, high; a single threshold is high. An expired certificate is past the last
threshold: high.

The certificate is read at most once a day per host (a separate handshake); the checker asks
`certificate_read_due` so that a steady check costs no extra write.

Pure: times are epoch seconds, `now` comes from the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from chalicelib.domain.errors import InvalidInput

DAY = 86_400
DEFAULT_TLS_EXPIRY_DAYS = (14, 7, 1)
MAX_THRESHOLDS = 5
MIN_THRESHOLD_DAYS, MAX_THRESHOLD_DAYS = 1, 365
READ_EVERY_SECONDS = DAY
_SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def check_tls_expiry_days(days: object) -> tuple[int, ...]:
    """The thresholds, largest first; InvalidInput naming `tls_expiry_days`. An empty list turns the
    warnings off (the certificate is still read and shown)."""
    if not isinstance(days, list | tuple):
        raise InvalidInput("must be a list of days", field="tls_expiry_days")
    if len(days) > MAX_THRESHOLDS:
        raise InvalidInput(f"may have at most {MAX_THRESHOLDS} entries", field="tls_expiry_days")
    for day in days:
        if (
            isinstance(day, bool)
            or not isinstance(day, int)
            or not MIN_THRESHOLD_DAYS <= day <= MAX_THRESHOLD_DAYS
        ):
            raise InvalidInput(
                f"each must be a whole number from {MIN_THRESHOLD_DAYS} to {MAX_THRESHOLD_DAYS}",
                field="tls_expiry_days",
            )
    if len(set(days)) != len(days):
        raise InvalidInput("must not repeat a day", field="tls_expiry_days")
    return tuple(sorted(days, reverse=True))


def days_remaining(not_after: int, now: int) -> int:
    """Whole days left, rounded down (6 days 23 hours is 6); negative once expired (-1 the first day)."""
    return (not_after - now) // DAY


def reached_threshold(days_left: int, thresholds: Sequence[int]) -> int | None:
    """The smallest threshold that `days_left` has fallen to (days_left <= threshold), or None."""
    reached = [t for t in thresholds if days_left <= t]
    return min(reached) if reached else None


def severity_for(threshold: int, thresholds: Sequence[int]) -> str:
    ordered = sorted(thresholds, reverse=True)
    position = ordered.index(threshold)
    if position == len(ordered) - 1:
        return "high"
    return "low" if position == 0 else "medium"


class TlsAction(StrEnum):
    NONE = "none"
    OPEN = "open"  # open the certificate's incident with `severity`
    RAISE = "raise"  # raise the open incident to `severity` (a timeline entry)
    RESOLVE = "resolve"  # the certificate was renewed: resolve the open incident


@dataclass(frozen=True)
class TlsDecision:
    action: TlsAction
    severity: str | None = None
    threshold: int | None = None


def decide(days_left: int, thresholds: Sequence[int], open_incident_severity: str | None) -> TlsDecision:
    """What a new reading does, given the severity of the certificate's open incident (None: none open).

    Severity only climbs: a reading that maps lower (the thresholds were edited) leaves it alone.
    """
    threshold = reached_threshold(days_left, thresholds)
    if threshold is None:
        if open_incident_severity is not None:
            return TlsDecision(TlsAction.RESOLVE)
        return TlsDecision(TlsAction.NONE)
    severity = severity_for(threshold, thresholds)
    if open_incident_severity is None:
        return TlsDecision(TlsAction.OPEN, severity, threshold)
    if _SEVERITY_RANK[severity] > _SEVERITY_RANK.get(open_incident_severity, 0):
        return TlsDecision(TlsAction.RAISE, severity, threshold)
    return TlsDecision(TlsAction.NONE, open_incident_severity, threshold)


def incident_title(host: str, days_left: int) -> str:
    if days_left < 0:
        ago = -days_left
        return f"TLS certificate for {host} expired {ago} day{'s' if ago != 1 else ''} ago"
    if days_left == 0:
        return f"TLS certificate for {host} expires within a day"
    return f"TLS certificate for {host} expires in {days_left} day{'s' if days_left != 1 else ''}"


def certificate_read_due(last_read_at: int | None, now: int) -> bool:
    """Read the served certificate when it has not been read in the last day (or ever)."""
    return last_read_at is None or now - last_read_at >= READ_EVERY_SECONDS
