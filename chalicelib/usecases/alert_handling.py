"""Handling alerts (the FIFO queue's consumer): open, group, acknowledge and resolve incidents.

One alert at a time per dedup key, in arrival order. Each alert has an event id; its timeline entry
is written under that id with a condition, so a message delivered twice changes nothing the second
time. How alerts reach the queue: alert_taking, then alert_routing.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.domain import transitions
from chalicelib.domain.alerts import AlertAction
from chalicelib.domain.clock import now_seconds
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.incidents import Status
from chalicelib.models.incidents import Incident, IncidentEvent
from chalicelib.models.integrations import AlertDedup
from chalicelib.usecases import incidents, maintenance
from chalicelib.usecases.alert_routing import MAX_CLAIM_ATTEMPTS, QueuedAlert, claim_item, dedup_id
from chalicelib.usecases.dynamo import condition_failed


def handle(alert: QueuedAlert) -> None:
    if alert.action == AlertAction.TRIGGER:
        _trigger(alert)
    elif alert.action == AlertAction.ACKNOWLEDGE:
        _acknowledge(alert)
    else:
        _resolve(alert)


def _trigger(alert: QueuedAlert) -> None:
    for _ in range(MAX_CLAIM_ATTEMPTS):
        incident = incidents.get_incident_or_none(alert.org_id, alert.incident_id)
        if incident is None:
            _open(alert, alert.incident_id)
            return
        if _recorded(incident, alert.event_id):
            return  # a message delivered again
        if incident.status == Status.RESOLVED.value:
            # Resolved after this alert was taken: like PagerDuty, a trigger after a resolve opens a
            # new incident. Its id is the event id, so a redelivery finds it.
            _point_claim_to(alert, alert.event_id, previous=alert.incident_id)
            _open(alert, alert.event_id)
            return
        if _group_into(incident, alert):
            return
    raise RuntimeError(f"incident {alert.incident_id} kept changing; the alert will be retried")


def _recorded(incident: Incident, event_id: str) -> bool:
    try:
        IncidentEvent.get(incident.key, event_id, consistent_read=True, attributes_to_get=["event_id"])
    except DoesNotExist:
        return False
    return True


def _open(alert: QueuedAlert, incident_id: str) -> None:
    if maintenance.suppress_alert(alert.org_id, alert.service_id, now_seconds()):
        return  # its service is in maintenance: counted in the window's suppressed_alerts
    incidents.open_from_alert(
        alert.org_id,
        incident_id,
        event_id=alert.event_id,
        title=alert.title or f"Alert from {alert.integration_name}",
        description=alert.description,
        severity=alert.severity or alert.default_severity,
        service_id=alert.service_id,
        dedup_key=alert.dedup_key,
        integration_id=alert.integration_id,
        integration_name=alert.integration_name,
        alert=_alert_data(alert),
        now=now_seconds(),
    )


def _group_into(incident: Incident, alert: QueuedAlert) -> bool:
    """False when the incident was resolved meanwhile (the caller looks again)."""
    return incidents.group_alert(
        incident, event_id=alert.event_id, alert=_alert_data(alert), now=now_seconds()
    )


def _alert_data(alert: QueuedAlert) -> dict[str, Any]:
    return transitions.alert_entry_data(
        action=alert.action,
        integration_id=alert.integration_id,
        integration=alert.integration_name,
        title=alert.title,
        description=alert.description,
        severity=alert.severity,
        source=alert.source,
        details=alert.details,
        links=alert.links,
        occurred_at=alert.occurred_at,
    )


def _point_claim_to(alert: QueuedAlert, incident_id: str, *, previous: str) -> None:
    group = dedup_id(alert.integration_id, alert.dedup_key)
    claim = claim_item(
        group, org_id=alert.org_id, incident_id=incident_id, dedup_key=alert.dedup_key, now=now_seconds()
    )
    try:
        claim.save(condition=AlertDedup.dedup_id.does_not_exist() | (AlertDedup.incident_id == previous))
    except PutError as exc:
        # A failed condition means a newer claim exists: ingest has moved on already.
        if not condition_failed(exc):
            raise


def _via(alert: QueuedAlert) -> dict[str, Any]:
    return {
        "integration_id": alert.integration_id,
        "integration": alert.integration_name,
        "event_id": alert.event_id,
    }


def _acknowledge(alert: QueuedAlert) -> None:
    try:
        incidents.acknowledge(alert.org_id, alert.incident_id, actor_id=None, via=_via(alert))
    except Conflict:
        return  # resolved already
    except NotFound:
        return  # never opened (its trigger reached the dead-letter queue)


def _resolve(alert: QueuedAlert) -> None:
    try:
        incidents.resolve(
            alert.org_id,
            alert.incident_id,
            actor_id=None,
            note=f"resolved by {alert.integration_name}",
            via=_via(alert),
        )
    except Conflict:
        return  # resolved already: by a person, or by an earlier delivery of this message
    except NotFound:
        return
