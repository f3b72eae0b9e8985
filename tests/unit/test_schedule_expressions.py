"""EventBridge schedule expressions as the local event pump reads them: what fires when, what is refused."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from chalice.app import Cron, Rate

from infra.local.schedule_expressions import (
    CronSchedule,
    RateSchedule,
    ScheduleExpressionError,
    parse_schedule_expression,
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def cron(expression: str) -> CronSchedule:
    schedule = parse_schedule_expression(expression)
    assert isinstance(schedule, CronSchedule)
    return schedule


@pytest.mark.parametrize(
    ("expression", "interval"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(5 minutes)", timedelta(minutes=5)),
        ("rate(1 hour)", timedelta(hours=1)),
        ("rate(12 hours)", timedelta(hours=12)),
        ("rate(1 day)", timedelta(days=1)),
        ("rate(7 days)", timedelta(days=7)),
    ],
)
def test_rate_expressions_give_their_interval(expression, interval):
    assert parse_schedule_expression(expression) == RateSchedule(expression=expression, interval=interval)


def test_chalice_rate_and_cron_objects_render_to_accepted_expressions():
    assert parse_schedule_expression(Rate(1, unit=Rate.MINUTES).to_string()).interval == timedelta(minutes=1)
    assert parse_schedule_expression(Rate(3, unit=Rate.HOURS).to_string()).interval == timedelta(hours=3)
    assert cron(Cron("0/15", "*", "?", "*", "MON-FRI", "*").to_string()).minutes == {0, 15, 30, 45}


@pytest.mark.parametrize(
    "expression",
    [
        "rate(0 minutes)",
        "rate(1 minutes)",  # EventBridge wants the singular for 1...
        "rate(5 minute)",  # ...and the plural for more
        "rate(5 seconds)",
        "rate(-5 minutes)",
        "rate(1.5 hours)",
        "rate(5minutes)",
        "every 5 minutes",
        "",
        "cron(0 12 * * ?)",  # five fields, as Unix cron has
        "cron(0 12 * * * *)",  # both day fields set
        "cron(0 12 ? * ? *)",  # neither day field set
        "cron(60 * * * ? *)",
        "cron(0 24 * * ? *)",
        "cron(0 0 0 * ? *)",
        "cron(0 0 ? 13 * *)",
        "cron(0 0 ? * 8 *)",
        "cron(0 0 * * ? 1969)",
        "cron(30-10 * * * ? *)",
        "cron(*/0 * * * ? *)",
        "cron(0 0 ? FOO * *)",
        "cron(0 0 ? * MON-FOO *)",
        "cron(a b c d e f)",
    ],
)
def test_expressions_eventbridge_rejects_are_rejected(expression):
    with pytest.raises(ScheduleExpressionError):
        parse_schedule_expression(expression)


@pytest.mark.parametrize(
    "expression",
    ["cron(0 0 L * ? *)", "cron(0 0 15W * ? *)", "cron(0 0 ? * 6L *)", "cron(0 0 ? * 3#2 *)"],
)
def test_day_modifiers_are_refused_as_unsupported_rather_than_misread(expression):
    with pytest.raises(ScheduleExpressionError, match="not supported"):
        parse_schedule_expression(expression)


def test_cron_fields_expand_steps_ranges_lists_and_names():
    schedule = cron("cron(5/20 8-10,22 ? JAN,JUN-AUG MON-WED,fri 2026-2027)")
    assert schedule.minutes == {5, 25, 45}
    assert schedule.hours == {8, 9, 10, 22}
    assert schedule.days_of_month is None
    assert schedule.months == {1, 6, 7, 8}
    assert schedule.days_of_week == {2, 3, 4, 6}  # Sunday is 1
    assert schedule.years == {2026, 2027}


def test_every_five_minutes_on_weekdays_matches_only_weekday_multiples_of_five():
    schedule = cron("cron(0/5 * ? * MON-FRI *)")
    assert schedule.matches(at("2026-03-02T09:05:00"))  # a Monday
    assert schedule.matches(at("2026-03-06T23:55:59"))  # a Friday, any second of the minute
    assert not schedule.matches(at("2026-03-02T09:06:00"))
    assert not schedule.matches(at("2026-03-07T09:05:00"))  # a Saturday
    assert not schedule.matches(at("2026-03-08T09:05:00"))  # a Sunday


def test_day_of_month_and_month_restrict_the_date():
    schedule = cron("cron(30 6 1,15 MAR ? *)")
    assert schedule.matches(at("2026-03-15T06:30:00"))
    assert not schedule.matches(at("2026-03-16T06:30:00"))
    assert not schedule.matches(at("2026-04-15T06:30:00"))


def test_matching_is_in_utc_whatever_the_timezone_of_the_moment():
    schedule = cron("cron(0 12 * * ? *)")
    noon_utc_seen_from_new_york = datetime(2026, 1, 5, 7, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert schedule.matches(noon_utc_seen_from_new_york)
    assert schedule.matches(datetime(2026, 1, 5, 12, 0))  # naive means UTC


def test_next_fire_is_the_next_matching_minute_strictly_after():
    schedule = cron("cron(0/15 * * * ? *)")
    assert schedule.next_fire_after(at("2026-05-01T10:07:30")) == at("2026-05-01T10:15:00")
    assert schedule.next_fire_after(at("2026-05-01T10:15:00")) == at("2026-05-01T10:30:00")
    assert schedule.next_fire_after(at("2026-05-01T23:59:00")) == at("2026-05-02T00:00:00")


def test_next_fire_crosses_days_months_and_years():
    first_monday_style = cron("cron(0 9 ? * MON *)")
    assert first_monday_style.next_fire_after(at("2026-03-06T12:00:00")) == at("2026-03-09T09:00:00")
    new_year = cron("cron(0 0 1 JAN ? *)")
    assert new_year.next_fire_after(at("2026-01-01T00:00:00")) == at("2027-01-01T00:00:00")
    leap_day = cron("cron(0 0 29 2 ? *)")
    assert leap_day.next_fire_after(at("2026-03-01T00:00:00")) == at("2028-02-29T00:00:00")


def test_a_cron_whose_years_are_past_never_fires_again():
    assert cron("cron(0 0 * * ? 2020)").next_fire_after(at("2026-01-01T00:00:00")) is None
