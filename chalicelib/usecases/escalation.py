"""Escalation: who is paged for an incident, when, and never twice.

A new incident takes a snapshot of its policy (the service's, else the first
whose ``match`` fits, else the org's default), so later edits do not change an
escalation already running. The incident keeps the next ``(step, loop)`` to
fire and when; firing it is:

1. queue its notifications: their ids derive from ``(incident, step, loop,
   target, channel)``, so doing it again writes and sends nothing new;
2. claim the step with a conditional write (``esc_next_step``/``esc_next_loop``
   still what was read), which also plans the next one and writes the
   ``escalated`` timeline entry.

A crash between 1 and 2 is retried and sends nothing twice; two schedulers
that both see the step due claim it once. Acknowledging or resolving takes the
incident out of the due index, which stops escalation; a snooze moves its due
time to the end of the snooze, when escalation resumes.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.domain import transitions
from chalicelib.domain.errors import Conflict
from chalicelib.domain.escalation import PolicySnapshot, Target, next_step
from chalicelib.domain.incidents import Status
from chalicelib.domain.roles import Role
from chalicelib.domain.transitions import ESCALATING
from chalicelib.models.incidents import DUE_PARTITION, Incident
from chalicelib.models.orgs import Membership
from chalicelib.settings import settings
from chalicelib.usecases import incidents, notifications, preferences
from chalicelib.usecases.dynamo import condition_failed
from chalicelib.usecases.notifications import Recipient

logger = Logger(service="vigil", child=True, level=settings.log_level)


def _snapshot(incident: Incident) -> PolicySnapshot:
    raw: dict[str, Any] = incident.esc_policy.as_dict()
    return PolicySnapshot.from_dict(raw)


def recipients_for(incident: Incident, targets: tuple[Target, ...]) -> list[Recipient]:
    """Users by their preferences (and min_severity), roles as their members, addresses as given."""
    found: dict[tuple[str, str], Recipient] = {}

    def add(recipient: Recipient) -> None:
        found.setdefault((recipient.channel, recipient.target), recipient)

    for target in targets:
        if target.type == "user":
            try:
                Membership.get(incident.org_id, target.value)
            except DoesNotExist:
                continue  # left the org since the policy was written
            user_ids = [target.value]
        elif target.type == "role":
            role = Role(target.value)
            user_ids = [m.user_id for m in Membership.query(incident.org_id) if m.role == role.value]
        else:
            add(Recipient(channel=target.type, target=target.value))
            continue
        for user_id in user_ids:
            for channel, address in preferences.channels_for(user_id, incident.severity):
                add(Recipient(channel=channel, target=address, user_id=user_id))
    return list(found.values())


def fire_step(incident: Incident, *, now: int, by: str | None = None) -> bool:
    """Fire the incident's next step now; False when another run claimed it first."""
    if incident.esc_policy is None or incident.esc_next_step is None or incident.esc_next_loop is None:
        return False
    snapshot = _snapshot(incident)
    step, loop = int(incident.esc_next_step), int(incident.esc_next_loop)
    recipients = recipients_for(incident, snapshot.steps[step].targets)
    notifications.queue_notifications(
        incident,
        recipients=recipients,
        kind="escalation",
        step=step,
        loop=loop,
        reason=f"escalation step {step + 1}" + (f", pass {loop + 1}" if loop else ""),
    )
    planned = next_step(snapshot, step=step, loop=loop, fired_at=now)
    change = transitions.escalated(
        Status(incident.status),
        step=step,
        loop=loop,
        planned=planned,
        recipients=len(recipients),
        policy=snapshot.name,
    )
    try:
        incidents.write_transition(incident, change, at=now, actor_id=by)
    except TransactWriteError as exc:
        if condition_failed(exc):
            return False
        raise
    logger.info(
        "escalation step fired", extra={"incident_id": incident.incident_id, "step": step, "loop": loop}
    )
    return True


def escalate_now(org_id: str, incident_id: str, *, actor_id: str, now: int) -> Incident:
    """``POST .../escalate``: the next step fires now (also for an acknowledged incident)."""
    incident = incidents.get_incident(org_id, incident_id)
    if incident.status == Status.RESOLVED.value:
        raise Conflict("cannot escalate a resolved incident", field="status")
    if incident.esc_policy is None:
        raise Conflict("the incident has no escalation policy", field="escalation")
    if incident.esc_next_step is None:
        raise Conflict("every step of the escalation policy has fired", field="escalation")
    if not fire_step(incident, now=now, by=actor_id):
        raise Conflict("the step fired meanwhile; read the incident again", field="escalation")
    return incidents.get_incident(org_id, incident_id)


def fire_due(*, now: int) -> int:
    """Every minute: wake snoozed incidents whose time is up and fire the steps that are due."""
    fired = 0
    for entry in Incident.by_due.query(DUE_PARTITION, Incident.due_at <= now):
        incident = incidents.get_incident_or_none(entry.org_id, entry.incident_id)
        if incident is None:
            continue
        if incident.status == Status.SNOOZED.value:
            incidents.wake_one(incident, now=now)
            continue
        if (
            incident.status in ESCALATING
            and incident.esc_next_at is not None
            and int(incident.esc_next_at) <= now
            and fire_step(incident, now=now)
        ):
            fired += 1
    return fired


def on_new_incident(org_id: str, incident_id: str, *, now: int) -> None:
    """The stream's INSERT: step 0 fires at once (a replayed record finds it claimed)."""
    incident = incidents.get_incident_or_none(org_id, incident_id)
    if incident is None or incident.status not in ESCALATING:
        return
    if incident.esc_level is None and incident.esc_next_step == 0 and incident.esc_next_loop == 0:
        fire_step(incident, now=now)
