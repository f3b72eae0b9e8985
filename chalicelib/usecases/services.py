"""Services (monitors): create, read, change, delete, and probe on demand."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, fields
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from chalicelib.adapters import probe_queue
from chalicelib.adapters.probe_queue import ProbeJob, ProbeMessage
from chalicelib.domain.checks import CheckRecord
from chalicelib.domain.clock import now_seconds
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound
from chalicelib.domain.ids import new_id
from chalicelib.domain.metrics import ServiceMetrics
from chalicelib.domain.monitoring import MonitorStatus
from chalicelib.domain.schedule import phase_offset
from chalicelib.domain.service_config import (
    HEARTBEAT_FIELDS,
    PROBE_FIELDS,
    ServiceConfig,
    check_service_config,
)
from chalicelib.models.checks import DailyRollup, HourBucket, service_key
from chalicelib.models.services import SCHEDULER_PARTITION, SchedulerState, Service, config_of
from chalicelib.settings import settings
from chalicelib.usecases import heartbeats, history, incidents, policies, targets
from chalicelib.usecases.dynamo import condition_failed
from chalicelib.usecases.pagination import Page, fetch_page

logger = Logger(service="vigil", child=True, level=settings.log_level)

CONFIG_FIELDS = tuple(f.name for f in fields(ServiceConfig))


def _checked(org_id: str, config: ServiceConfig, *, before: ServiceConfig | None = None) -> ServiceConfig:
    config = check_service_config(
        config,
        min_interval=settings.min_interval_seconds,
        allow_private=settings.allow_private_targets,
        min_heartbeat_seconds=settings.min_heartbeat_seconds,
    )
    if not settings.allow_private_targets and not config.is_heartbeat:
        targets.refuse_private_resolution([("url", config.url)])
    policy_id = config.escalation_policy_id
    # Checked when written: a policy deleted later leaves the service falling back to match rules.
    if policy_id is not None and (before is None or policy_id != before.escalation_policy_id):
        policies.require_policy(org_id, policy_id, field="escalation_policy_id")
    return config


def _register_interval(interval: int) -> None:
    SchedulerState(SCHEDULER_PARTITION, "state").update(actions=[SchedulerState.intervals.add({interval})])


def _schedule_fields(service_id: str, config: ServiceConfig) -> dict[str, int | None]:
    if not config.enabled or config.is_heartbeat:  # heartbeats are pinged, never probed
        return {"sched_interval": None, "sched_offset": None}
    return {
        "sched_interval": config.interval_seconds,
        "sched_offset": phase_offset(service_id, config.interval_seconds),
    }


def create_service(org_id: str, actor_id: str, config: ServiceConfig) -> Service:
    config = _checked(org_id, config)
    now = now_seconds()
    service_id = new_id()
    values: dict[str, Any] = {**_stored_fields(config), **_schedule_fields(service_id, config)}
    service = Service(
        org_id,
        service_id,
        **values,
        created_at=now,
        updated_at=now,
        created_by=actor_id,
        status=(MonitorStatus.PENDING if config.enabled else MonitorStatus.PAUSED).value,
    )
    if config.is_heartbeat:
        heartbeats.create_heartbeat(service)
        logger.info("heartbeat created", extra={"org_id": org_id, "service_id": service_id})
        return service
    if config.enabled:
        _register_interval(config.interval_seconds)
    service.save(condition=Service.service_id.does_not_exist())
    if config.enabled:
        enqueue_check(service, now=now)  # a new monitor is checked at once, not at its next slot
    logger.info("service created", extra={"org_id": org_id, "service_id": service_id})
    return service


def list_services(org_id: str, *, limit: int, cursor: str | None) -> Page[Service]:
    return fetch_page(
        lambda **kw: Service.query(org_id, scan_index_forward=False, **kw),
        limit=limit,
        cursor=cursor,
        scope=f"services:{org_id}",
    )


def all_services(org_id: str) -> list[Service]:
    return list(Service.query(org_id))


def get_service(org_id: str, service_id: str) -> Service:
    if org_id == SCHEDULER_PARTITION:
        raise NotFound("service not found")
    try:
        return Service.get(org_id, service_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound("service not found") from exc


def update_service(org_id: str, service_id: str, changes: Mapping[str, Any]) -> Service:
    service = get_service(org_id, service_id)
    before = config_of(service)
    check_type_change(before, changes)
    if before.is_heartbeat:  # a heartbeat runs on a period or a cron expression: one drops the other
        if "cron" in changes and "period_seconds" not in changes:
            changes = {**changes, "period_seconds": None}
        elif "period_seconds" in changes and "cron" not in changes:
            changes = {**changes, "cron": None}
    after = _checked(org_id, before.with_changes(changes), before=before)
    actions: list[Any] = [
        getattr(Service, name).set(value)
        for name, value in _stored_fields(after).items()
        if value != getattr(before, name) and value is not None
    ]
    actions += [
        getattr(Service, name).remove()
        for name, value in _stored_fields(after).items()
        if value is None and getattr(before, name) is not None
    ]
    if not actions:
        return service
    now = now_seconds()
    actions += [Service.updated_at.set(now), Service.version.add(1)]
    schedule_changed = (before.enabled, before.interval_seconds) != (after.enabled, after.interval_seconds)
    if schedule_changed:
        for name, value in _schedule_fields(service_id, after).items():
            attribute = getattr(Service, name)
            actions.append(attribute.set(value) if value is not None else attribute.remove())
    if after.url != before.url:  # another host, maybe: its certificate is read at the next check
        actions += [Service.tls.remove(), Service.tls_read_at.remove()]
    if before.enabled and not after.enabled:
        actions += _pause_actions()
    elif after.enabled and not before.enabled:
        actions += _resume_actions()
    if after.is_heartbeat:
        actions += heartbeats.actions_after_update(service, after)
    elif after.enabled and schedule_changed:
        _register_interval(after.interval_seconds)
    try:
        service.update(actions=actions, condition=Service.version == service.version)
    except UpdateError as exc:
        if condition_failed(exc):
            raise Conflict("the service changed meanwhile; read it again", field="service_id") from exc
        raise
    if before.enabled and not after.enabled and service.open_incident_id:
        incidents.resolve_monitor_incident(org_id, service.open_incident_id, note="monitor paused", now=now)
    if after.enabled and not before.enabled and not after.is_heartbeat:
        enqueue_check(service, now=now)
    return get_service(org_id, service_id)


def _stored_fields(config: ServiceConfig) -> dict[str, Any]:
    """The config's fields a service of its type keeps (a heartbeat has no probe fields, and back)."""
    other = PROBE_FIELDS if config.is_heartbeat else HEARTBEAT_FIELDS
    return {name: value for name, value in asdict(config).items() if name not in other}


def _pause_actions() -> list[Any]:
    return [
        Service.status.set(MonitorStatus.PAUSED.value),
        Service.consecutive_failures.set(0),
        Service.consecutive_successes.set(0),
        Service.down_since.remove(),
        Service.open_incident_id.remove(),
    ]


def _resume_actions() -> list[Any]:
    return [
        Service.status.set(MonitorStatus.PENDING.value),
        Service.consecutive_failures.set(0),
        Service.consecutive_successes.set(0),
    ]


def delete_service(org_id: str, service_id: str) -> None:
    service = get_service(org_id, service_id)
    service.delete()
    if service.is_heartbeat:
        heartbeats.forget_token(service)
    key = service_key(org_id, service_id)
    with DailyRollup.batch_write() as rollups:
        for rollup in DailyRollup.query(key, attributes_to_get=["service_key", "day"]):
            rollups.delete(rollup)
    with HourBucket.batch_write() as buckets:
        for bucket in HourBucket.query(key, attributes_to_get=["service_key", "hour"]):
            buckets.delete(bucket)
    logger.info("service deleted", extra={"org_id": org_id, "service_id": service_id})


def delete_all_services(org_id: str) -> None:
    for service in Service.query(org_id, attributes_to_get=["org_id", "service_id"]):
        delete_service(org_id, service.service_id)


def enqueue_check(service: Service, *, now: int) -> None:
    job = ProbeJob(org_id=service.org_id, service_id=service.service_id, scheduled_at=now)
    probe_queue.send([ProbeMessage(jobs=(job,), delay_seconds=0)])


def check_now(org_id: str, service_id: str) -> Service:
    service = get_service(org_id, service_id)
    if service.is_heartbeat:
        raise Conflict("a heartbeat is not probed: the job it watches pings it", field="type")
    if not service.enabled:
        raise Conflict("the service is paused; enable it first", field="enabled")
    enqueue_check(service, now=now_seconds())
    return service


def check_type_change(before: ServiceConfig, changes: Mapping[str, Any]) -> None:
    """`type` never changes (409); the other kind's fields are refused (400 naming the field)."""
    new_type = changes.get("type", before.type)
    if new_type != before.type:
        raise Conflict(f"a service's type cannot change (it is {before.type!r})", field="type")
    refused = PROBE_FIELDS if before.is_heartbeat else HEARTBEAT_FIELDS
    for name in changes:
        if name in refused:
            raise InvalidInput(f"is not a field of a {before.type} service", field=name)


def rotate_ping_token(org_id: str, service_id: str) -> Service:
    service = get_service(org_id, service_id)
    if not service.is_heartbeat:
        raise Conflict("only a heartbeat has a ping token", field="type")
    try:
        return heartbeats.rotate_token(service)
    except TransactWriteError as exc:
        if condition_failed(exc):
            raise Conflict("the service changed meanwhile; try again", field="service_id") from exc
        raise


# ---- history, for the API: one call per route -----------------------------------------------------


def recent_checks(
    org_id: str, service_id: str, *, hours: int, now: int, limit: int, cursor: str | None
) -> Page[CheckRecord]:
    """404 for a service that is not this org's."""
    return history.recent_checks(
        get_service(org_id, service_id), hours=hours, now=now, limit=limit, cursor=cursor
    )


def metrics(org_id: str, service_id: str, *, days: int, now: int) -> ServiceMetrics:
    return history.metrics_for(get_service(org_id, service_id), days=days, now=now)


def org_metrics(org_id: str, *, days: int, now: int) -> tuple[list[ServiceMetrics], dict[str, object]]:
    return history.org_metrics(all_services(org_id), days=days, now=now)
