"""Check history and metrics, read from hour buckets and daily rollups.

The dashboard's reads do not grow with history: a metrics request is one
Query of daily rollups (a year of them fits in one page) plus one Query of the
last few hour buckets that are not folded into their day yet.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.exceptions import UpdateError

from chalicelib.adapters.secrets import jwt_secret
from chalicelib.domain import maintenance as maintenance_rules
from chalicelib.domain.checks import HOUR, CheckRecord, hour_of, unpack
from chalicelib.domain.metrics import Rollup, ServiceMetrics, org_totals, service_metrics
from chalicelib.models.checks import (
    HISTOGRAM_ATTRIBUTES,
    DailyRollup,
    HourBucket,
    add_check_counters,
    service_key,
)
from chalicelib.models.services import SCHEDULER_PARTITION, SchedulerState, Service
from chalicelib.security.cursors import decode_cursor, encode_cursor
from chalicelib.settings import settings
from chalicelib.usecases import maintenance
from chalicelib.usecases.dynamo import condition_failed
from chalicelib.usecases.pagination import Page

logger = Logger(service="vigil", child=True, level=settings.log_level)

DAY = 86_400
FOLD_GRACE_SECONDS = 300  # late checks of an hour still land in its bucket before it is folded
FOLD_CATCH_UP_HOURS = 48  # after an outage of the fold itself, older hours stay in their buckets only
UNFOLDED_HOURS = 3  # at most this many recent buckets can be unfolded when the fold runs every minute


# ---- folding hours into days --------------------------------------------------------------------


def fold_complete_hours(*, now: int) -> int:
    """Fold each complete hour not folded yet into the daily rollups, once; returns buckets folded.

    ``folded_through`` on the scheduler's item remembers the last hour done, so a run reads only
    the new hours' buckets; ``folded_hours`` on each day makes a repeated fold a no-op.
    """
    last_complete = hour_of(now - FOLD_GRACE_SECONDS) - HOUR
    state = SchedulerState.get_or_new()
    previous = int(state.folded_through or 0)
    first = max(previous + HOUR, last_complete - (FOLD_CATCH_UP_HOURS - 1) * HOUR)
    folded = 0
    for hour in range(first, last_complete + 1, HOUR):
        for entry in HourBucket.by_hour.query(hour):
            if fold_bucket(entry.service_key, hour):
                folded += 1
    if last_complete > previous:
        try:
            SchedulerState(SCHEDULER_PARTITION, "state").update(
                actions=[SchedulerState.folded_through.set(last_complete)],
                condition=SchedulerState.folded_through.does_not_exist()
                | (SchedulerState.folded_through == previous),
            )
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
    return folded


def fold_bucket(key: str, hour: int) -> bool:
    """ADD the bucket's counters to its day once (``folded_hours`` says so), then drop it from the index."""
    try:
        bucket = HourBucket.get(key, hour, consistent_read=True)
    except HourBucket.DoesNotExist:
        return False
    counters = counters_outside_maintenance(bucket, end=hour + HOUR)
    actions: list[Any] = [DailyRollup.folded_hours.add({hour}), *add_check_counters(DailyRollup, counters)]
    if counters.maintenance_seconds:
        actions.append(DailyRollup.maintenance_seconds.add(counters.maintenance_seconds))
    try:
        DailyRollup(key, hour // DAY).update(
            actions=actions,
            condition=DailyRollup.folded_hours.does_not_exist() | ~DailyRollup.folded_hours.contains(hour),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        return False  # folded before (a retried run)
    return True


def counters_outside_maintenance(bucket: HourBucket, *, end: int, checks_read: bool = True) -> Rollup:
    """The bucket's counters without the checks made in a maintenance window, plus the seconds of
    its hour (up to ``end``) spent in one: that time is neither uptime nor downtime."""
    hour = int(bucket.hour)
    org_id, _, service_id = str(bucket.service_key).partition("#")
    windows = maintenance.windows_of(org_id)
    seconds = maintenance_rules.maintenance_seconds(service_id, windows, hour, min(end, hour + HOUR))
    if not seconds:
        return bucket.check_counters()
    if not checks_read:  # read with the counters only
        bucket = HourBucket.get(bucket.service_key, hour, consistent_read=True)
    total = Rollup(maintenance_seconds=seconds)
    for packed in bucket.checks or []:
        record = unpack(packed, hour=hour)
        if not maintenance_rules.in_maintenance(service_id, windows, record.checked_at):
            up = None if record.status == "missed" else record.status == "up"
            total = total + Rollup.of_check(up=up, response_time_ms=record.response_time_ms)
    return total


# ---- metrics ------------------------------------------------------------------------------------


def rollup_since(key: str, *, days: int, now: int) -> Rollup:
    """Counters of the last ``days`` UTC days including today: the days' rollups plus the recent
    hours not folded yet."""
    first_day = now // DAY - days + 1
    total = Rollup()
    folded: set[int] = set()
    for daily in DailyRollup.query(key, DailyRollup.day >= first_day):
        total = total + daily.rollup()
        folded |= {int(h) for h in (daily.folded_hours or set())}
    recent_from = max(hour_of(now) - UNFOLDED_HOURS * HOUR, first_day * DAY)
    for bucket in HourBucket.query(key, HourBucket.hour >= recent_from, attributes_to_get=_COUNTER_NAMES):
        if int(bucket.hour) not in folded:
            total = total + counters_outside_maintenance(bucket, end=now, checks_read=False)
    return total


_COUNTER_NAMES = ["service_key", "hour", "n", "f", "m", "rs", "rc", *HISTOGRAM_ATTRIBUTES]


def daily_rollups_since(key: str, *, days: int, now: int) -> dict[int, Rollup]:
    """Counters of each of the last ``days`` UTC days including today, by day number (days without
    data left out): one Query of daily rollups plus one of the recent hours not folded yet."""
    first_day = now // DAY - days + 1
    by_day: dict[int, Rollup] = {}
    folded: set[int] = set()
    for daily in DailyRollup.query(key, DailyRollup.day >= first_day):
        by_day[int(daily.day)] = daily.rollup()
        folded |= {int(h) for h in (daily.folded_hours or set())}
    recent_from = max(hour_of(now) - UNFOLDED_HOURS * HOUR, first_day * DAY)
    for bucket in HourBucket.query(key, HourBucket.hour >= recent_from, attributes_to_get=_COUNTER_NAMES):
        if int(bucket.hour) not in folded:
            day = int(bucket.hour) // DAY
            by_day[day] = by_day.get(day, Rollup()) + counters_outside_maintenance(
                bucket, end=now, checks_read=False
            )
    return by_day


def metrics_for(service: Service, *, days: int, now: int) -> ServiceMetrics:
    rollup = rollup_since(service_key(service.org_id, service.service_id), days=days, now=now)
    down_since = int(service.down_since) if service.status == "down" and service.down_since else None
    return service_metrics(
        service_id=service.service_id, status=service.status, rollup=rollup, down_since=down_since, now=now
    )


def org_metrics(
    services: Sequence[Service], *, days: int, now: int
) -> tuple[list[ServiceMetrics], dict[str, object]]:
    per_service = [metrics_for(service, days=days, now=now) for service in services]
    return per_service, org_totals(per_service)


# ---- raw checks ---------------------------------------------------------------------------------


def recent_checks(
    service: Service, *, hours: int, now: int, limit: int, cursor: str | None
) -> Page[CheckRecord]:
    """Checks of the last ``hours`` hours, newest first, ``limit`` at a time."""
    key = service_key(service.org_id, service.service_id)
    scope = f"checks:{key}"
    before = now + 1
    if cursor is not None:
        before = int(decode_cursor(cursor, scope=scope, secret=jwt_secret()).get("before", now + 1))
    since = now - hours * HOUR
    found: list[CheckRecord] = []
    for record in _newest_first(key, since=since, before=before):
        found.append(record)
        if len(found) > limit:
            break
    if len(found) <= limit:
        return Page(items=found, next_cursor=None)
    page = found[:limit]
    token = encode_cursor({"before": page[-1].checked_at}, scope=scope, secret=jwt_secret())
    return Page(items=page, next_cursor=token)


def _newest_first(key: str, *, since: int, before: int) -> Iterator[CheckRecord]:
    buckets = HourBucket.query(
        key,
        HourBucket.hour.between(hour_of(since), hour_of(before)),
        scan_index_forward=False,
        attributes_to_get=["service_key", "hour", "c"],
    )
    for bucket in buckets:
        records = [unpack(packed, hour=int(bucket.hour)) for packed in (bucket.checks or [])]
        # Newest first; checks of the same second (a heartbeat's pings) latest-appended first.
        for record in reversed(sorted(records, key=lambda r: r.checked_at)):
            if since <= record.checked_at < before:
                yield record
