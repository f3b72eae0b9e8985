"""Check history and metrics, read from probe results, hour buckets and daily rollups.

The checker records results by shard (``ResultSlot``); the hourly fold moves a
complete hour's results into each service's hour bucket, then folds the buckets
into daily rollups. The dashboard's reads do not grow with history: a metrics
request is one Query of daily rollups (a year of them fits in one page), one
Query of the last few hour buckets that are not folded into their day yet and
one Query of the service's result shard for the hours not folded into buckets
yet (the current one, and the last one for the fold's first minutes).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.exceptions import UpdateError

from chalicelib.adapters.secrets import jwt_secret
from chalicelib.domain import maintenance as maintenance_rules
from chalicelib.domain.checks import (
    HOUR,
    CheckRecord,
    counters_of,
    hour_of,
    result_shard,
    slot_second,
    unpack,
)
from chalicelib.domain.metrics import Rollup, ServiceMetrics, org_totals, service_metrics
from chalicelib.models.checks import (
    HISTOGRAM_ATTRIBUTES,
    DailyRollup,
    HourBucket,
    ResultSlot,
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
    """Fold each complete hour not folded yet: its probe results into hour buckets, then the
    buckets into the daily rollups, once; returns buckets folded into days.

    ``folded_through`` on the scheduler's item remembers the last hour done, so a run reads only
    the new hours' results and buckets; the buckets' ``s`` and each day's ``folded_hours`` make a
    repeated fold a no-op.
    """
    last_complete = hour_of(now - FOLD_GRACE_SECONDS) - HOUR
    state = SchedulerState.get_or_new()
    previous = int(state.folded_through or 0)
    first = max(previous + HOUR, last_complete - (FOLD_CATCH_UP_HOURS - 1) * HOUR)
    if not previous:  # a new deployment: no results are older than its first fold
        first = last_complete
    folded = 0
    for hour in range(first, last_complete + 1, HOUR):
        # The index is eventually consistent: the buckets just written are folded by their keys.
        keys = set(fold_results(hour)) | {entry.service_key for entry in HourBucket.by_hour.query(hour)}
        for key in sorted(keys):
            if fold_bucket(key, hour):
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


def fold_results(hour: int) -> list[str]:
    """Move the hour's probe results from every result shard into the services' hour buckets: one
    Query per shard, one BatchGet of the services (a deleted one's results are dropped), one
    UpdateItem per service (results already in a bucket are not added again). Returns the service
    keys written."""
    by_service: dict[str, dict[int, CheckRecord]] = {}
    low, high = slot_range(hour, hour + HOUR)
    for shard in range(60 * settings.result_shards_per_second):
        for item in ResultSlot.query(str(shard), ResultSlot.slot.between(low, high), consistent_read=True):
            for key, packed in item.results.items():
                record = unpack(packed, hour=hour)
                by_service.setdefault(key, {})[record.checked_at] = record
    from chalicelib.usecases import checker  # the fold's Lambda only: the API reads history without it

    keys = [tuple(key.partition("#")[::2]) for key in by_service]
    existing = {  # a service deleted since keeps no history
        service_key(s.org_id, s.service_id)
        for s in Service.batch_get(keys, attributes_to_get=["org_id", "service_id"])
    }
    for key, records in by_service.items():
        if key in existing:
            org_id, _, service_id = key.partition("#")
            checker.store_checks(org_id, service_id, list(records.values()))
    return [key for key in by_service if key in existing]


def slot_range(since: int, before: int) -> tuple[str, str]:
    """The inclusive range of ``ResultSlot.slot`` keys of the results scheduled in [since, before)."""
    return f"{since:010d}", f"{before - 1:010d}~"


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
    records = [unpack(packed, hour=hour) for packed in bucket.checks or []]
    return records_outside_maintenance(str(bucket.service_key), records, windows=windows) + Rollup(
        maintenance_seconds=seconds
    )


def records_outside_maintenance(key: str, records: Sequence[CheckRecord], *, windows: Any) -> Rollup:
    """The counters of the checks not made in a maintenance window."""
    service_id = key.partition("#")[2]
    total = Rollup()
    for record in records:
        if not maintenance_rules.in_maintenance(service_id, windows, record.checked_at):
            total = total + counters_of(record)
    return total


# ---- results not folded into hour buckets yet ---------------------------------------------------


def unfolded_from(now: int) -> int:
    """The first hour whose probe results may be in their result shard only (not in buckets yet)."""
    folded_through = int(SchedulerState.get_or_new().folded_through or 0)
    return max(min(folded_through + HOUR, hour_of(now)), hour_of(now) - FOLD_CATCH_UP_HOURS * HOUR)


def pending_results(key: str, *, since: int, before: int) -> dict[int, list[CheckRecord]]:
    """The service's probe results scheduled in [since, before), read from its result shard (one
    Query), one per scheduled second, oldest first, by hour."""
    if before <= since:
        return {}
    shard = result_shard(key.partition("#")[2], settings.result_shards_per_second)
    low, high = slot_range(since, before)
    found: dict[int, CheckRecord] = {}
    for item in ResultSlot.query(shard, ResultSlot.slot.between(low, high)):
        packed = item.results.get(key)
        if packed is not None:
            record = unpack(packed, hour=hour_of(slot_second(item.slot)))
            found[record.checked_at] = record
    by_hour: dict[int, list[CheckRecord]] = {}
    for at in sorted(found):
        by_hour.setdefault(hour_of(at), []).append(found[at])
    return by_hour


def not_stored(records: Sequence[CheckRecord], stored_seconds: Any) -> list[CheckRecord]:
    """The pending results whose second is not in the hour bucket yet (the fold may be under way)."""
    seconds = {int(s) for s in (stored_seconds or ())}
    return [r for r in records if r.checked_at - hour_of(r.checked_at) not in seconds]


# ---- metrics ------------------------------------------------------------------------------------


def rollup_since(
    key: str,
    *,
    days: int,
    now: int,
    unfolded: int | None = None,
    pending: dict[int, list[CheckRecord]] | None = None,
) -> Rollup:
    """Counters of the last ``days`` UTC days including today (``daily_rollups_since`` summed)."""
    return sum(
        daily_rollups_since(key, days=days, now=now, unfolded=unfolded, pending=pending).values(), Rollup()
    )


def daily_rollups_since(
    key: str,
    *,
    days: int,
    now: int,
    unfolded: int | None = None,
    pending: dict[int, list[CheckRecord]] | None = None,
) -> dict[int, Rollup]:
    """Counters of each of the last ``days`` UTC days including today, by day number (days without
    data left out): the days' rollups plus the recent hours not folded yet (their buckets, and the
    results not in a bucket yet). ``unfolded`` and ``pending`` (from ``unfolded``) when the caller
    read them already."""
    first_day = now // DAY - days + 1
    by_day: dict[int, Rollup] = {}

    def add(hour: int, counters: Rollup) -> None:
        by_day[hour // DAY] = by_day.get(hour // DAY, Rollup()) + counters

    folded: set[int] = set()
    for daily in DailyRollup.query(key, DailyRollup.day >= first_day):
        add(int(daily.day) * DAY, daily.rollup())
        folded |= {int(h) for h in (daily.folded_hours or set())}
    unfolded = unfolded_from(now) if unfolded is None else unfolded
    pending_from = max(unfolded, first_day * DAY)
    recent_from = max(min(hour_of(now) - UNFOLDED_HOURS * HOUR, pending_from), first_day * DAY)
    stored: dict[int, Any] = {}
    for bucket in HourBucket.query(key, HourBucket.hour >= recent_from, attributes_to_get=_COUNTER_NAMES):
        stored[int(bucket.hour)] = bucket.seconds
        if int(bucket.hour) not in folded:
            add(int(bucket.hour), counters_outside_maintenance(bucket, end=now, checks_read=False))
    if pending is None:
        pending = pending_results(key, since=pending_from, before=now + 1)
    windows = None
    for hour, records in pending.items():
        if hour < first_day * DAY or hour in folded:
            continue
        windows = maintenance.windows_of(key.partition("#")[0]) if windows is None else windows
        add(hour, records_outside_maintenance(key, not_stored(records, stored.get(hour)), windows=windows))
        if hour not in stored:  # else the bucket counted the hour's maintenance time
            add(
                hour,
                Rollup(
                    maintenance_seconds=maintenance_rules.maintenance_seconds(
                        key.partition("#")[2], windows, hour, min(now, hour + HOUR)
                    )
                ),
            )
    return by_day


_COUNTER_NAMES = ["service_key", "hour", "n", "f", "m", "rs", "rc", "s", *HISTOGRAM_ATTRIBUTES]


def metrics_for(service: Service, *, days: int, now: int, unfolded: int | None = None) -> ServiceMetrics:
    key = service_key(service.org_id, service.service_id)
    rollup = rollup_since(key, days=days, now=now, unfolded=unfolded)
    down_since = int(service.down_since) if service.status == "down" and service.down_since else None
    return service_metrics(
        service_id=service.service_id, status=service.status, rollup=rollup, down_since=down_since, now=now
    )


def org_metrics(
    services: Sequence[Service], *, days: int, now: int
) -> tuple[list[ServiceMetrics], dict[str, object]]:
    unfolded = unfolded_from(now)
    per_service = [metrics_for(service, days=days, now=now, unfolded=unfolded) for service in services]
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
    for record in _newest_first(key, since=since, before=before, unfolded=unfolded_from(now)):
        found.append(record)
        if len(found) > limit:
            break
    if len(found) <= limit:
        return Page(items=found, next_cursor=None)
    page = found[:limit]
    token = encode_cursor({"before": page[-1].checked_at}, scope=scope, secret=jwt_secret())
    return Page(items=page, next_cursor=token)


def _newest_first(key: str, *, since: int, before: int, unfolded: int) -> Iterator[CheckRecord]:
    pending = pending_results(key, since=max(since, unfolded), before=before)
    buckets = HourBucket.query(
        key,
        HourBucket.hour.between(hour_of(since), hour_of(before)),
        scan_index_forward=False,
        attributes_to_get=["service_key", "hour", "c"],
    )
    stored: dict[int, list[CheckRecord]] = {}
    for bucket in buckets:
        hour = int(bucket.hour)
        stored[hour] = [unpack(packed, hour=hour) for packed in (bucket.checks or [])]
    for hour in sorted(set(stored) | set(pending), reverse=True):
        records = stored.get(hour, [])
        seen = {r.checked_at for r in records}
        records = records + [r for r in pending.get(hour, []) if r.checked_at not in seen]
        # Newest first; checks of the same second (a heartbeat's pings) latest-appended first.
        for record in reversed(sorted(records, key=lambda r: r.checked_at)):
            if since <= record.checked_at < before:
                yield record
