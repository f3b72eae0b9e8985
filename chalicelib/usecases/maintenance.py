"""Maintenance windows: CRUD, `end`, the minute sweep, and "is this service in maintenance at t".

- The one question is the domain's ``in_maintenance``; the checker, the heartbeat sweep, the alert
  consumer and the metrics fold ask it through ``in_maintenance(org_id, service_id, at)`` here,
  which reads the org's windows with one Query and keeps them a few seconds (one invocation).
- A service in a window has status ``maintenance``: the window's writes (create, change, delete,
  end) and the minute sweep move services in and out with conditional writes on ``version``, so
  the services stream emits ``service.status_changed`` by itself. The sweep finds what is due
  through the sparse index on each window's next start or end, never a Scan.
- Entering keeps the status before (``status_before_maintenance``) and the open incident as they
  are; leaving restores that status with clean counters and ``last_counted_at`` at the end, so the
  usual thresholds apply to the checks after the window only.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.domain import maintenance as domain
from chalicelib.domain.clock import now_seconds
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound
from chalicelib.domain.ids import new_id
from chalicelib.domain.maintenance import MaintenanceWindow, WindowState
from chalicelib.domain.monitoring import MonitorStatus
from chalicelib.models.maintenance import SWEEP_DUE, EndedEarlyMap, MaintenanceWindowRecord
from chalicelib.models.services import Service
from chalicelib.settings import settings
from chalicelib.usecases.dynamo import condition_failed
from chalicelib.usecases.pagination import Page, fetch_page

logger = Logger(service="vigil", child=True, level=settings.log_level)

MAX_LIVE_WINDOWS_PER_ORG = 100  # scheduled or active: every check that changes a state reads them all
CACHE_SECONDS = 5.0  # about one invocation of the checker or the alert consumer
ENDED_KEPT_SECONDS = 30 * 86_400  # an ended window stays listed this long, then expires (TTL)
MAX_MOVE_ATTEMPTS = 3

_cache: dict[str, tuple[float, list[MaintenanceWindow]]] = {}


# ---- between the record and the domain ----------------------------------------------------------


def window_of(record: MaintenanceWindowRecord) -> MaintenanceWindow:
    return MaintenanceWindow(
        starts_at=int(record.starts_at),
        duration_seconds=int(record.duration_seconds),
        recurrence=record.recurrence,
        timezone=record.timezone or "UTC",
        service_ids=frozenset(record.service_ids or ()),
        ended_early=tuple(
            domain.EndedEarly(int(m.occurrence_starts_at), int(m.ended_at)) for m in record.ended_early or []
        ),
        window_id=record.window_id,
    )


def _write_timing(record: MaintenanceWindowRecord, window: MaintenanceWindow, *, now: int) -> None:
    record.starts_at = window.starts_at
    record.duration_seconds = window.duration_seconds
    record.recurrence = window.recurrence
    record.timezone = window.timezone
    record.service_ids = set(window.service_ids)
    record.ended_early = [
        EndedEarlyMap(occurrence_starts_at=m.occurrence_starts_at, ended_at=m.ended_at)
        for m in window.ended_early
    ]
    _schedule_sweep(record, window, now=now)


def _schedule_sweep(record: MaintenanceWindowRecord, window: MaintenanceWindow, *, now: int) -> None:
    """The next instant the sweep must look at this window: the end of the current occurrence, or
    the start of the next; none (out of the index, expiring later) when nothing is left."""
    change = next_change_at(window, now)
    record.sweep = SWEEP_DUE if change is not None else None
    record.next_change_at = change
    record.expires_at = None if change is not None else now + ENDED_KEPT_SECONDS


def next_change_at(window: MaintenanceWindow, now: int) -> int | None:
    status = domain.window_status(window, now)
    if status.state is WindowState.ACTIVE:
        return status.next_ends_at
    if status.state is WindowState.SCHEDULED:
        return status.next_starts_at
    return None


# ---- the question -------------------------------------------------------------------------------


def windows_of(org_id: str, *, fresh: bool = False) -> list[MaintenanceWindow]:
    """The org's windows: one Query, kept CACHE_SECONDS unless ``fresh`` (then strongly consistent)."""
    clock = time.monotonic()
    cached = _cache.get(org_id)
    if not fresh and cached is not None and clock - cached[0] < CACHE_SECONDS:
        return cached[1]
    windows = [window_of(r) for r in MaintenanceWindowRecord.query(org_id, consistent_read=fresh)]
    _cache[org_id] = (clock, windows)
    return windows


def _forget(org_id: str) -> None:
    _cache.pop(org_id, None)


def in_maintenance(org_id: str, service_id: str, at: int) -> bool:
    """Is this service in maintenance at ``at`` (epoch seconds)? For the checker, the heartbeat
    sweep, the alert consumer and the metrics."""
    return domain.in_maintenance(service_id, windows_of(org_id), at)


def suppress_alert(org_id: str, service_id: str | None, at: int) -> bool:
    """For the alert consumer: True when the service is in maintenance, after counting the alert in
    ``suppressed_alerts`` of each window that holds it (an atomic ADD)."""
    if not service_id:
        return False
    holding = domain.windows_in_effect(service_id, windows_of(org_id), at)
    for window in holding:
        assert window.window_id is not None
        try:
            MaintenanceWindowRecord(org_id, window.window_id).update(
                actions=[MaintenanceWindowRecord.suppressed_alerts.add(1)],
                condition=MaintenanceWindowRecord.window_id.exists(),
            )
        except UpdateError as exc:
            if not condition_failed(exc):
                raise  # else deleted meanwhile: nothing to count on
    if holding:
        logger.info("alert suppressed by maintenance", extra={"org_id": org_id, "service_id": service_id})
    return bool(holding)


def maintenance_seconds(org_id: str, service_id: str, start: int, end: int) -> int:
    return domain.maintenance_seconds(service_id, windows_of(org_id), start, end)


# ---- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowView:
    record: MaintenanceWindowRecord
    window: MaintenanceWindow
    status: domain.WindowStatus


def view(record: MaintenanceWindowRecord, *, now: int) -> WindowView:
    window = window_of(record)
    return WindowView(record, window, domain.window_status(window, now))


def get_window(org_id: str, window_id: str) -> MaintenanceWindowRecord:
    try:
        return MaintenanceWindowRecord.get(org_id, window_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound("maintenance window not found") from exc


def list_windows(
    org_id: str, *, state: str | None, limit: int, cursor: str | None, now: int
) -> Page[WindowView]:
    """Newest first. With ``state``, a page holds the matching windows of the records read (it may
    be shorter than ``limit``; follow ``next_cursor``)."""
    page = fetch_page(
        lambda **kw: MaintenanceWindowRecord.query(org_id, scan_index_forward=False, **kw),
        limit=limit,
        cursor=cursor,
        scope=f"maintenance:{org_id}",
    )
    views = [view(r, now=now) for r in page.items]
    if state is not None:
        views = [v for v in views if v.status.state.value == state]
    return Page(items=views, next_cursor=page.next_cursor)


# ---- writing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """What the API parsed: epoch seconds and the raw rule; None where the request said nothing."""

    starts_at: int | None = None
    ends_at: int | None = None
    duration_minutes: int | None = None
    recurrence: str | None = None
    timezone: str = "UTC"


def create_window(
    org_id: str, *, title: str, service_ids: Sequence[str], timing: Timing, actor_id: str | None
) -> WindowView:
    now = now_seconds()
    window = domain.new_window(
        now=now,
        starts_at=timing.starts_at,
        ends_at=timing.ends_at,
        duration_minutes=timing.duration_minutes,
        recurrence=timing.recurrence,
        timezone=timing.timezone,
        service_ids=service_ids,
    )
    _refuse_other_services(org_id, service_ids)
    live = [
        w
        for w in windows_of(org_id, fresh=True)
        if domain.window_status(w, now).state is not WindowState.ENDED
    ]
    if len(live) >= MAX_LIVE_WINDOWS_PER_ORG:
        raise Conflict(
            f"an organization can have at most {MAX_LIVE_WINDOWS_PER_ORG} scheduled or active windows"
        )
    record = MaintenanceWindowRecord(
        org_id,
        new_id(),
        title=title,
        suppressed_alerts=0,
        created_at=now,
        updated_at=now,
        created_by=actor_id,
        version=1,
    )
    _write_timing(record, window, now=now)
    record.save(condition=MaintenanceWindowRecord.window_id.does_not_exist())
    _forget(org_id)
    logger.info("maintenance window created", extra={"org_id": org_id, "window_id": record.window_id})
    move_services(org_id, window.service_ids or None, now=now)
    _tell_subscribers(record, window, now=now, starting_only=False)
    return view(record, now=now)


def _tell_subscribers(
    record: MaintenanceWindowRecord, window: MaintenanceWindow, *, now: int, starting_only: bool
) -> None:
    """Status page subscribers hear of a window when it is scheduled and when an occurrence starts,
    each (occurrence, phase) once: the notice's key. A failure is logged: moving services in and out
    of maintenance must never wait on an email."""
    status = domain.window_status(window, now)
    if status.next_starts_at is None or status.next_ends_at is None:
        return
    started = status.state is WindowState.ACTIVE
    if starting_only and not started:
        return
    from chalicelib.usecases import subscribers  # mail and its queue: not in a reader's cold start

    try:
        subscribers.announce_maintenance(
            record.org_id,
            window_id=record.window_id,
            title=record.title,
            service_ids=window.service_ids,
            starts_at=status.next_starts_at,
            ends_at=status.next_ends_at,
            started=started,
        )
    except Exception:
        logger.exception("could not tell status page subscribers of a maintenance window")


def update_window(
    org_id: str,
    window_id: str,
    *,
    title: str | None,
    service_ids: Sequence[str] | None,
    timing: Timing | None,
) -> WindowView:
    """PATCH: what is given changes. New timing is checked as a new window would be (and forgets
    early ends); a title or service change alone keeps the timing as it is."""
    record = get_window(org_id, window_id)
    before = window_of(record)
    now = now_seconds()
    version = int(record.version or 0)
    if service_ids is not None:
        _refuse_other_services(org_id, service_ids)
    if timing is not None:
        window = domain.new_window(
            now=now,
            starts_at=before.starts_at if timing.starts_at is None else timing.starts_at,
            ends_at=timing.ends_at,
            duration_minutes=timing.duration_minutes,
            recurrence=timing.recurrence,
            timezone=timing.timezone,
            service_ids=before.service_ids if service_ids is None else service_ids,
        )
    else:
        window = before
        if service_ids is not None:
            window = domain.MaintenanceWindow(
                starts_at=before.starts_at,
                duration_seconds=before.duration_seconds,
                recurrence=before.recurrence,
                timezone=before.timezone,
                service_ids=frozenset(service_ids),
                ended_early=before.ended_early,
            )
            if len(window.service_ids) > domain.MAX_SERVICE_IDS:
                raise InvalidInput(
                    f"must be at most {domain.MAX_SERVICE_IDS} service ids", field="service_ids"
                )
    if title is not None:
        record.title = title
    _write_timing(record, window, now=now)
    record.updated_at = now
    record.version = version + 1
    _save_unchanged(record, version)
    _forget(org_id)
    touched = (
        None if not before.service_ids or not window.service_ids else before.service_ids | window.service_ids
    )
    move_services(org_id, touched, now=now)
    return view(record, now=now)


def end_window(org_id: str, window_id: str) -> WindowView:
    """Ends the current occurrence now (409 when none is active); later occurrences still come."""
    record = get_window(org_id, window_id)
    now = now_seconds()
    version = int(record.version or 0)
    window = domain.end_now(window_of(record), now)
    _write_timing(record, window, now=now)
    record.updated_at = now
    record.version = version + 1
    _save_unchanged(record, version)
    _forget(org_id)
    logger.info("maintenance window ended early", extra={"org_id": org_id, "window_id": window_id})
    move_services(org_id, window.service_ids or None, now=now)
    return view(record, now=now)


def delete_window(org_id: str, window_id: str) -> None:
    record = get_window(org_id, window_id)
    record.delete()
    _forget(org_id)
    move_services(org_id, window_of(record).service_ids or None, now=now_seconds())


def delete_all_windows(org_id: str) -> None:
    """For org deletion."""
    with MaintenanceWindowRecord.batch_write() as batch:
        for record in MaintenanceWindowRecord.query(org_id, attributes_to_get=["org_id", "window_id"]):
            batch.delete(record)


def _save_unchanged(record: MaintenanceWindowRecord, version: int) -> None:
    try:
        record.save(condition=MaintenanceWindowRecord.version == version)
    except PutError as exc:
        if condition_failed(exc):
            raise Conflict("the window changed meanwhile; try again") from exc
        raise


def _refuse_other_services(org_id: str, service_ids: Sequence[str]) -> None:
    """Every id must be a service of this org (one BatchGetItem); 400 naming the first that is not."""
    wanted = list(dict.fromkeys(service_ids))
    if not wanted:
        return
    found = {
        s.service_id
        for s in Service.batch_get(
            [(org_id, service_id) for service_id in wanted],
            consistent_read=True,
            attributes_to_get=["org_id", "service_id"],
        )
    }
    for index, service_id in enumerate(service_ids):
        if service_id not in found:
            raise InvalidInput("is not a service of this organization", field=f"service_ids.{index}")


# ---- moving services in and out -----------------------------------------------------------------


def sweep_due(*, now: int) -> int:
    """The minute schedule: every window whose next start or end has come moves its services, then
    waits for its next change. Returns the windows handled."""
    handled = 0
    for key in MaintenanceWindowRecord.by_next_change.query(
        SWEEP_DUE, MaintenanceWindowRecord.next_change_at <= now
    ):
        try:
            record = MaintenanceWindowRecord.get(key.org_id, key.window_id, consistent_read=True)
        except DoesNotExist:
            continue
        if record.next_change_at is None or int(record.next_change_at) > now:
            continue  # changed meanwhile
        _forget(record.org_id)
        window = window_of(record)
        move_services(record.org_id, window.service_ids or None, now=now)
        _tell_subscribers(record, window, now=now, starting_only=True)
        previous = int(record.next_change_at)
        _schedule_sweep(record, window, now=now)
        actions: list[Any] = [MaintenanceWindowRecord.expires_at.remove()]
        if record.next_change_at is None:
            actions = [
                MaintenanceWindowRecord.sweep.remove(),
                MaintenanceWindowRecord.next_change_at.remove(),
                MaintenanceWindowRecord.expires_at.set(record.expires_at),
            ]
        else:
            actions.append(MaintenanceWindowRecord.next_change_at.set(record.next_change_at))
        try:
            record.update(actions=actions, condition=MaintenanceWindowRecord.next_change_at == previous)
        except UpdateError as exc:
            if not condition_failed(exc):
                raise  # else a PATCH or `end` rescheduled it already
        handled += 1
    return handled


def move_services(org_id: str, service_ids: Iterable[str] | None, *, now: int) -> int:
    """Puts each service (None: every service of the org) in or out of ``maintenance`` as the org's
    windows say at ``now``; returns how many moved. Idempotent."""
    windows = windows_of(org_id, fresh=True)
    if service_ids is None:
        services: Iterable[Service] = Service.query(org_id, consistent_read=True)
    else:
        keys = [(org_id, s) for s in service_ids]
        services = Service.batch_get(keys, consistent_read=True) if keys else []
    moved = 0
    for service in services:
        if _move(service, windows, now=now):
            moved += 1
    return moved


def _move(service: Service, windows: list[MaintenanceWindow], *, now: int) -> bool:
    for _ in range(MAX_MOVE_ATTEMPTS):
        inside = service.status == MonitorStatus.MAINTENANCE.value
        wanted = bool(service.enabled) and domain.in_maintenance(service.service_id, windows, now)
        if inside == wanted:
            return False
        condition = Service.version == service.version
        if wanted:
            actions: list[Any] = [
                Service.status.set(MonitorStatus.MAINTENANCE.value),
                Service.status_before_maintenance.set(service.status),
            ]
        else:
            restored = service.status_before_maintenance or MonitorStatus.PENDING.value
            actions = [
                Service.status.set(restored),
                Service.status_before_maintenance.remove(),
                Service.last_counted_at.set(max(int(service.last_counted_at or 0), now)),
            ]
        actions += [
            Service.consecutive_failures.set(0),
            Service.consecutive_successes.set(0),
            Service.version.add(1),
        ]
        try:
            service.update(actions=actions, condition=condition)
            logger.info(
                "service in maintenance" if wanted else "service out of maintenance",
                extra={"org_id": service.org_id, "service_id": service.service_id},
            )
            return True
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
        try:
            service = Service.get(service.org_id, service.service_id, consistent_read=True)
        except Service.DoesNotExist:
            return False
    logger.warning("gave up moving a service for maintenance", extra={"service_id": service.service_id})
    return False
