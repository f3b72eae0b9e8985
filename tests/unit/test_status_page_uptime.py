"""The 90 daily uptime bars and the 90-day figure, from the service's daily rollups."""

from __future__ import annotations

from chalicelib.domain.monitoring import MonitorStatus
from chalicelib.domain.status_pages import DayCounts, ServiceFacts
from chalicelib.domain.status_pages.model import DAY
from chalicelib.domain.status_pages.uptime import daily_series, window_uptime
from tests.status_page_snapshots import NOW, TODAY


def service(*days: DayCounts, created_at: int = NOW - 400 * DAY) -> ServiceFacts:
    return ServiceFacts(status=MonitorStatus.UP, created_at=created_at, days=days)


def test_one_entry_per_utc_day_oldest_first_ending_today():
    series = daily_series(service(), now=NOW)
    assert len(series) == 90
    assert [day.day for day in series] == list(range(TODAY - 89, TODAY + 1))
    assert series[0].date == "2026-09-03"
    assert series[-1].date == "2026-12-01"


def test_a_service_created_ten_days_ago_has_80_nulls_then_its_days():
    created_at = (TODAY - 9) * DAY + 10 * 3600  # 10:00 on the first of its ten UTC days
    days = [DayCounts(day=TODAY - ago, total_checks=100) for ago in range(9, -1, -1)]
    series = daily_series(service(*days, created_at=created_at), now=NOW)
    assert [day.uptime_percentage for day in series] == [None] * 80 + [100.0] * 10
    assert [day.existed for day in series] == [False] * 80 + [True] * 10


def test_rollups_from_before_the_service_existed_are_ignored():
    # A service deleted and re-created under the same key must not inherit the old bars.
    stale = DayCounts(day=TODAY - 50, total_checks=100, failed_checks=100)
    series = daily_series(service(stale, created_at=(TODAY - 9) * DAY), now=NOW)
    assert series[39].uptime_percentage is None
    assert window_uptime(series) is None


def test_a_day_without_checks_has_no_figure_not_100():
    series = daily_series(service(DayCounts(day=TODAY - 1, total_checks=10)), now=NOW)
    assert series[-2].uptime_percentage == 100.0
    assert series[-1].uptime_percentage is None  # no rollup today (yet)
    assert series[-3].uptime_percentage is None


def test_daily_uptime_is_the_share_of_up_checks():
    series = daily_series(service(DayCounts(day=TODAY, total_checks=1440, failed_checks=3)), now=NOW)
    assert series[-1].uptime_percentage == 99.792


def test_maintenance_time_is_not_downtime():
    # The fold leaves checks made in a window out of the counters: a day with 6 h of maintenance and
    # every other check up is a 100% day, and a day spent wholly in maintenance has no figure.
    partly = DayCounts(day=TODAY - 1, total_checks=1080, maintenance_seconds=6 * 3600)
    wholly = DayCounts(day=TODAY, total_checks=0, maintenance_seconds=14 * 3600)
    series = daily_series(service(partly, wholly), now=NOW)
    assert series[-2].uptime_percentage == 100.0
    assert series[-2].maintenance_seconds == 6 * 3600
    assert series[-1].uptime_percentage is None
    assert window_uptime(series) == 100.0


def test_the_90_day_figure_weighs_days_by_their_checks_not_an_average_of_days():
    bad_short_day = DayCounts(day=TODAY - 1, total_checks=10, failed_checks=5)  # 50%
    good_day = DayCounts(day=TODAY, total_checks=1430)  # 100%
    series = daily_series(service(bad_short_day, good_day), now=NOW)
    assert window_uptime(series) == 99.653  # 1435 up of 1440; the mean of the days would be 75
    assert [day.uptime_percentage for day in series[-2:]] == [50.0, 100.0]


def test_days_outside_the_window_do_not_count():
    old = DayCounts(day=TODAY - 90, total_checks=1000, failed_checks=1000)
    future = DayCounts(day=TODAY + 1, total_checks=1000, failed_checks=1000)
    series = daily_series(service(old, future, DayCounts(day=TODAY, total_checks=10)), now=NOW)
    assert window_uptime(series) == 100.0


def test_no_checks_in_the_window_has_no_90_day_figure():
    assert window_uptime(daily_series(service(), now=NOW)) is None
