"""Incidents: reading them, and the ones monitors open and resolve."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.clock import now_seconds
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound
from chalicelib.domain.ids import new_id
from chalicelib.domain.incidents import (
    SEVERITIES,
    Action,
    Status,
    allowed_from,
    check_snooze_minutes,
    transition,
)
from chalicelib.models.checks import service_key
from chalicelib.models.incidents import DUE_PARTITION, Incident, IncidentEvent
from chalicelib.models.orgs import Membership
from chalicelib.models.services import Service
from chalicelib.settings import settings
from chalicelib.usecases import policies
from chalicelib.usecases.classification import categorize
from chalicelib.usecases.dynamo import condition_failed, transaction_connection
from chalicelib.usecases.pagination import Page, fetch_page

logger = Logger(service="vigil", child=True, level=settings.log_level)

STATUSES = tuple(status.value for status in Status)


def get_incident(org_id: str, incident_id: str) -> Incident:
    try:
        return Incident.get(org_id, incident_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound("incident not found") from exc


def list_incidents(
    org_id: str,
    *,
    status: str | None,
    severity: str | None,
    service_id: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Incident]:
    """Newest first, through the index that fits the filters (never a Scan)."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"must be one of {', '.join(STATUSES)}", field="status")
    if severity is not None and severity not in SEVERITIES:
        raise InvalidInput(f"must be one of {', '.join(SEVERITIES)}", field="severity")
    conditions: list[Any] = []
    if severity is not None:
        conditions.append(Incident.severity == severity)
    if service_id is not None and status is not None:
        conditions.append(Incident.service_id == service_id)
    filter_condition = None
    for condition in conditions:
        filter_condition = condition if filter_condition is None else filter_condition & condition
    scope = f"incidents:{org_id}:{status}:{severity}:{service_id}"
    if status is not None:
        return fetch_page(
            lambda **kw: Incident.by_status.query(
                Incident.status_key(org_id, status),
                scan_index_forward=False,
                filter_condition=filter_condition,
                **kw,
            ),
            limit=limit,
            cursor=cursor,
            scope=scope,
        )
    if service_id is not None:
        return fetch_page(
            lambda **kw: Incident.by_service.query(
                service_key(org_id, service_id),
                scan_index_forward=False,
                filter_condition=filter_condition,
                **kw,
            ),
            limit=limit,
            cursor=cursor,
            scope=scope,
        )
    return fetch_page(
        lambda **kw: Incident.query(
            org_id, scan_index_forward=False, filter_condition=filter_condition, **kw
        ),
        limit=limit,
        cursor=cursor,
        scope=scope,
    )


def monitor_category(error: str | None, status_code: int | None) -> str:
    """A failed check says more than its words: the service answered badly ('server'), or it could
    not be reached at all ('network'); TLS and DNS failures are network ones too."""
    return "server" if status_code is not None else "network"


def escalation_fields(
    org_id: str, *, severity: str, service_id: str | None, service_policy_id: str | None, created_at: int
) -> dict[str, Any]:
    """The attributes a new incident carries so that its policy's step 0 fires at once: a snapshot
    of the policy (later edits do not change an escalation already running). Empty without one."""
    snapshot = policies.policy_for_new_incident(
        org_id, severity=severity, service_id=service_id, service_policy_id=service_policy_id
    )
    if snapshot is None:
        return {}
    return {
        "esc_policy": snapshot.to_dict(),
        "esc_next_step": 0,
        "esc_next_loop": 0,
        "esc_next_at": created_at,
        "due_partition": DUE_PARTITION,
        "due_at": created_at,
    }


def new_open_incident(
    org_id: str,
    incident_id: str,
    *,
    title: str,
    description: str,
    severity: str,
    category: str,
    source: str,
    service_id: str | None,
    service_policy_id: str | None,
    dedup_key: str | None,
    dedup_indexed: bool,
    alert_count: int,
    created_at: int,
    integration_id: str | None = None,
) -> Incident:
    """A new open incident as every source makes one: listed by status and service, in the dedup
    index when ``dedup_indexed`` (alerts keep their own, per integration), and carrying its
    policy's snapshot with step 0 due at once."""
    return Incident(
        org_id,
        incident_id,
        title=title,
        description=description,
        severity=severity,
        status=Status.OPEN.value,
        org_status=Incident.status_key(org_id, Status.OPEN.value),
        category=category,
        source=source,
        service_id=service_id,
        service_key=service_key(org_id, service_id) if service_id else None,
        dedup_key=dedup_key,
        org_dedup=Incident.dedup_index_key(org_id, dedup_key) if dedup_key and dedup_indexed else None,
        integration_id=integration_id,
        alert_count=alert_count,
        created_at=created_at,
        version=0,
        **escalation_fields(
            org_id,
            severity=severity,
            service_id=service_id,
            service_policy_id=service_policy_id,
            created_at=created_at,
        ),
    )


def new_monitor_incident(
    *,
    org_id: str,
    service_id: str,
    service_name: str,
    url: str,
    severity: str,
    at: int,
    error: str | None,
    status_code: int | None,
    escalation_policy_id: str | None = None,
) -> Incident:
    reason = error or "check failed"
    return new_open_incident(
        org_id,
        new_id(now_ms=at * 1000),
        title=f"{service_name} is down",
        description=f"{url} failed its checks: {reason}",
        severity=severity,
        category=monitor_category(error, status_code),
        source="monitor",
        service_id=service_id,
        service_policy_id=escalation_policy_id,
        dedup_key=f"monitor:{service_id}",
        dedup_indexed=True,
        alert_count=1,
        created_at=at,
    )


def resolve_actions(org_id: str, *, at: int, note: str | None) -> list[Any]:
    """A resolved incident leaves the dedup and due indexes: nothing more groups into it or fires."""
    actions = [
        Incident.status.set("resolved"),
        Incident.org_status.set(Incident.status_key(org_id, "resolved")),
        Incident.resolved_at.set(at),
        Incident.version.add(1),
        Incident.org_dedup.remove(),
        Incident.due_partition.remove(),
        Incident.due_at.remove(),
        Incident.snoozed_until.remove(),
    ]
    if note:
        actions.append(Incident.resolution_note.set(note))
    return actions


def timeline_event(
    incident: Incident, kind: str, *, at: int, actor_id: str | None, **data: Any
) -> IncidentEvent:
    return IncidentEvent(
        incident.key,
        new_id(),  # ordered by when it was written, to the millisecond
        at=at,
        type=kind,
        actor_id=actor_id,
        data={k: v for k, v in data.items() if v is not None},
    )


def resolve_monitor_incident(org_id: str, incident_id: str, *, note: str, now: int) -> None:
    """Resolves it unless someone already did (then nothing changes)."""
    incident = Incident(org_id, incident_id)
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.update(
                incident,
                actions=resolve_actions(org_id, at=now, note=note),
                condition=Incident.incident_id.exists() & (Incident.status != "resolved"),
            )
            tx.save(timeline_event(incident, "resolved", at=now, actor_id=None, note=note))
    except TransactWriteError as exc:
        if not condition_failed(exc):
            raise


# ---- the lifecycle ------------------------------------------------------------------------------


def create_incident(
    org_id: str,
    *,
    actor_id: str,
    title: str,
    description: str,
    severity: str,
    service_id: str | None,
    dedup_key: str | None,
) -> Incident:
    now = now_seconds()
    service_policy_id = _service_policy(org_id, service_id)  # 400 for a service of another org
    if dedup_key and open_incident_with_dedup_key(org_id, dedup_key) is not None:
        raise Conflict("an incident that is not resolved already has this dedup_key", field="dedup_key")
    incident = new_open_incident(
        org_id,
        new_id(),
        title=title,
        description=description,
        severity=severity,
        category=categorize(title, description),
        source="manual",
        service_id=service_id,
        service_policy_id=service_policy_id,
        dedup_key=dedup_key,
        dedup_indexed=True,
        alert_count=0,
        created_at=now,
    )
    with TransactWrite(connection=transaction_connection()) as tx:
        tx.save(incident, condition=Incident.incident_id.does_not_exist())
        tx.save(timeline_event(incident, "created", at=now, actor_id=actor_id, source="manual"))
    logger.info("incident created", extra={"org_id": org_id, "incident_id": incident.incident_id})
    return incident


def _service_policy(org_id: str, service_id: str | None) -> str | None:
    try:
        return service_escalation_policy(org_id, service_id)
    except DoesNotExist as exc:
        raise InvalidInput("is not a service of this organization", field="service_id") from exc


def service_escalation_policy(org_id: str, service_id: str | None) -> str | None:
    """The policy a service names (None without a service); DoesNotExist for no such service."""
    if service_id is None:
        return None
    return Service.get(org_id, service_id).escalation_policy_id


def open_incident_with_dedup_key(org_id: str, dedup_key: str) -> Incident | None:
    for entry in Incident.by_dedup.query(Incident.dedup_index_key(org_id, dedup_key), limit=1):
        return get_incident(org_id, entry.incident_id)
    return None


def _move(
    incident: Incident,
    action: Action,
    *,
    actor_id: str | None,
    extra_actions: list[Any] | None = None,
    event_type: str,
    event_data: dict[str, Any] | None = None,
    now: int,
) -> Incident:
    """One conditional transaction: the status moves only from where it was read, and the timeline
    entry is written with it, so two concurrent acknowledgements leave one entry."""
    current = Status(incident.status)
    target = transition(current, action)
    if target is None:
        return incident
    actions = list(extra_actions or [])
    if target is Status.RESOLVED:
        actions += resolve_actions(incident.org_id, at=now, note=(event_data or {}).get("note"))
    else:
        actions += [
            Incident.status.set(target.value),
            Incident.org_status.set(Incident.status_key(incident.org_id, target.value)),
            Incident.version.add(1),
        ]
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.update(
                incident,
                actions=actions,
                condition=(Incident.version == incident.version)
                & Incident.status.is_in(*allowed_from(action)),
            )
            tx.save(timeline_event(incident, event_type, at=now, actor_id=actor_id, **(event_data or {})))
    except TransactWriteError as exc:
        if not condition_failed(exc):
            raise
        fresh = get_incident(incident.org_id, incident.incident_id)
        if fresh.version == incident.version:
            raise
        return _move(
            fresh,
            action,
            actor_id=actor_id,
            extra_actions=extra_actions,
            event_type=event_type,
            event_data=event_data,
            now=now,
        )
    return get_incident(incident.org_id, incident.incident_id)


def acknowledge(
    org_id: str, incident_id: str, *, actor_id: str | None, via: dict[str, Any] | None = None
) -> Incident:
    """``actor_id`` None with ``via`` (which integration, which event) when an alert acknowledges."""
    now = now_seconds()
    incident = get_incident(org_id, incident_id)
    return _move(
        incident,
        Action.ACKNOWLEDGE,
        actor_id=actor_id,
        extra_actions=[
            Incident.acknowledged_at.set(now),
            Incident.snoozed_until.remove(),
            Incident.due_partition.remove(),
            Incident.due_at.remove(),
        ],
        event_type="acknowledged",
        event_data=via,
        now=now,
    )


def resolve(
    org_id: str,
    incident_id: str,
    *,
    actor_id: str | None,
    note: str | None,
    via: dict[str, Any] | None = None,
) -> Incident:
    incident = get_incident(org_id, incident_id)
    if incident.status == Status.RESOLVED.value:
        raise Conflict("the incident is already resolved", field="status")
    return _move(
        incident,
        Action.RESOLVE,
        actor_id=actor_id,
        event_type="resolved",
        event_data={"note": note, **(via or {})},
        now=now_seconds(),
    )


def snooze(org_id: str, incident_id: str, *, actor_id: str, minutes: int) -> Incident:
    check_snooze_minutes(minutes)
    now = now_seconds()
    until = now + minutes * 60
    incident = get_incident(org_id, incident_id)
    return _move(
        incident,
        Action.SNOOZE,
        actor_id=actor_id,
        extra_actions=[
            Incident.snoozed_until.set(until),
            Incident.due_partition.set(DUE_PARTITION),
            Incident.due_at.set(until),
        ],
        event_type="snoozed",
        event_data={"minutes": minutes, "until": until},
        now=now,
    )


def wake_one(incident: Incident, *, now: int) -> bool:
    """Back to open, and escalation resumes where it stopped (its next step, if any, is due again)."""
    if (
        incident.status != Status.SNOOZED.value
        or incident.snoozed_until is None
        or incident.snoozed_until > now
    ):
        return False
    resume: list[Any]
    if incident.esc_next_at is not None:
        resume = [Incident.due_at.set(max(int(incident.esc_next_at), now))]
    else:
        resume = [Incident.due_partition.remove(), Incident.due_at.remove()]
    try:
        _move(
            incident,
            Action.WAKE,
            actor_id=None,
            extra_actions=[Incident.snoozed_until.remove(), *resume],
            event_type="reopened",
            event_data={"reason": "snooze ended"},
            now=now,
        )
    except Conflict:
        return False  # acknowledged or resolved meanwhile
    return True


def get_incident_or_none(org_id: str, incident_id: str) -> Incident | None:
    try:
        return Incident.get(org_id, incident_id, consistent_read=True)
    except DoesNotExist:
        return None


def assign(org_id: str, incident_id: str, *, actor_id: str, assignee_id: str) -> Incident:
    try:
        Membership.get(org_id, assignee_id)
    except DoesNotExist as exc:
        raise InvalidInput("is not a member of this organization", field="user_id") from exc
    incident = get_incident(org_id, incident_id)
    now = now_seconds()
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.update(
                incident,
                actions=[Incident.assignee_id.set(assignee_id), Incident.version.add(1)],
                condition=Incident.incident_id.exists(),
            )
            tx.save(timeline_event(incident, "assigned", at=now, actor_id=actor_id, assignee_id=assignee_id))
    except TransactWriteError as exc:
        if condition_failed(exc):
            raise NotFound("incident not found") from exc
        raise
    return get_incident(org_id, incident_id)


_EDITABLE = ("title", "description", "severity", "category")


def update_incident(org_id: str, incident_id: str, *, actor_id: str, changes: dict[str, Any]) -> Incident:
    incident = get_incident(org_id, incident_id)
    changed = {k: v for k, v in changes.items() if k in _EDITABLE and getattr(incident, k) != v}
    if not changed:
        return incident
    now = now_seconds()
    events = []
    if "severity" in changed:
        events.append(
            timeline_event(
                incident,
                "severity_changed",
                at=now,
                actor_id=actor_id,
                **{"from": incident.severity, "to": changed["severity"]},
            )
        )
    others = {k: v for k, v in changed.items() if k != "severity"}
    if others:
        events.append(timeline_event(incident, "updated", at=now, actor_id=actor_id, fields=sorted(others)))
    actions = [getattr(Incident, k).set(v) for k, v in changed.items()] + [Incident.version.add(1)]
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.update(incident, actions=actions, condition=Incident.version == incident.version)
            for event in events:
                tx.save(event)
    except TransactWriteError as exc:
        if condition_failed(exc):
            raise Conflict("the incident changed meanwhile; read it again", field="incident_id") from exc
        raise
    return get_incident(org_id, incident_id)


def add_comment(org_id: str, incident_id: str, *, actor_id: str, body: str) -> IncidentEvent:
    incident = get_incident(org_id, incident_id)
    event = timeline_event(incident, "comment", at=now_seconds(), actor_id=actor_id, body=body)
    event.save()
    return event


def timeline(org_id: str, incident_id: str, *, limit: int, cursor: str | None) -> Page[IncidentEvent]:
    incident = get_incident(org_id, incident_id)
    return fetch_page(
        lambda **kw: IncidentEvent.query(incident.key, **kw),
        limit=limit,
        cursor=cursor,
        scope=f"timeline:{incident.key}",
    )
