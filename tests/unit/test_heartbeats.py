"""Heartbeat monitors: schedules, due times and deadlines (DST included), ping paths and run durations."""

from datetime import datetime
from itertools import pairwise

import pytest

from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.domain.heartbeats import (
    MAX_OPEN_RUNS,
    MAX_PING_BODY_BYTES,
    HeartbeatSchedule,
    Ping,
    PingKind,
    Runs,
    check_heartbeat_schedule,
    check_run_id,
    deadline,
    is_overdue,
    kept_ping_body,
    next_due,
    parse_ping_suffix,
)
from chalicelib.domain.monitoring import CheckOutcome

HOUR = 3600
DAY = 86_400


def at(text: str) -> int:
    """Epoch seconds of an ISO instant with its offset: `2027-03-14T03:00-04:00`."""
    return int(datetime.fromisoformat(text).timestamp())


def invalid_field(schedule: HeartbeatSchedule) -> str | None:
    with pytest.raises(InvalidInput) as error:
        check_heartbeat_schedule(schedule)
    return error.value.field


# Validation


def test_a_period_schedule_with_defaults_is_valid():
    schedule = check_heartbeat_schedule(HeartbeatSchedule(period_seconds=3600))
    assert schedule.grace_seconds == 300
    assert schedule.timezone == "UTC"


@pytest.mark.parametrize("period", [60, 2_678_400])
def test_period_bounds_are_inclusive(period):
    assert check_heartbeat_schedule(HeartbeatSchedule(period_seconds=period)).period_seconds == period


@pytest.mark.parametrize("period", [59, 2_678_401, 0, -60, True])
def test_a_period_out_of_range_names_period_seconds(period):
    assert invalid_field(HeartbeatSchedule(period_seconds=period)) == "period_seconds"


@pytest.mark.parametrize("grace", [59, 86_401, 0])
def test_a_grace_out_of_range_names_grace_seconds(grace):
    assert invalid_field(HeartbeatSchedule(period_seconds=3600, grace_seconds=grace)) == "grace_seconds"


def test_period_and_cron_together_or_neither_are_refused():
    assert invalid_field(HeartbeatSchedule(period_seconds=3600, cron="0 * * * *")) == "period_seconds"
    assert invalid_field(HeartbeatSchedule()) == "period_seconds"


@pytest.mark.parametrize(
    "cron",
    [
        "* * *",  # too few fields
        "0 0 * * * *",  # six fields: seconds are not standard cron
        "@daily",
        "61 * * * *",
        "0 24 * * *",
        "0 0 0 * *",
        "0 0 * 13 *",
        "0 0 * * 8",
        "0 0 30 2 *",  # February never has a 30th
        "*/0 * * * *",
        "5-1 * * * *",
        "x" * 300,
    ],
)
def test_a_bad_cron_names_cron(cron):
    assert invalid_field(HeartbeatSchedule(cron=cron)) == "cron"


def test_a_bad_cron_says_which_part_is_wrong():
    with pytest.raises(InvalidInput, match="cron: bad minute"):
        check_heartbeat_schedule(HeartbeatSchedule(cron="61 * * * *"))


@pytest.mark.parametrize("name", ["Mars/Olympus", "localtime", "posixrules", "../etc/passwd", "", "utc+2"])
def test_a_time_zone_that_is_not_iana_names_timezone(name):
    assert invalid_field(HeartbeatSchedule(cron="0 * * * *", timezone=name)) == "timezone"


def test_cron_fields_are_normalized_to_single_spaces():
    schedule = check_heartbeat_schedule(HeartbeatSchedule(cron="  30  2 * *   MON-FRI "))
    assert schedule.cron == "30 2 * * MON-FRI"


# Due times


def test_a_period_is_due_one_period_after_the_last_success():
    schedule = HeartbeatSchedule(period_seconds=3600)
    assert next_due(schedule, at("2027-01-05T10:17:00+00:00")) == at("2027-01-05T11:17:00+00:00")


def test_a_cron_is_due_at_its_next_fire_time_in_its_time_zone():
    schedule = HeartbeatSchedule(cron="0 9 * * MON-FRI", timezone="Europe/Berlin")
    friday_evening = at("2027-01-08T18:00:00+01:00")
    assert next_due(schedule, friday_evening) == at("2027-01-11T09:00:00+01:00")  # Monday, 08:00 UTC


def test_a_cron_success_exactly_at_a_fire_time_is_due_at_the_following_one():
    schedule = HeartbeatSchedule(cron="*/15 * * * *")
    assert next_due(schedule, at("2027-01-05T10:15:00+00:00")) == at("2027-01-05T10:30:00+00:00")


@pytest.mark.parametrize(
    ("cron", "after", "due"),
    [
        ("0 0 * * 7", "2027-01-06T12:00:00+00:00", "2027-01-10T00:00:00+00:00"),  # 7 is Sunday too
        ("0 0 1 JAN,JUL *", "2027-01-02T00:00:00+00:00", "2027-07-01T00:00:00+00:00"),
        ("0 12 */10 * *", "2027-01-02T00:00:00+00:00", "2027-01-11T12:00:00+00:00"),
        ("15,45 8-9 * * *", "2027-01-02T08:50:00+00:00", "2027-01-02T09:15:00+00:00"),
    ],
)
def test_cron_ranges_steps_lists_and_names(cron, after, due):
    assert next_due(HeartbeatSchedule(cron=cron), at(after)) == at(due)


def test_day_of_month_and_day_of_week_both_restricted_match_either_as_vixie_cron():
    # "on the 13th, and on every Friday": Tuesday 2027-04-13 and Friday 2027-04-09 both fire
    schedule = HeartbeatSchedule(cron="0 0 13 * FRI")
    assert next_due(schedule, at("2027-04-06T00:00:00+00:00")) == at("2027-04-09T00:00:00+00:00")
    assert next_due(schedule, at("2027-04-09T00:00:00+00:00")) == at("2027-04-13T00:00:00+00:00")


class TestCronAcrossDaylightSavingChanges:
    """New York: clocks jump 02:00 -> 03:00 on 2027-03-14 and fall 02:00 -> 01:00 on 2027-11-07."""

    def test_a_job_in_the_skipped_spring_hour_is_due_right_after_the_jump(self):
        schedule = HeartbeatSchedule(cron="30 2 * * *", timezone="America/New_York")
        due = next_due(schedule, at("2027-03-13T02:30:00-05:00"))
        assert due == at("2027-03-14T03:00:00-04:00")  # Debian cron runs it immediately, not skipped
        assert next_due(schedule, due) == at("2027-03-15T02:30:00-04:00")

    def test_a_job_in_the_repeated_autumn_hour_is_due_once_at_the_first_pass(self):
        schedule = HeartbeatSchedule(cron="30 1 * * *", timezone="America/New_York")
        due = next_due(schedule, at("2027-11-06T01:30:00-04:00"))
        assert due == at("2027-11-07T01:30:00-04:00")  # daylight time, the first 01:30
        assert next_due(schedule, due) == at("2027-11-08T01:30:00-05:00")  # not again an hour later

    def test_a_success_during_the_second_pass_of_the_hour_is_not_due_in_the_past(self):
        schedule = HeartbeatSchedule(cron="30 1 * * *", timezone="America/New_York")
        second_pass = at("2027-11-07T01:10:00-05:00")  # after the first 01:30 already went by
        assert next_due(schedule, second_pass) == at("2027-11-08T01:30:00-05:00")

    def test_a_frequent_job_keeps_firing_by_the_clock_through_the_repeated_hour(self):
        schedule = HeartbeatSchedule(cron="*/30 * * * *", timezone="America/New_York")
        fires, t = [], at("2027-11-07T00:50:00-04:00")
        for _ in range(5):
            t = next_due(schedule, t)
            fires.append(t)
        assert [b - a for a, b in pairwise(fires)] == [1800] * 4
        assert fires[0] == at("2027-11-07T01:00:00-04:00")

    def test_berlin_keeps_nine_o_clock_local_across_both_changes(self):
        schedule = HeartbeatSchedule(cron="0 9 * * SUN", timezone="Europe/Berlin")
        assert next_due(schedule, at("2027-03-22T00:00:00+01:00")) == at("2027-03-28T09:00:00+02:00")
        assert next_due(schedule, at("2027-10-25T00:00:00+02:00")) == at("2027-10-31T09:00:00+01:00")


# Deadlines


def test_a_heartbeat_without_a_success_yet_has_no_deadline():
    assert deadline(HeartbeatSchedule(period_seconds=3600), last_success_at=None) is None
    assert not is_overdue(None, now=at("2030-01-01T00:00:00+00:00"))


def test_the_deadline_is_the_due_time_plus_grace():
    schedule = HeartbeatSchedule(period_seconds=3600, grace_seconds=300)
    last = at("2027-01-05T10:00:00+00:00")
    assert deadline(schedule, last_success_at=last) == last + 3600 + 300


def test_a_cron_deadline_is_its_next_fire_plus_grace():
    schedule = HeartbeatSchedule(cron="0 3 * * *", timezone="America/New_York", grace_seconds=1800)
    assert deadline(schedule, last_success_at=at("2027-01-05T03:02:00-05:00")) == at(
        "2027-01-06T03:30:00-05:00"
    )


def test_a_ping_exactly_at_the_deadline_is_in_time_and_a_second_later_is_late():
    schedule = HeartbeatSchedule(period_seconds=60, grace_seconds=60)
    due_by = deadline(schedule, last_success_at=1_000_000)
    assert not is_overdue(due_by, now=1_000_120)
    assert is_overdue(due_by, now=1_000_121)


def test_a_started_run_must_finish_within_grace_even_when_the_period_is_long():
    schedule = HeartbeatSchedule(period_seconds=DAY, grace_seconds=600)
    last = at("2027-01-05T00:00:00+00:00")
    started = last + 2 * HOUR
    assert deadline(schedule, last_success_at=last, running_since=started) == started + 600
    assert deadline(schedule, last_success_at=last, running_since=None) == last + DAY + 600


# Ping paths


@pytest.mark.parametrize(
    ("suffix", "ping", "outcome"),
    [
        ("", Ping(PingKind.SUCCESS), CheckOutcome.UP),
        ("start", Ping(PingKind.START), None),
        ("fail", Ping(PingKind.FAIL), CheckOutcome.DOWN),
        ("log", Ping(PingKind.LOG), None),
        ("0", Ping(PingKind.SUCCESS, exit_status=0), CheckOutcome.UP),
        ("1", Ping(PingKind.FAIL, exit_status=1), CheckOutcome.DOWN),
        ("255", Ping(PingKind.FAIL, exit_status=255), CheckOutcome.DOWN),
        ("007", Ping(PingKind.FAIL, exit_status=7), CheckOutcome.DOWN),
    ],
)
def test_each_ping_path_suffix(suffix, ping, outcome):
    assert parse_ping_suffix(suffix) == ping
    assert ping.outcome is outcome


@pytest.mark.parametrize("suffix", ["256", "1000", "9" * 5000])
def test_an_exit_status_above_255_is_a_bad_request_naming_it(suffix):
    with pytest.raises(InvalidInput) as error:
        parse_ping_suffix(suffix)
    assert error.value.field == "exit_status"
    assert error.value.status_code == 400


@pytest.mark.parametrize("suffix", ["-1", "START", "success", "\uff11", "1.0", "fail/x"])
def test_any_other_suffix_is_not_found(suffix):
    with pytest.raises(NotFound):
        parse_ping_suffix(suffix)


def test_only_success_and_fail_finish_a_run():
    assert [kind for kind in PingKind if Ping(kind).finishes_run] == [PingKind.SUCCESS, PingKind.FAIL]


def test_a_run_id_is_a_short_token_and_empty_means_none():
    assert check_run_id("0b2f6c4e-1b3a-4c5d-9e8f-123456789abc") == "0b2f6c4e-1b3a-4c5d-9e8f-123456789abc"
    assert check_run_id("") is None
    assert check_run_id(None) is None
    for bad in ("a" * 65, "has space", "semi;colon", "ünï"):
        with pytest.raises(InvalidInput) as error:
            check_run_id(bad)
        assert error.value.field == "rid"


def test_a_ping_body_is_kept_up_to_10_kb():
    assert kept_ping_body(b"backup done\n") == "backup done\n"
    assert len(kept_ping_body(b"x" * 50_000)) == MAX_PING_BODY_BYTES
    assert kept_ping_body(b"\xff ok") == "\ufffd ok"


# Run durations


def test_a_finish_measures_the_run_from_the_last_start():
    runs = Runs().after_start(1_000_000, rid=None)
    duration, runs = runs.after_finish(1_042_500, rid=None)
    assert duration == 42_500
    assert runs.open == ()


def test_a_finish_without_a_start_has_no_duration():
    duration, _ = Runs().after_finish(1_000_000, rid=None)
    assert duration is None


def test_a_second_finish_does_not_reuse_the_start():
    runs = Runs().after_start(1_000, rid=None)
    _, runs = runs.after_finish(2_000, rid=None)
    duration, _ = runs.after_finish(3_000, rid=None)
    assert duration is None


def test_a_restart_without_a_finish_measures_from_the_newer_start():
    runs = Runs().after_start(1_000, rid=None).after_start(5_000, rid=None)
    duration, _ = runs.after_finish(6_000, rid=None)
    assert duration == 1_000


def test_concurrent_runs_pair_by_run_id():
    runs = Runs().after_start(1_000, rid="a").after_start(2_000, rid="b")
    duration_b, runs = runs.after_finish(10_000, rid="b")
    duration_a, runs = runs.after_finish(11_000, rid="a")
    assert (duration_a, duration_b) == (10_000, 8_000)


def test_a_finish_without_run_id_does_not_close_a_tagged_run():
    runs = Runs().after_start(1_000, rid="a")
    duration, runs = runs.after_finish(2_000, rid=None)
    assert duration is None
    duration, _ = runs.after_finish(3_000, rid="a")
    assert duration == 2_000


def test_a_start_older_than_72_hours_is_not_paired():
    runs = Runs().after_start(0, rid=None)
    duration, _ = runs.after_finish(72 * HOUR * 1000 + 1, rid=None)
    assert duration is None


def test_open_runs_are_bounded():
    runs = Runs()
    for n in range(MAX_OPEN_RUNS + 5):
        runs = runs.after_start(n * 1000, rid=f"run{n}")
    assert len(runs.open) == MAX_OPEN_RUNS
    assert runs.open[0].rid == "run5"


def test_a_run_is_running_until_any_finish_comes():
    runs = Runs().after_start(5_000_000, rid="a")
    assert runs.running_since() == 5_000
    _, runs = runs.after_finish(6_000_000, rid="other")
    assert runs.running_since() is None
    assert Runs().running_since() is None
