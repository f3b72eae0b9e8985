"""Maintenance windows: validation, RRULE expansion across DST, state, `end`, the predicate and overlap."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.errors import Conflict, InvalidInput
from chalicelib.domain.maintenance import (
    EndedEarly,
    MaintenanceWindow,
    Occurrence,
    WindowState,
    end_now,
    in_maintenance,
    maintenance_seconds,
    new_window,
    occurrences,
    window_status,
    windows_in_effect,
)

MINUTE, HOUR, DAY = 60, 3600, 86_400
NOW = 1_798_761_600  # 2027-01-01T00:00:00Z


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def local_starts(window: MaintenanceWindow, start: str, end: str) -> list[str]:
    """Occurrence starts as wall-clock times in the window's zone, with their UTC offsets."""
    tz = ZoneInfo(window.timezone)
    return [
        datetime.fromtimestamp(o.starts_at, tz).strftime("%m-%d %H:%M %z")
        for o in occurrences(window, at(start), at(end))
    ]


def weekly(zone: str, first: str, **extra) -> MaintenanceWindow:
    return new_window(
        now=NOW,
        starts_at=at(first),
        duration_minutes=120,
        recurrence="FREQ=WEEKLY;BYDAY=SU",
        timezone=zone,
        **extra,
    )


def invalid_field(**fields) -> str | None:
    with pytest.raises(InvalidInput) as error:
        new_window(now=NOW, **fields)
    return error.value.field


# Validation


def test_a_one_off_window_without_starts_at_starts_now():
    window = new_window(now=NOW, duration_minutes=30)
    assert (window.starts_at, window.ends_at) == (NOW, NOW + 30 * MINUTE)


def test_a_one_off_window_from_starts_at_to_ends_at():
    window = new_window(now=NOW, starts_at=NOW + HOUR, ends_at=NOW + 3 * HOUR)
    assert window.duration_seconds == 2 * HOUR


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"starts_at": NOW + HOUR, "ends_at": NOW + HOUR}, "ends_at"),  # not after starts_at
        ({"starts_at": NOW + HOUR, "ends_at": NOW}, "ends_at"),
        ({"starts_at": NOW, "ends_at": NOW + 30}, "ends_at"),  # under a minute
        ({"starts_at": NOW, "ends_at": NOW + 31 * DAY + 1}, "ends_at"),
        ({}, "ends_at"),  # neither ends_at nor duration_minutes
        ({"ends_at": NOW + HOUR, "duration_minutes": 60}, "ends_at"),  # both
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 44_641}, "duration_minutes"),
        ({"duration_minutes": True}, "duration_minutes"),
        ({"starts_at": NOW - 2 * HOUR, "duration_minutes": 60}, "ends_at"),  # over already
        ({"duration_minutes": 60, "timezone": "Europe/Atlantis"}, "timezone"),
        ({"duration_minutes": 60, "service_ids": [""]}, "service_ids"),
        ({"duration_minutes": 60, "service_ids": [f"svc_{n}" for n in range(101)]}, "service_ids"),
        # recurring: an occurrence is at most a week
        ({"duration_minutes": 7 * 24 * 60 + 1, "recurrence": "FREQ=MONTHLY"}, "duration_minutes"),
    ],
)
def test_bad_windows_name_the_field(fields, field):
    assert invalid_field(**fields) == field


def test_duration_bounds_are_inclusive():
    assert new_window(now=NOW, duration_minutes=1).duration_seconds == MINUTE
    assert new_window(now=NOW, duration_minutes=44_640).duration_seconds == 31 * DAY
    assert new_window(now=NOW, duration_minutes=10_080, recurrence="FREQ=MONTHLY").duration_seconds == 7 * DAY


@pytest.mark.parametrize(
    "recurrence",
    [
        "garbage",
        "",
        "FREQ=HOURLY",  # sub-daily: the time of day comes from starts_at
        "FREQ=MINUTELY",
        "FREQ=WEEKLY;BYHOUR=3",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=WEEKLY;FREQ=DAILY",
        "BYDAY=SU",  # no FREQ
        "FREQ=WEEKLY;INTERVAL=0",
        "FREQ=WEEKLY;UNTIL=20270601",  # UNTIL must be UTC when the window has a zone
        "FREQ=WEEKLY;UNTIL=20261201T000000Z",  # ends before it starts
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",  # 30 February never comes
        "FREQ=MONTHLY;INTERVAL=12;BYMONTH=5",  # January, January, ...: never May
        "DTSTART:20270101T000000Z\nRRULE:FREQ=DAILY",
    ],
)
def test_a_bad_recurrence_names_recurrence(recurrence):
    assert (
        invalid_field(duration_minutes=60, recurrence=recurrence, timezone="America/New_York") == "recurrence"
    )


def test_an_impossible_daily_rule_is_refused_quickly_rather_than_searched_to_the_year_9999():
    import time

    started = time.perf_counter()
    assert invalid_field(duration_minutes=60, recurrence="FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30") == "recurrence"
    assert time.perf_counter() - started < 3  # dateutil alone takes over 10 s here


def test_a_recurrence_may_carry_the_rrule_prefix_and_lower_case():
    window = new_window(now=NOW, duration_minutes=60, recurrence="rrule:freq=weekly;byday=su")
    assert window.recurrence == "FREQ=WEEKLY;BYDAY=SU"


# Recurring windows keep their local wall-clock time across both 2027 changes


def test_new_york_weekly_window_keeps_04_00_local_across_the_spring_change():
    window = weekly("America/New_York", "2027-01-03T04:00:00-05:00")
    assert local_starts(window, "2027-03-06T00:00:00Z", "2027-03-22T00:00:00Z") == [
        "03-07 04:00 -0500",
        "03-14 04:00 -0400",  # the day clocks jump: still 04:00 on the wall
        "03-21 04:00 -0400",
    ]


def test_new_york_weekly_window_keeps_04_00_local_across_the_autumn_change():
    window = weekly("America/New_York", "2027-01-03T04:00:00-05:00")
    assert local_starts(window, "2027-10-30T00:00:00Z", "2027-11-15T00:00:00Z") == [
        "10-31 04:00 -0400",
        "11-07 04:00 -0500",
        "11-14 04:00 -0500",
    ]
    # and in UTC it moved by the hour the clocks did
    starts = [
        o.starts_at for o in occurrences(window, at("2027-10-30T00:00:00Z"), at("2027-11-08T00:00:00Z"))
    ]
    assert starts == [at("2027-10-31T08:00:00Z"), at("2027-11-07T09:00:00Z")]


def test_berlin_weekly_window_keeps_04_00_local_across_both_changes():
    window = weekly("Europe/Berlin", "2027-01-03T04:00:00+01:00")
    assert local_starts(window, "2027-03-20T00:00:00Z", "2027-04-01T00:00:00Z") == [
        "03-21 04:00 +0100",
        "03-28 04:00 +0200",
    ]
    assert local_starts(window, "2027-10-23T00:00:00Z", "2027-11-01T00:00:00Z") == [
        "10-24 04:00 +0200",
        "10-31 04:00 +0100",
    ]


def test_an_occurrence_lasts_its_duration_in_elapsed_time_across_a_change():
    # 01:00 on the autumn Sunday, two hours: the clocks go 01:00 EDT .. 01:59 .. 01:00 EST .. 02:00 EST
    window = new_window(
        now=NOW,
        starts_at=at("2027-01-03T01:00:00-05:00"),
        duration_minutes=120,
        recurrence="FREQ=WEEKLY;BYDAY=SU",
        timezone="America/New_York",
    )
    [occurrence] = occurrences(window, at("2027-11-07T00:00:00Z"), at("2027-11-08T00:00:00Z"))
    assert occurrence == Occurrence(at("2027-11-07T01:00:00-04:00"), at("2027-11-07T02:00:00-05:00"))


def test_a_start_in_the_skipped_spring_hour_is_read_with_the_offset_before_the_gap():
    # RFC 5545 3.3.5: 02:30 on 2027-03-14 does not exist in New York; it means 03:30 EDT
    window = new_window(
        now=NOW,
        starts_at=at("2027-01-03T02:30:00-05:00"),
        duration_minutes=60,
        recurrence="FREQ=WEEKLY;BYDAY=SU",
        timezone="America/New_York",
    )
    [occurrence] = occurrences(window, at("2027-03-14T00:00:00Z"), at("2027-03-15T00:00:00Z"))
    assert occurrence.starts_at == at("2027-03-14T03:30:00-04:00")


def test_a_start_in_the_repeated_autumn_hour_is_the_first_of_the_two():
    window = new_window(
        now=NOW,
        starts_at=at("2027-01-03T01:30:00-05:00"),
        duration_minutes=20,
        recurrence="FREQ=WEEKLY;BYDAY=SU",
        timezone="America/New_York",
    )
    assert [
        o.starts_at for o in occurrences(window, at("2027-11-07T00:00:00Z"), at("2027-11-08T00:00:00Z"))
    ] == [at("2027-11-07T01:30:00-04:00")]


def test_count_and_until_end_a_recurrence():
    window = new_window(now=NOW, starts_at=NOW, duration_minutes=60, recurrence="FREQ=DAILY;COUNT=3")
    assert len(occurrences(window, NOW, NOW + 30 * DAY)) == 3
    window = new_window(
        now=NOW, starts_at=NOW, duration_minutes=60, recurrence="FREQ=DAILY;UNTIL=20270103T000000Z"
    )
    assert [o.starts_at for o in occurrences(window, NOW, NOW + 30 * DAY)] == [NOW, NOW + DAY, NOW + 2 * DAY]


def test_last_sunday_of_the_month():
    window = new_window(
        now=NOW,
        starts_at=at("2027-01-31T22:00:00+00:00"),
        duration_minutes=60,
        recurrence="FREQ=MONTHLY;BYDAY=-1SU",
    )
    assert [o.starts_at for o in occurrences(window, NOW, at("2027-04-01T00:00:00Z"))] == [
        at("2027-01-31T22:00:00Z"),
        at("2027-02-28T22:00:00Z"),
        at("2027-03-28T22:00:00Z"),
    ]


def test_an_occurrence_overlapping_the_range_start_is_included():
    window = new_window(now=NOW, starts_at=NOW, duration_minutes=120, recurrence="FREQ=DAILY")
    assert occurrences(window, NOW + DAY + HOUR, NOW + DAY + HOUR + 1) == [
        Occurrence(NOW + DAY, NOW + DAY + 2 * HOUR)
    ]


# State


def test_a_window_is_scheduled_then_active_then_ended():
    window = new_window(now=NOW, starts_at=NOW + HOUR, duration_minutes=30)
    assert window_status(window, NOW).state is WindowState.SCHEDULED
    assert window_status(window, NOW).next_starts_at == NOW + HOUR
    assert window_status(window, NOW + HOUR).state is WindowState.ACTIVE  # start inclusive
    assert window_status(window, NOW + HOUR + 30 * MINUTE - 1).state is WindowState.ACTIVE
    ended = window_status(window, NOW + HOUR + 30 * MINUTE)  # end exclusive
    assert (ended.state, ended.next_starts_at, ended.next_ends_at) == (WindowState.ENDED, None, None)


def test_an_active_window_shows_the_current_occurrence_and_a_recurring_one_is_never_ended():
    window = new_window(now=NOW, starts_at=NOW, duration_minutes=60, recurrence="FREQ=DAILY")
    status = window_status(window, NOW + 10 * MINUTE)
    assert (status.state, status.next_starts_at, status.next_ends_at) == (WindowState.ACTIVE, NOW, NOW + HOUR)
    between = window_status(window, NOW + 2 * HOUR)
    assert (between.state, between.next_starts_at) == (WindowState.SCHEDULED, NOW + DAY)


# `end`: ends the current occurrence now, only that one


def test_ending_a_one_off_window_ends_it():
    window = new_window(now=NOW, duration_minutes=120)
    ended = end_now(window, NOW + 10 * MINUTE)
    assert ended.ended_early == (EndedEarly(occurrence_starts_at=NOW, ended_at=NOW + 10 * MINUTE),)
    assert window_status(ended, NOW + 10 * MINUTE).state is WindowState.ENDED
    assert in_maintenance("svc", [ended], NOW + 10 * MINUTE - 1)
    assert not in_maintenance("svc", [ended], NOW + 10 * MINUTE)


def test_ending_a_recurring_window_leaves_the_next_occurrences():
    window = new_window(now=NOW, starts_at=NOW, duration_minutes=120, recurrence="FREQ=DAILY")
    ended = end_now(window, NOW + HOUR)
    assert window_status(ended, NOW + HOUR).state is WindowState.SCHEDULED
    assert in_maintenance("svc", [ended], NOW + DAY + HOUR)
    assert occurrences(ended, NOW, NOW + 2 * DAY) == [
        Occurrence(NOW, NOW + HOUR),
        Occurrence(NOW + DAY, NOW + DAY + 2 * HOUR),
    ]


def test_ending_a_window_that_is_not_active_is_a_conflict():
    window = new_window(now=NOW, starts_at=NOW + HOUR, duration_minutes=30)
    with pytest.raises(Conflict):
        end_now(window, NOW)


# THE question


def test_a_window_without_service_ids_covers_every_service_of_the_org():
    window = new_window(now=NOW, duration_minutes=60)
    assert in_maintenance("svc_a", [window], NOW)
    assert in_maintenance("svc_b", [window], NOW)


def test_a_window_with_service_ids_covers_only_those():
    window = new_window(now=NOW, duration_minutes=60, service_ids=["svc_a"])
    assert in_maintenance("svc_a", [window], NOW)
    assert not in_maintenance("svc_b", [window], NOW)


def test_boundary_instants_start_inclusive_end_exclusive():
    window = new_window(now=NOW, starts_at=NOW + HOUR, duration_minutes=60)
    assert not in_maintenance("svc", [window], NOW + HOUR - 1)
    assert in_maintenance("svc", [window], NOW + HOUR)
    assert in_maintenance("svc", [window], NOW + 2 * HOUR - 1)
    assert not in_maintenance("svc", [window], NOW + 2 * HOUR)


def test_no_windows_no_maintenance():
    assert not in_maintenance("svc", [], NOW)


def test_the_windows_in_effect_are_the_ones_to_count_suppressed_alerts_on():
    a = new_window(now=NOW, duration_minutes=60, service_ids=["svc"], window_id="mw_a")
    b = new_window(now=NOW, starts_at=NOW + DAY, duration_minutes=60, window_id="mw_b")
    c = new_window(now=NOW, duration_minutes=60, window_id="mw_c")
    assert [w.window_id for w in windows_in_effect("svc", [a, b, c], NOW)] == ["mw_a", "mw_c"]


def test_a_recurring_window_applies_during_each_occurrence_in_new_york_after_the_spring_change():
    window = weekly("America/New_York", "2027-01-03T04:00:00-05:00")
    assert in_maintenance("svc", [window], at("2027-03-14T04:00:00-04:00"))
    assert not in_maintenance("svc", [window], at("2027-03-14T03:59:59-04:00"))
    assert not in_maintenance("svc", [window], at("2027-03-14T06:00:00-04:00"))


def test_the_answer_does_not_depend_on_the_order_questions_are_asked_in():
    window = new_window(now=NOW, starts_at=NOW, duration_minutes=60, recurrence="FREQ=DAILY")
    late, early = NOW + 400 * DAY + 10 * MINUTE, NOW + 10 * MINUTE
    assert in_maintenance("svc", [window], late)
    assert in_maintenance("svc", [window], early)
    assert not in_maintenance("svc", [window], early + HOUR)


# Overlap with a time range (metrics)


def test_maintenance_seconds_within_an_hour_bucket():
    window = new_window(now=NOW, starts_at=NOW + 45 * MINUTE, duration_minutes=60)
    assert maintenance_seconds("svc", [window], NOW, NOW + HOUR) == 15 * MINUTE
    assert maintenance_seconds("svc", [window], NOW + HOUR, NOW + 2 * HOUR) == 45 * MINUTE
    assert maintenance_seconds("svc", [window], NOW + 2 * HOUR, NOW + 3 * HOUR) == 0


def test_overlapping_windows_count_once_and_other_services_windows_not_at_all():
    a = new_window(now=NOW, starts_at=NOW, duration_minutes=60)
    b = new_window(now=NOW, starts_at=NOW + 30 * MINUTE, duration_minutes=60)
    elsewhere = new_window(now=NOW, starts_at=NOW + 5 * HOUR, duration_minutes=60, service_ids=["other"])
    assert maintenance_seconds("svc", [a, b, elsewhere], NOW, NOW + DAY) == 90 * MINUTE


def test_maintenance_seconds_of_a_daily_window_over_a_day_bucket_and_a_week():
    window = new_window(now=NOW, starts_at=NOW + 2 * HOUR, duration_minutes=30, recurrence="FREQ=DAILY")
    assert maintenance_seconds("svc", [window], NOW, NOW + DAY) == 30 * MINUTE
    assert maintenance_seconds("svc", [window], NOW, NOW + 7 * DAY) == 7 * 30 * MINUTE


def test_an_ended_early_occurrence_counts_only_until_it_was_ended():
    window = end_now(new_window(now=NOW, duration_minutes=60), NOW + 20 * MINUTE)
    assert maintenance_seconds("svc", [window], NOW, NOW + HOUR) == 20 * MINUTE


def test_the_new_york_spring_day_counts_the_window_once():
    window = weekly("America/New_York", "2027-01-03T04:00:00-05:00")
    assert maintenance_seconds(
        "svc", [window], at("2027-03-14T00:00:00-05:00"), at("2027-03-15T00:00:00-04:00")
    ) == (2 * HOUR)
