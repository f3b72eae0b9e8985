"""Incidents: reading them, and every change of their state.

Each transition (open, group an alert, acknowledge, resolve, snooze, wake, escalate, assign,
update) is decided in ``domain/transitions.py`` and written here, by ``add_transition``: one
conditional write of the incident plus its timeline entries, in one transaction. The API, the
checker, the alert consumer and escalation all go through it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain import transitions
from chalicelib.domain.clock import now_seconds
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound
from chalicelib.domain.ids import new_id
from chalicelib.domain.incidents import SEVERITIES, Status, check_snooze_minutes
from chalicelib.domain.transitions import NOTIFIED_STATUSES, Change, Entry, EntryType, Source
from chalicelib.models.checks import service_key
from chalicelib.models.incidents import DUE_PARTITION, Incident, IncidentEvent
from chalicelib.models.notifications import Notification
from chalicelib.models.orgs import Membership
from chalicelib.models.services import Service
from chalicelib.settings import settings
from chalicelib.usecases import notifications, policies
from chalicelib.usecases.classification import categorize
from chalicelib.usecases.dynamo import condition_failed, transaction_connection
from chalicelib.usecases.notifications import Recipient
from chalicelib.usecases.pagination import Page, fetch_page

logger = Logger(service="vigil", child=True, level=settings.log_level)

STATUSES = tuple(status.value for status in Status)
ALERT_ENTRY_SUFFIX = "A"  # after the event id: a new incident's `created` entry, then its `alert`


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
        source=Source.MONITOR.value,
        service_id=service_id,
        service_policy_id=escalation_policy_id,
        dedup_key=f"monitor:{service_id}",
        dedup_indexed=True,
        alert_count=1,
        created_at=at,
    )


# ---- one home for every transition's write ------------------------------------------------------


def update_actions(org_id: str, change: Change) -> list[Any]:
    """The UpdateItem actions of a change (the record's index keys follow its status and times)."""
    actions: list[Any] = []
    if change.status is not None:
        actions += [
            Incident.status.set(change.status.value),
            Incident.org_status.set(Incident.status_key(org_id, change.status.value)),
        ]
    actions += [getattr(Incident, name).set(value) for name, value in change.sets.items()]
    actions += [getattr(Incident, name).remove() for name in change.removes]
    actions += [getattr(Incident, name).add(amount) for name, amount in change.adds.items()]
    if change.due_at is not None:
        actions += [Incident.due_partition.set(DUE_PARTITION), Incident.due_at.set(change.due_at)]
    elif change.leaves_due:
        actions += [Incident.due_partition.remove(), Incident.due_at.remove()]
    if change.leaves_dedup:
        actions.append(Incident.org_dedup.remove())
    if change.new_version:
        actions.append(Incident.version.add(1))
    return actions


def update_condition(change: Change, *, expected_version: int | None = None) -> Any:
    """The status it may start from (a missing incident fails it too), what else the change
    expects, and, when given, the version it was decided on."""
    condition: Any = Incident.incident_id.exists()
    if change.from_statuses is not None:
        condition = Incident.status.is_in(*sorted(status.value for status in change.from_statuses))
    for name, value in change.expects.items():
        condition &= getattr(Incident, name) == value
    if expected_version is not None:
        condition &= Incident.version == expected_version
    return condition


def timeline_entry(
    incident: Incident, entry: Entry, *, at: int, actor_id: str | None, entry_id: str | None = None
) -> IncidentEvent:
    return IncidentEvent(
        incident.key,
        entry_id or new_id(),  # ordered by when it was written, to the millisecond
        at=at,
        type=entry.type.value,
        actor_id=actor_id,
        data={k: v for k, v in entry.data.items() if v is not None},
    )


def add_transition(
    tx: TransactWrite,
    incident: Incident,
    change: Change,
    *,
    at: int,
    actor_id: str | None,
    expected_version: int | None = None,
    entry_ids: Sequence[str] = (),
    entries_once: bool = False,
) -> list[IncidentEvent]:
    """Adds a change to a transaction: the incident's write (a conditional put for a new one, else
    a conditional update) and its timeline entries, so neither is ever written without the other.
    ``entry_ids`` name the entries (an alert's event id), ``entries_once`` makes writing them again
    fail the transaction (a message delivered twice). The caller may add more items (a service,
    a rollup) to the same transaction."""
    if change.creates:
        tx.save(incident, condition=Incident.incident_id.does_not_exist())
    else:
        tx.update(
            incident,
            actions=update_actions(incident.org_id, change),
            condition=update_condition(change, expected_version=expected_version),
        )
    entries = [
        timeline_entry(
            incident,
            entry,
            at=at,
            actor_id=actor_id,
            entry_id=entry_ids[index] if index < len(entry_ids) else None,
        )
        for index, entry in enumerate(change.entries)
    ]
    for entry in entries:
        tx.save(entry, condition=IncidentEvent.event_id.does_not_exist() if entries_once else None)
    return entries


def write_transition(incident: Incident, change: Change, **options: Any) -> None:
    """``add_transition`` in a transaction of its own; TransactWriteError when a condition fails."""
    with TransactWrite(connection=transaction_connection()) as tx:
        add_transition(tx, incident, change, **options)


def resolve_monitor_incident(org_id: str, incident_id: str, *, note: str, now: int) -> None:
    """Resolves it unless someone already did (then nothing changes)."""
    incident = get_incident_or_none(org_id, incident_id)
    if incident is None or incident.status == Status.RESOLVED.value:
        return
    try:
        write_transition(
            incident, transitions.resolve(Status(incident.status), now=now, note=note), at=now, actor_id=None
        )
    except TransactWriteError as exc:
        if not condition_failed(exc):
            raise


# ---- alerts (for the alert queue's consumer) ----------------------------------------------------


def open_from_alert(
    org_id: str,
    incident_id: str,
    *,
    event_id: str,
    title: str,
    description: str,
    severity: str,
    service_id: str | None,
    dedup_key: str,
    integration_id: str,
    integration_name: str,
    alert: Mapping[str, Any],
    now: int,
) -> bool:
    """A new incident from an alert: its ``created`` entry under ``event_id`` and the alert's entry
    (``alert``: ``transitions.alert_entry_data(...)``) right after it. False when an earlier
    delivery of the same alert opened it already."""
    try:
        service_policy_id = service_escalation_policy(org_id, service_id)
    except DoesNotExist:
        service_policy_id = None  # the service was deleted since; the org's rules still apply
    incident = new_open_incident(
        org_id,
        incident_id,
        title=title,
        description=description,
        severity=severity,
        category=categorize(title, description),
        source=Source.ALERT.value,
        service_id=service_id,
        service_policy_id=service_policy_id,
        dedup_key=dedup_key,
        dedup_indexed=False,  # alerts keep their own claims, per integration
        integration_id=integration_id,
        alert_count=1,
        created_at=now,
    )
    created = transitions.opened(Source.ALERT, integration_id=integration_id, integration=integration_name)
    alert_change = transitions.group_alert(Status.OPEN, alert)
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            add_transition(tx, incident, created, at=now, actor_id=None, entry_ids=[event_id])
            (entry,) = alert_change.entries
            tx.save(
                timeline_entry(incident, entry, at=now, actor_id=None, entry_id=event_id + ALERT_ENTRY_SUFFIX)
            )
    except TransactWriteError as exc:
        if condition_failed(exc):
            return False
        raise
    logger.info(
        "incident opened by an alert",
        extra={"org_id": org_id, "incident_id": incident_id, "integration_id": integration_id},
    )
    return True


def group_alert(incident: Incident, *, event_id: str, alert: Mapping[str, Any], now: int) -> bool:
    """One more alert on an incident that is not resolved: its entry (under ``event_id``) and
    ``alert_count`` + 1, together. True when grouped (now or by an earlier delivery); False when
    the incident was resolved meanwhile (the caller looks again)."""
    try:
        change = transitions.group_alert(Status(incident.status), alert)
    except Conflict:
        return False
    try:
        write_transition(incident, change, at=now, actor_id=None, entry_ids=[event_id], entries_once=True)
    except TransactWriteError as exc:
        if condition_failed(exc, index=1):
            return True  # this very alert was grouped already
        if condition_failed(exc):
            return False
        raise
    return True


# ---- the people paged hear of each acknowledgement and resolution -------------------------------


def tell_paged(incident: Incident, *, status: Status, version: int) -> None:
    """A notice to everyone an escalation step reached, once per transition: keyed on the version
    the transition wrote, so the API (right after the change) and the stream's MODIFY (and any
    replay of it) send it once, while a later acknowledgement (after a snooze ran out) sends
    another."""
    if status not in NOTIFIED_STATUSES:
        return
    paged: dict[tuple[str, str], Recipient] = {}
    for sent in notifications.notifications_for(incident.org_id, incident.incident_id):
        if sent.kind == "escalation" and sent.status != "failed":
            paged.setdefault((sent.channel, sent.target), Recipient(sent.channel, sent.target, sent.user_id))
    if paged:
        notifications.queue_notifications(
            incident,
            recipients=list(paged.values()),
            kind=status.value,
            step=version,
            loop=0,
            reason=f"the incident was {status.value}",
        )


def on_status_change(org_id: str, incident_id: str, *, old: str, new: str, version: int) -> None:
    """The stream's MODIFY of a status; ``version`` is the one in its new image."""
    if old == new or new not in NOTIFIED_STATUSES:
        return
    incident = get_incident_or_none(org_id, incident_id)
    if incident is not None:
        tell_paged(incident, status=Status(new), version=version)


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
        source=Source.MANUAL.value,
        service_id=service_id,
        service_policy_id=service_policy_id,
        dedup_key=dedup_key,
        dedup_indexed=True,
        alert_count=0,
        created_at=now,
    )
    write_transition(incident, transitions.opened(Source.MANUAL), at=now, actor_id=actor_id)
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


@dataclass(frozen=True)
class Moved:
    incident: Incident  # as read after the change
    change: Change | None  # None: nothing changed (acknowledging twice)
    version: int | None  # the version the change wrote


def move(
    incident: Incident,
    decide: Callable[[Incident], Change | None],
    *,
    actor_id: str | None,
    now: int,
) -> Moved:
    """One conditional transaction: the change is written only on the version it was decided on,
    with its timeline entry, so two concurrent acknowledgements leave one entry. A lost race
    decides again on a fresh read (which may now say Conflict, or that nothing is left to do)."""
    change = decide(incident)
    if change is None:
        return Moved(incident, None, None)
    try:
        write_transition(incident, change, at=now, actor_id=actor_id, expected_version=int(incident.version))
    except TransactWriteError as exc:
        if not condition_failed(exc):
            raise
        fresh = get_incident(incident.org_id, incident.incident_id)
        if fresh.version == incident.version:
            raise
        return move(fresh, decide, actor_id=actor_id, now=now)
    written = int(incident.version) + 1 if change.new_version else int(incident.version)
    return Moved(get_incident(incident.org_id, incident.incident_id), change, written)


def _told(moved: Moved) -> Incident:
    if moved.change is not None and moved.change.notifies_paged and moved.version is not None:
        assert moved.change.status is not None
        tell_paged(moved.incident, status=moved.change.status, version=moved.version)
    return moved.incident


def acknowledge(
    org_id: str, incident_id: str, *, actor_id: str | None, via: dict[str, Any] | None = None
) -> Incident:
    """Escalation stops and the people already paged are told. ``actor_id`` None with ``via``
    (which integration, which event) when an alert acknowledges."""
    now = now_seconds()
    moved = move(
        get_incident(org_id, incident_id),
        lambda current: transitions.acknowledge(Status(current.status), now=now, via=via),
        actor_id=actor_id,
        now=now,
    )
    return _told(moved)


def resolve(
    org_id: str,
    incident_id: str,
    *,
    actor_id: str | None,
    note: str | None,
    via: dict[str, Any] | None = None,
) -> Incident:
    """Conflict when resolved already; the people already paged are told."""
    now = now_seconds()
    moved = move(
        get_incident(org_id, incident_id),
        lambda current: transitions.resolve(Status(current.status), now=now, note=note, via=via),
        actor_id=actor_id,
        now=now,
    )
    return _told(moved)


def snooze(org_id: str, incident_id: str, *, actor_id: str, minutes: int) -> Incident:
    check_snooze_minutes(minutes)
    now = now_seconds()
    return move(
        get_incident(org_id, incident_id),
        lambda current: transitions.snooze(Status(current.status), now=now, minutes=minutes),
        actor_id=actor_id,
        now=now,
    ).incident


def wake_one(incident: Incident, *, now: int) -> bool:
    """Back to open when its snooze ran out; False when it is not time, or it changed meanwhile."""

    def decide(current: Incident) -> Change | None:
        return transitions.wake(
            Status(current.status),
            snoozed_until=None if current.snoozed_until is None else int(current.snoozed_until),
            next_step_at=None if current.esc_next_at is None else int(current.esc_next_at),
            now=now,
        )

    try:
        return move(incident, decide, actor_id=None, now=now).change is not None
    except Conflict:
        return False  # acknowledged or resolved meanwhile


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
        write_transition(incident, transitions.assigned(assignee_id), at=now, actor_id=actor_id)
    except TransactWriteError as exc:
        if condition_failed(exc):
            raise NotFound("incident not found") from exc
        raise
    return get_incident(org_id, incident_id)


def update_incident(org_id: str, incident_id: str, *, actor_id: str, changes: dict[str, Any]) -> Incident:
    incident = get_incident(org_id, incident_id)
    change = transitions.updated({name: getattr(incident, name) for name in transitions.EDITABLE}, changes)
    if change is None:
        return incident
    try:
        write_transition(
            incident, change, at=now_seconds(), actor_id=actor_id, expected_version=int(incident.version)
        )
    except TransactWriteError as exc:
        if condition_failed(exc):
            raise Conflict("the incident changed meanwhile; read it again", field="incident_id") from exc
        raise
    return get_incident(org_id, incident_id)


def add_comment(org_id: str, incident_id: str, *, actor_id: str, body: str) -> IncidentEvent:
    incident = get_incident(org_id, incident_id)
    event = timeline_entry(
        incident, Entry(EntryType.COMMENT, {"body": body}), at=now_seconds(), actor_id=actor_id
    )
    event.save()
    return event


def notification_log(org_id: str, incident_id: str) -> list[Notification]:
    """Who was notified about the incident and how it went, oldest first; 404 for no such incident."""
    incident = get_incident(org_id, incident_id)
    return notifications.notifications_for(org_id, incident.incident_id)


def timeline(org_id: str, incident_id: str, *, limit: int, cursor: str | None) -> Page[IncidentEvent]:
    incident = get_incident(org_id, incident_id)
    return fetch_page(
        lambda **kw: IncidentEvent.query(incident.key, **kw),
        limit=limit,
        cursor=cursor,
        scope=f"timeline:{incident.key}",
    )
