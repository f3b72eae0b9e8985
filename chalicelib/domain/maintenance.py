"""Maintenance windows: planned work that silences a service without losing its history.

A window is one-off (`starts_at` to `ends_at`) or recurring (an RFC 5545 RRULE whose first occurrence
is `starts_at`). The checker, the heartbeat sweep, the alert consumer and the metrics fold all ask the
same question, `in_maintenance(service_id, windows, at)`, so they cannot disagree about it.

Time zones, as RFC 5545 says: a recurring window keeps its local wall-clock start in its `timezone`
across daylight-saving changes (a 04:00 Sunday window starts at 04:00 local in winter and in summer).
A start that falls in the hour skipped in spring is read with the offset before the gap (02:30 in New
York becomes 03:30 daylight time); one that falls in the hour repeated in autumn is the first of the
two. Each occurrence lasts the window's duration in elapsed time, so a two-hour window is two hours
long even across a change.

Occurrences are half-open: the start instant is inside the window, the end instant is not.

Pure: no clock, no I/O; times are epoch seconds, `now` comes from the caller.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from functools import lru_cache

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr

from chalicelib.domain.errors import Conflict, InvalidInput
from chalicelib.domain.timezones import zone

MIN_DURATION_MINUTES = 1
MAX_ONE_OFF_MINUTES = 31 * 24 * 60  # a month of planned work is the longest one window may silence
MAX_OCCURRENCE_MINUTES = 7 * 24 * 60  # each occurrence of a recurring window: at most a week
MAX_SERVICE_IDS = 100
MAX_RECURRENCE_CHARS = 500
MAX_INTERVAL = 1000
MAX_ENDED_EARLY_KEPT = 20  # markers older than the last few only matter to history already folded
# The time of day comes from starts_at; sub-daily rules would make the checker expand thousands of
# occurrences per question.
_ALLOWED_PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST"}
_ALLOWED_FREQS = {"DAILY": DAILY, "WEEKLY": WEEKLY, "MONTHLY": MONTHLY, "YEARLY": YEARLY}
_PART = re.compile(r"^([A-Z]+)=([^;=]*)$")
_GREGORIAN_CYCLE_YEARS = 400  # weekdays and leap years repeat exactly every 400 years


class WindowState(StrEnum):
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    ENDED = "ended"


@dataclass(frozen=True)
class Occurrence:
    starts_at: int
    ends_at: int  # exclusive


@dataclass(frozen=True)
class EndedEarly:
    """The `end` action: the occurrence that started at `occurrence_starts_at` stopped at `ended_at`."""

    occurrence_starts_at: int
    ended_at: int


@dataclass(frozen=True)
class MaintenanceWindow:
    starts_at: int  # the first occurrence's start
    duration_seconds: int  # of every occurrence
    recurrence: str | None = None  # the RRULE, without "RRULE:" and without DTSTART
    timezone: str = "UTC"
    service_ids: frozenset[str] = frozenset()  # empty: every service of the org
    ended_early: tuple[EndedEarly, ...] = ()
    window_id: str | None = None  # the caller's id, carried along for its own bookkeeping

    @property
    def ends_at(self) -> int:
        """The first occurrence's end."""
        return self.starts_at + self.duration_seconds

    def applies_to(self, service_id: str) -> bool:
        return not self.service_ids or service_id in self.service_ids


@dataclass(frozen=True)
class WindowStatus:
    """`state`, and the occurrence to show: the current one while active, else the next one."""

    state: WindowState
    next_starts_at: int | None
    next_ends_at: int | None


def new_window(
    *,
    now: int,
    starts_at: int | None = None,
    ends_at: int | None = None,
    duration_minutes: int | None = None,
    recurrence: str | None = None,
    timezone: str = "UTC",
    service_ids: Iterable[str] = (),
    window_id: str | None = None,
) -> MaintenanceWindow:
    """A validated window; InvalidInput naming the first field that breaks a rule.

    No `starts_at` means now (so CI can open a window right before a deploy). Give `ends_at` or
    `duration_minutes`. A one-off window lasts 1 minute to 31 days and must not be over already; an
    occurrence of a recurring window lasts 1 minute to 7 days.
    """
    start = now if starts_at is None else starts_at
    if (ends_at is None) == (duration_minutes is None):
        raise InvalidInput("give ends_at or duration_minutes (one of them)", field="ends_at")
    max_minutes = MAX_ONE_OFF_MINUTES if recurrence is None else MAX_OCCURRENCE_MINUTES
    if duration_minutes is not None:
        if not _is_int(duration_minutes) or not MIN_DURATION_MINUTES <= duration_minutes <= max_minutes:
            raise InvalidInput(
                f"must be from {MIN_DURATION_MINUTES} to {max_minutes}", field="duration_minutes"
            )
        duration = duration_minutes * 60
    else:
        assert ends_at is not None
        if ends_at <= start:
            raise InvalidInput("must be after starts_at", field="ends_at")
        duration = ends_at - start
        if duration < MIN_DURATION_MINUTES * 60:
            raise InvalidInput("must be at least a minute after starts_at", field="ends_at")
        if duration > max_minutes * 60:
            raise InvalidInput(f"must be at most {max_minutes} minutes after starts_at", field="ends_at")
    if recurrence is None and start + duration <= now:
        raise InvalidInput("the window would be over already", field="ends_at")
    zone(timezone)
    ids = frozenset(service_ids)
    if len(ids) > MAX_SERVICE_IDS or not all(isinstance(i, str) and i for i in ids):
        raise InvalidInput(f"must be at most {MAX_SERVICE_IDS} service ids", field="service_ids")
    window = MaintenanceWindow(
        starts_at=start,
        duration_seconds=duration,
        recurrence=None if recurrence is None else _normalized_rule_text(recurrence),
        timezone=timezone,
        service_ids=ids,
        window_id=window_id,
    )
    if window.recurrence is not None:
        _check_rule_fires(window)
    return window


def _normalized_rule_text(recurrence: object) -> str:
    if not isinstance(recurrence, str) or not recurrence.strip():
        raise InvalidInput("must be an RRULE such as FREQ=WEEKLY;BYDAY=SU", field="recurrence")
    if len(recurrence) > MAX_RECURRENCE_CHARS:
        raise InvalidInput(f"must be at most {MAX_RECURRENCE_CHARS} characters", field="recurrence")
    text = recurrence.strip().upper().removeprefix("RRULE:")
    names = []
    for part in text.split(";"):
        match = _PART.match(part)
        if not match:
            raise InvalidInput(f"{part!r} is not NAME=VALUE", field="recurrence")
        names.append(match.group(1))
    if len(names) != len(set(names)):
        raise InvalidInput("names a part twice", field="recurrence")
    unknown = sorted(set(names) - _ALLOWED_PARTS)
    if unknown:
        raise InvalidInput(
            f"{', '.join(unknown)} not supported (the time of day comes from starts_at)", field="recurrence"
        )
    freq = dict(part.split("=", 1) for part in text.split(";")).get("FREQ")
    if freq not in _ALLOWED_FREQS:
        raise InvalidInput("FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY", field="recurrence")
    interval = dict(part.split("=", 1) for part in text.split(";")).get("INTERVAL", "1")
    if not interval.isdigit() or not 1 <= int(interval) <= MAX_INTERVAL:
        raise InvalidInput(f"INTERVAL must be from 1 to {MAX_INTERVAL}", field="recurrence")
    return text


def _check_rule_fires(window: MaintenanceWindow) -> None:
    """The rule parses and has occurrences: an impossible rule (30 February) would make every
    expansion walk day by day to the year 9999, taking seconds."""
    try:
        rule = _rule(window)
    except (ValueError, TypeError) as error:
        raise InvalidInput(str(error), field="recurrence") from error
    # Shift the start by whole 400-year cycles to just before the year 9999, where dateutil stops
    # searching: the calendar there is the same, so the search is bounded and the answer unchanged.
    first = datetime.fromtimestamp(window.starts_at, tz=zone(window.timezone))
    cycles = (9989 - first.year) // _GREGORIAN_CYCLE_YEARS
    shifted = rule.replace(
        dtstart=first.replace(year=first.year + cycles * _GREGORIAN_CYCLE_YEARS), until=None, count=None
    )
    if next(iter(shifted), None) is None:
        raise InvalidInput("never occurs", field="recurrence")
    if next(iter(rule), None) is None:
        raise InvalidInput("has no occurrence before its UNTIL", field="recurrence")


def _rule(window: MaintenanceWindow) -> rrule:
    assert window.recurrence is not None
    return _parsed_rule(window.recurrence, window.starts_at, window.timezone)


def _parsed_rule(recurrence: str, starts_at: int, timezone: str) -> rrule:
    dtstart = datetime.fromtimestamp(starts_at, tz=zone(timezone))
    rule: rrule = rrulestr(recurrence, dtstart=dtstart)
    return rule


# Occurrences and state


def occurrences(window: MaintenanceWindow, start: int, end: int) -> list[Occurrence]:
    """The window's occurrences that overlap [start, end), oldest first, with early ends applied."""
    return list(_occurrences_from(window, start, until=end))


def _occurrences_from(window: MaintenanceWindow, start: int, *, until: int | None) -> Iterator[Occurrence]:
    """Occurrences that end after `start`, oldest first; those starting at or after `until` are not
    produced (None: without end, which a caller must bound itself)."""
    cut_short = {marker.occurrence_starts_at: marker.ended_at for marker in window.ended_early}
    for begins in _starts_from(window, start - window.duration_seconds):
        if until is not None and begins >= until:
            return
        ends = min(begins + window.duration_seconds, cut_short.get(begins, begins + window.duration_seconds))
        if ends > start and ends > begins:
            yield Occurrence(begins, ends)


def _starts_from(window: MaintenanceWindow, earliest: int) -> Iterator[int]:
    """Occurrence starts at or after `earliest`, ascending."""
    if window.recurrence is None:
        if window.starts_at >= earliest:
            yield window.starts_at
        return
    yield from _expansion(window.recurrence, window.starts_at, window.timezone).starts_from(earliest)


class _Expansion:
    """A rule's occurrence starts, generated once and kept: the checker asks about the same window for
    every check, and walking a years-old daily rule from its first day each time costs milliseconds."""

    def __init__(self, rule: rrule) -> None:
        # A wall-clock time in the spring gap has fold=0: timestamp() reads it with the offset before.
        self._source = (int(begins.timestamp()) for begins in rule)
        self._starts: list[int] = []
        self._lock = threading.Lock()

    def starts_from(self, earliest: int) -> Iterator[int]:
        index = self._index_at_or_after(earliest)
        while True:
            with self._lock:
                if index >= len(self._starts) and not self._extend():
                    return
                begins = self._starts[index]
            yield begins
            index += 1

    def _index_at_or_after(self, earliest: int) -> int:
        with self._lock:
            while (not self._starts or self._starts[-1] < earliest) and self._extend():
                pass
            return bisect_left(self._starts, earliest)

    def _extend(self) -> bool:
        begins = next(self._source, None)
        if begins is None:
            return False
        self._starts.append(begins)
        return True


@lru_cache(maxsize=256)
def _expansion(recurrence: str, starts_at: int, timezone: str) -> _Expansion:
    return _Expansion(_parsed_rule(recurrence, starts_at, timezone))


def window_status(window: MaintenanceWindow, now: int) -> WindowStatus:
    """`active` while an occurrence holds `now`, else `scheduled` while one is still to come, else `ended`."""
    for occurrence in _occurrences_from(window, now, until=None):
        if occurrence.starts_at <= now:
            return WindowStatus(WindowState.ACTIVE, occurrence.starts_at, occurrence.ends_at)
        return WindowStatus(WindowState.SCHEDULED, occurrence.starts_at, occurrence.ends_at)
    return WindowStatus(WindowState.ENDED, None, None)


def current_occurrence(window: MaintenanceWindow, at: int) -> Occurrence | None:
    for occurrence in _occurrences_from(window, at, until=at + 1):
        if occurrence.starts_at <= at < occurrence.ends_at:
            return occurrence
    return None


def end_now(window: MaintenanceWindow, now: int) -> MaintenanceWindow:
    """The `end` action: the current occurrence stops at `now`; later occurrences still come.

    Conflict (409) when no occurrence is active.
    """
    occurrence = current_occurrence(window, now)
    if occurrence is None:
        raise Conflict("the window is not active")
    marker = EndedEarly(occurrence_starts_at=occurrence.starts_at, ended_at=now)
    kept = tuple(m for m in window.ended_early if m.occurrence_starts_at != occurrence.starts_at)
    return replace(window, ended_early=(*kept, marker)[-MAX_ENDED_EARLY_KEPT:])


# The questions the checker, sweep, consumer and metrics fold ask


def windows_in_effect(
    service_id: str, windows: Iterable[MaintenanceWindow], at: int
) -> list[MaintenanceWindow]:
    """The windows that hold `service_id` in maintenance at `at` (to count `suppressed_alerts` on)."""
    return [w for w in windows if w.applies_to(service_id) and current_occurrence(w, at) is not None]


def in_maintenance(service_id: str, windows: Iterable[MaintenanceWindow], at: int) -> bool:
    """THE question: is this service in maintenance at `at`? `windows` are the org's windows that may
    apply (a window with no service_ids applies to every service of its org)."""
    return any(w.applies_to(service_id) and current_occurrence(w, at) is not None for w in windows)


def maintenance_seconds(service_id: str, windows: Iterable[MaintenanceWindow], start: int, end: int) -> int:
    """Seconds of [start, end) that the service spent in maintenance; overlapping windows count once."""
    spans = sorted(
        (max(o.starts_at, start), min(o.ends_at, end))
        for w in windows
        if w.applies_to(service_id)
        for o in occurrences(w, start, end)
    )
    return _union_length(spans)


def _union_length(spans: Sequence[tuple[int, int]]) -> int:
    total, covered_to = 0, None
    for begins, ends in spans:
        if covered_to is None or begins > covered_to:
            total += ends - begins
            covered_to = ends
        elif ends > covered_to:
            total += ends - covered_to
            covered_to = ends
    return total


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
