"""The dashboard's overview: every service's uptime over 24 h and 30 d, its response time and an
hourly sparkline, for a whole org in one request instead of one metrics request per service.

Per service it costs the 30-day metrics read (daily rollups plus unfolded hours), one Query of
the last 24 hour buckets, counters only, and one Query of its result shard for the hours not folded
into buckets yet (shared by both); nothing grows with history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.domain.checks import HOUR, counters_of, hour_of
from chalicelib.domain.metrics import Rollup, mean_or_none, uptime_percentage
from chalicelib.models.checks import HISTOGRAM_ATTRIBUTES, HourBucket, service_key
from chalicelib.models.services import Service
from chalicelib.usecases.history import not_stored, pending_results, rollup_since, unfolded_from

SPARKLINE_HOURS = 24
_COUNTERS = ["service_key", "hour", "n", "f", "rs", "rc", "s", *HISTOGRAM_ATTRIBUTES]


@dataclass(frozen=True)
class HourPoint:
    hour: int
    rollup: Rollup


@dataclass(frozen=True)
class ServiceSummary:
    service_id: str
    uptime_24h: float | None
    uptime_30d: float | None
    response_time_ms: float | None  # mean over the last 24 h
    hours: list[HourPoint]  # oldest first, one per hour of the last 24, zero counters where none ran


def summarize(services: Sequence[Service], *, now: int) -> list[ServiceSummary]:
    unfolded = unfolded_from(now)
    return [_summary(service, now=now, unfolded=unfolded) for service in services]


def _summary(service: Service, *, now: int, unfolded: int) -> ServiceSummary:
    key = service_key(service.org_id, service.service_id)
    first_hour = hour_of(now) - (SPARKLINE_HOURS - 1) * HOUR
    pending = pending_results(key, since=unfolded, before=now + 1)
    by_hour: dict[int, Rollup] = {}
    seconds: dict[int, object] = {}
    for bucket in HourBucket.query(key, HourBucket.hour >= first_hour, attributes_to_get=_COUNTERS):
        by_hour[int(bucket.hour)] = bucket.check_counters()
        seconds[int(bucket.hour)] = bucket.seconds
    for hour, records in pending.items():
        if hour >= first_hour:
            by_hour[hour] = sum(
                (counters_of(r) for r in not_stored(records, seconds.get(hour))), by_hour.get(hour, Rollup())
            )
    hours = [
        HourPoint(hour, by_hour.get(hour, Rollup()))
        for hour in range(first_hour, first_hour + SPARKLINE_HOURS * HOUR, HOUR)
    ]
    day = sum((point.rollup for point in hours), Rollup())
    month = rollup_since(key, days=30, now=now, unfolded=unfolded, pending=pending)
    return ServiceSummary(
        service_id=service.service_id,
        uptime_24h=uptime_percentage(day) if day.total_checks else None,
        uptime_30d=uptime_percentage(month) if month.total_checks else None,
        response_time_ms=mean_or_none(day.response_time_sum_ms, day.response_time_count),
        hours=hours,
    )
