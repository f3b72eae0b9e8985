"""EventBridge schedule expressions, `rate(...)` and `cron(...)`, parsed and evaluated in UTC.

Pure: no clock, no I/O; callers pass the moment. The local stack's event pump uses this to fire
`@app.schedule` handlers. It rejects what EventBridge rejects when a rule is created (such as
`rate(5 minute)` or a cron with both day fields set), so a bad expression fails on a laptop first.
It does not implement the `L`, `W` and `#` day modifiers and says so rather than guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta


class ScheduleExpressionError(ValueError):
    """An expression EventBridge would reject, or one using a feature this module does not implement."""


@dataclass(frozen=True)
class RateSchedule:
    expression: str
    interval: timedelta


@dataclass(frozen=True)
class CronSchedule:
    """A parsed `cron(minutes hours day-of-month month day-of-week year)`, every field expanded to a set."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    # Exactly one of the two day fields is None: EventBridge requires `?` in one of them.
    days_of_month: frozenset[int] | None
    months: frozenset[int]
    days_of_week: frozenset[int] | None  # EventBridge numbering: 1 = Sunday ... 7 = Saturday
    years: frozenset[int]

    def matches(self, moment: datetime) -> bool:
        """True when the minute holding `moment` (naive datetimes are taken as UTC) is a firing minute."""
        utc = _as_utc(moment)
        return utc.minute in self.minutes and utc.hour in self.hours and self._day_matches(utc.date())

    def next_fire_after(self, moment: datetime) -> datetime | None:
        """The first firing minute strictly after `moment`, in UTC; None once the year field is exhausted."""
        start = _as_utc(moment).replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.date()
        last_year = max(self.years)
        while day.year <= last_year:
            if day.year not in self.years:
                day = date(day.year + 1, 1, 1)
                continue
            if day.month not in self.months:
                day = _first_of_next_month(day)
                continue
            if self._day_matches(day):
                earliest = (start.hour, start.minute) if day == start.date() else (0, 0)
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        if (hour, minute) >= earliest:
                            return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
            day += timedelta(days=1)
        return None

    def _day_matches(self, day: date) -> bool:
        if day.year not in self.years or day.month not in self.months:
            return False
        if self.days_of_month is not None:
            return day.day in self.days_of_month
        assert self.days_of_week is not None
        return _eventbridge_day_of_week(day) in self.days_of_week


Schedule = RateSchedule | CronSchedule

_RATE = re.compile(r"^rate\((?P<value>\d+) (?P<unit>minutes?|hours?|days?)\)$")
_CRON = re.compile(r"^cron\((?P<fields>[^()]*)\)$")
_UNIT_LENGTHS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_MONTH_NAMES = {name: number for number, name in enumerate(_MONTHS, 1)}
_DAY_NAMES = {name: number for number, name in enumerate(_DAYS, 1)}


@dataclass(frozen=True)
class _FieldSpec:
    label: str
    low: int
    high: int
    names: dict[str, int]


_MINUTES = _FieldSpec("minutes", 0, 59, {})
_HOURS = _FieldSpec("hours", 0, 23, {})
_DAY_OF_MONTH = _FieldSpec("day-of-month", 1, 31, {})
_MONTH = _FieldSpec("month", 1, 12, _MONTH_NAMES)
_DAY_OF_WEEK = _FieldSpec("day-of-week", 1, 7, _DAY_NAMES)
_YEAR = _FieldSpec("year", 1970, 2199, {})


def parse_schedule_expression(expression: str) -> Schedule:
    """Parse `rate(N unit)` or a six-field `cron(...)`; raise ScheduleExpressionError for anything else."""
    text = expression.strip()
    if text.startswith("rate("):
        return _parse_rate(text)
    if text.startswith("cron("):
        return _parse_cron(text)
    raise ScheduleExpressionError(f"{expression!r} is neither rate(...) nor cron(...)")


def _parse_rate(text: str) -> RateSchedule:
    match = _RATE.match(text)
    if not match:
        raise ScheduleExpressionError(f"{text!r} is not rate(<positive integer> <minute|hour|day>[s])")
    value = int(match["value"])
    unit = match["unit"]
    if value < 1:
        raise ScheduleExpressionError(f"{text!r}: the rate must be a positive integer")
    # EventBridge's own rule: rate(1 hours) and rate(5 hour) are both rejected.
    if (value == 1) == unit.endswith("s"):
        wanted = unit.rstrip("s") if value == 1 else unit + "s"
        raise ScheduleExpressionError(f"{text!r}: write {value} {wanted}")
    return RateSchedule(expression=text, interval=value * _UNIT_LENGTHS[unit.rstrip("s")])


def _parse_cron(text: str) -> CronSchedule:
    match = _CRON.match(text)
    fields = match["fields"].split() if match else []
    if len(fields) != 6:
        raise ScheduleExpressionError(
            f"{text!r} is not cron(minutes hours day-of-month month day-of-week year): six fields"
        )
    minutes, hours, day_of_month, month, day_of_week, year = fields
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ScheduleExpressionError(f"{text!r}: exactly one of day-of-month and day-of-week must be '?'")
    return CronSchedule(
        expression=text,
        minutes=_parse_field(minutes, _MINUTES),
        hours=_parse_field(hours, _HOURS),
        days_of_month=None if day_of_month == "?" else _parse_field(day_of_month, _DAY_OF_MONTH),
        months=_parse_field(month, _MONTH),
        days_of_week=None if day_of_week == "?" else _parse_field(day_of_week, _DAY_OF_WEEK),
        years=_parse_field(year, _YEAR),
    )


def _parse_field(text: str, spec: _FieldSpec) -> frozenset[int]:
    """Expand one cron field: comma-separated `*`, `N`, `A-B`, each optionally followed by `/step`."""
    if "#" in text:
        raise ScheduleExpressionError(f"{spec.label} {text!r}: the '#' modifier is not supported locally")
    values: set[int] = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        step = _parse_number(step_text, spec, part) if slash else 1
        if step < 1:
            raise ScheduleExpressionError(f"{spec.label} {part!r}: the step must be positive")
        if base == "*":
            first, last = spec.low, spec.high
        elif "-" in base:
            first_text, _, last_text = base.partition("-")
            first, last = _parse_value(first_text, spec), _parse_value(last_text, spec)
            if first > last:
                raise ScheduleExpressionError(f"{spec.label} {part!r}: the range runs backwards")
        else:
            first = _parse_value(base, spec)
            # `10/15` means from 10 every 15 to the end of the field; a bare `10` means just 10.
            last = spec.high if slash else first
        values.update(range(first, last + 1, step))
    return frozenset(values)


def _parse_value(text: str, spec: _FieldSpec) -> int:
    upper = text.upper()
    if upper in spec.names:
        return spec.names[upper]
    if upper in {"L", "W", "LW"} or (upper[:-1].isdigit() and upper[-1:] in {"L", "W"}):
        raise ScheduleExpressionError(
            f"{spec.label} {text!r}: the L and W modifiers are not supported locally"
        )
    value = _parse_number(text, spec, text)
    if not spec.low <= value <= spec.high:
        raise ScheduleExpressionError(f"{spec.label} {text!r}: outside {spec.low}-{spec.high}")
    return value


def _parse_number(text: str, spec: _FieldSpec, part: str) -> int:
    if not text.isdigit():
        raise ScheduleExpressionError(f"{spec.label} {part!r}: {text!r} is not a number")
    return int(text)


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _eventbridge_day_of_week(day: date) -> int:
    # Python counts Monday = 0 ... Sunday = 6; EventBridge counts Sunday = 1 ... Saturday = 7.
    return (day.weekday() + 1) % 7 + 1


def _first_of_next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
