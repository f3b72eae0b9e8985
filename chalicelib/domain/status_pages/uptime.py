"""The 90 daily uptime bars of a component and its 90-day figure, from the service's daily rollups.

Uptime counts checks as `domain.metrics` does: the share of up checks among the checks made outside
maintenance, over the days summed (not an average of daily percentages, so a day with few checks
weighs little). Checks come at a fixed interval, so this is the share of monitored time the service
was up. A day with no counted check (before the service existed, paused or in maintenance all day,
or no rollup) has no figure: `None`, shown as "no data", never as 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from chalicelib.domain.metrics import Rollup, uptime_percentage
from chalicelib.domain.status_pages.model import DAY, SERIES_DAYS, DayCounts, ServiceFacts


@dataclass(frozen=True)
class DayUptime:
    day: int  # UTC day number
    uptime_percentage: float | None  # None: no data that day
    existed: bool  # the service existed on that day (False: before its creation)
    total_checks: int = 0
    failed_checks: int = 0
    maintenance_seconds: int = 0
    downtime_seconds: int = 0

    @property
    def date(self) -> str:
        return day_date(self.day)


@lru_cache(maxsize=1024)  # a render formats the same 90 dates for every component
def day_date(day: int) -> str:
    return datetime.fromtimestamp(day * DAY, tz=UTC).strftime("%Y-%m-%d")


def daily_series(service: ServiceFacts, *, now: int, days: int = SERIES_DAYS) -> list[DayUptime]:
    """One entry per UTC day, oldest first, the last being today (the day of `now`)."""
    today = now // DAY
    created_day = service.created_at // DAY
    by_day: dict[int, DayCounts] = {}
    for counts in service.days:
        by_day[counts.day] = counts
    series = []
    for day in range(today - days + 1, today + 1):
        counts = by_day.get(day, DayCounts(day))
        existed = day >= created_day
        has_checks = existed and counts.total_checks > 0
        series.append(
            DayUptime(
                day=day,
                uptime_percentage=uptime_percentage(_rollup(counts)) if has_checks else None,
                existed=existed,
                total_checks=counts.total_checks if existed else 0,
                failed_checks=counts.failed_checks if existed else 0,
                maintenance_seconds=counts.maintenance_seconds if existed else 0,
                downtime_seconds=counts.downtime_seconds if existed else 0,
            )
        )
    return series


def window_uptime(series: list[DayUptime]) -> float | None:
    """The uptime over the whole series, weighted by checks; None when it counted no check."""
    total = Rollup(
        total_checks=sum(day.total_checks for day in series),
        failed_checks=sum(day.failed_checks for day in series),
    )
    if total.total_checks == 0:
        return None
    return uptime_percentage(total)


def _rollup(counts: DayCounts) -> Rollup:
    return Rollup(total_checks=counts.total_checks, failed_checks=counts.failed_checks)
