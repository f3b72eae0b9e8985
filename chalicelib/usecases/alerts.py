"""Alert ingest: take alerts fast, then open, group, acknowledge and resolve incidents from them.

Taking (the HTTP request): authenticate the key, parse, decide which incident each alert belongs
to, put the alerts on the FIFO queue, answer 202 with those incident ids. Deciding is what lets the
answer name incidents that do not exist yet: a trigger with no open incident for its dedup key
claims a fresh incident id in ``alert-dedup`` with a conditional write, so two concurrent triggers
of one key agree on one incident. Anything that fails on our side answers 503, never a 4xx:
Alertmanager and others drop an alert on any 4xx and retry a 5xx.

Handling (the queue's consumer): one alert at a time per dedup key, in arrival order. Each alert
has an event id; its timeline entry is written under that id with a condition, so a message
delivered twice changes nothing the second time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import DoesNotExist, PutError, PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import alert_queue, sns_deliveries
from chalicelib.adapters.alert_queue import AlertMessage, NotQueued
from chalicelib.domain.alerts import Alert, AlertAction, cloudwatch, sns
from chalicelib.domain.alerts.parsing import parse_native
from chalicelib.domain.clock import now_seconds
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound, Unavailable
from chalicelib.domain.ids import new_id
from chalicelib.domain.incidents import Status
from chalicelib.models.incidents import Incident, IncidentEvent
from chalicelib.models.integrations import AlertDedup, IngestKey
from chalicelib.settings import settings
from chalicelib.usecases import escalation, incidents, integrations
from chalicelib.usecases.classification import categorize
from chalicelib.usecases.dynamo import condition_failed, transaction_connection

logger = Logger(service="vigil", child=True, level=settings.log_level)

CLAIM_TTL_SECONDS = 180 * 86400
MAX_CLAIM_ATTEMPTS = 3
ALERT_ENTRY_SUFFIX = "A"  # after the event id: a new incident's `created` entry, then its `alert`


@dataclass(frozen=True)
class Accepted:
    incident_ids: list[str] = field(default_factory=list)
    dedup_keys: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class QueuedAlert:
    """An accepted alert as the queue carries it: everything the consumer needs, no re-read."""

    event_id: str
    org_id: str
    integration_id: str
    integration_name: str
    default_severity: str
    service_id: str | None
    incident_id: str
    dedup_key: str
    action: str
    title: str
    description: str
    severity: str | None
    source: str | None
    details: dict[str, Any]
    links: list[dict[str, str]]
    occurred_at: str | None
    received_at: int

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, body: str) -> QueuedAlert:
        """ValueError for anything else (a poison message, left to reach the DLQ)."""
        try:
            alert = cls(**json.loads(body))
        except (TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not an alert message: {exc}") from exc
        if alert.action not in tuple(AlertAction):
            raise ValueError(f"unknown alert action {alert.action!r}")
        return alert


# ---- taking alerts (the HTTP side) --------------------------------------------------------------


@contextlib.contextmanager
def _unavailable_when_aws_fails() -> Iterator[None]:
    try:
        yield
    except (PynamoDBException, BotoCoreError, ClientError, NotQueued) as exc:
        logger.warning("alert ingest refused for now", extra={"error": str(exc)})
        raise Unavailable("alerts cannot be taken right now; retry shortly") from exc


def authenticate(key: str) -> IngestKey:
    with _unavailable_when_aws_fails():
        return integrations.integration_for_key(key)


def take_native(integration: IngestKey, body: Any, *, sns_message_type: str | None = None) -> Accepted:
    """``/v1/alerts/{key}``: the body in the integration type's own format."""
    if integration.type == "cloudwatch":
        return _take_sns(integration, body, message_type=sns_message_type)
    return accept(integration, parse_native(integration.type, body))


def _take_sns(integration: IngestKey, body: Any, *, message_type: str | None) -> Accepted:
    message = sns.parse_envelope(body, message_type)
    if settings.verify_sns_signatures:
        sns_deliveries.verify_signature(message)
    if message.type == "SubscriptionConfirmation":
        if not sns.is_aws_sns_url(message.subscribe_url or ""):
            raise InvalidInput("is not an Amazon SNS address; not followed", field="SubscribeURL")
        if not sns_deliveries.confirm_subscription(message):
            raise InvalidInput("Amazon SNS refused the confirmation", field="SubscribeURL")
        return Accepted()
    if message.type != "Notification":
        return Accepted()  # an UnsubscribeConfirmation: nothing to do
    # SNS may deliver a notification twice; the FIFO queue drops the second within five minutes.
    return accept(integration, cloudwatch.parse_alarm(message.message), delivery_id=message.message_id)


def accept(integration: IngestKey, alerts: Sequence[Alert], *, delivery_id: str | None = None) -> Accepted:
    with _unavailable_when_aws_fails():
        return _accept(integration, alerts, delivery_id=delivery_id)


def dedup_id(integration_id: str, dedup_key: str) -> str:
    return f"{integration_id}#{hashlib.sha256(dedup_key.encode()).hexdigest()[:40]}"


def _accept(integration: IngestKey, alerts: Sequence[Alert], *, delivery_id: str | None) -> Accepted:
    now = now_seconds()
    # A trigger without a key groups with nothing; PagerDuty makes up a key the same way.
    keyed = [(alert, alert.dedup_key or uuid.uuid4().hex) for alert in alerts]
    ids = {dedup_id(integration.integration_id, key) for _, key in keyed}
    claims = {claim.dedup_id: claim.incident_id for claim in AlertDedup.batch_get(ids, consistent_read=True)}
    still_open = _not_resolved(integration.org_id, set(claims.values()))
    current = {d: incident_id for d, incident_id in claims.items() if incident_id in still_open}

    messages: list[AlertMessage] = []
    incident_ids: list[str] = []
    for index, (alert, key) in enumerate(keyed):
        group = dedup_id(integration.integration_id, key)
        target = current.get(group)
        if target is None and alert.action is AlertAction.TRIGGER:
            target = _claim(integration, group, key, previous=claims.get(group), now=now)
            current[group] = claims[group] = target
        if target is None:
            continue  # acknowledging or resolving what is not open: nothing to do
        if alert.action is AlertAction.RESOLVE:
            current.pop(group, None)
        queued = _queued(integration, alert, key=key, incident_id=target, now=now)
        messages.append(
            AlertMessage(
                body=queued.to_json(),
                group_id=group,
                deduplication_id=f"{delivery_id}:{index}" if delivery_id else queued.event_id,
            )
        )
        if target not in incident_ids:
            incident_ids.append(target)
    if messages:
        alert_queue.send(messages)
    logger.info(
        "alerts accepted",
        extra={
            "integration_id": integration.integration_id,
            "alerts": len(alerts),
            "queued": len(messages),
        },
    )
    return Accepted(incident_ids=incident_ids, dedup_keys=[key for _, key in keyed])


def _not_resolved(org_id: str, incident_ids: set[str]) -> set[str]:
    """Of these claimed ids, those not resolved. An id with no incident yet is not resolved: its
    trigger is still in the queue."""
    if not incident_ids:
        return set()
    resolved = {
        incident.incident_id
        for incident in Incident.batch_get(
            [(org_id, incident_id) for incident_id in incident_ids],
            consistent_read=True,
            attributes_to_get=["org_id", "incident_id", "status"],
        )
        if incident.status == Status.RESOLVED.value
    }
    return incident_ids - resolved


def _claim(integration: IngestKey, group: str, key: str, *, previous: str | None, now: int) -> str:
    """A fresh incident id for this dedup key, unless a concurrent request claimed one first."""
    for _ in range(MAX_CLAIM_ATTEMPTS):
        claim = _claim_item(group, org_id=integration.org_id, incident_id=new_id(), dedup_key=key, now=now)
        condition = (
            AlertDedup.dedup_id.does_not_exist() if previous is None else AlertDedup.incident_id == previous
        )
        try:
            claim.save(condition=condition)
            return claim.incident_id
        except PutError as exc:
            if not condition_failed(exc):
                raise
        try:
            return AlertDedup.get(group, consistent_read=True).incident_id
        except DoesNotExist:
            previous = None  # expired between the two calls; claim again
    raise Unavailable("alerts for this dedup key are arriving too fast; retry shortly")


def _claim_item(group: str, *, org_id: str, incident_id: str, dedup_key: str, now: int) -> AlertDedup:
    return AlertDedup(
        group,
        org_id=org_id,
        incident_id=incident_id,
        dedup_key=dedup_key,
        updated_at=now,
        expires_at=now + CLAIM_TTL_SECONDS,
    )


def _queued(integration: IngestKey, alert: Alert, *, key: str, incident_id: str, now: int) -> QueuedAlert:
    return QueuedAlert(
        event_id=new_id(),
        org_id=integration.org_id,
        integration_id=integration.integration_id,
        integration_name=integration.name,
        default_severity=integration.severity,
        service_id=integration.service_id,
        incident_id=incident_id,
        dedup_key=key,
        action=alert.action.value,
        title=alert.title,
        description=alert.description,
        severity=alert.severity,
        source=alert.source,
        details=alert.details,
        links=[{"href": link.href, "text": link.text} for link in alert.links],
        occurred_at=alert.occurred_at,
        received_at=now,
    )


# ---- handling alerts (the queue's consumer) -----------------------------------------------------


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
    title = alert.title or f"Alert from {alert.integration_name}"
    severity = alert.severity or alert.default_severity
    now = now_seconds()
    try:
        service_policy_id = incidents.service_escalation_policy(alert.org_id, alert.service_id)
    except DoesNotExist:
        service_policy_id = None  # the service was deleted since; the org's rules still apply
    incident = incidents.new_open_incident(
        alert.org_id,
        incident_id,
        title=title,
        description=alert.description,
        severity=severity,
        category=categorize(title, alert.description),
        source="alert",
        service_id=alert.service_id,
        service_policy_id=service_policy_id,
        dedup_key=alert.dedup_key,
        dedup_indexed=False,
        integration_id=alert.integration_id,
        alert_count=1,
        created_at=now,
    )
    created = IncidentEvent(
        incident.key,
        alert.event_id,
        at=now,
        type="created",
        actor_id=None,
        data={
            "source": "alert",
            "integration_id": alert.integration_id,
            "integration": alert.integration_name,
        },
    )
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.save(incident, condition=Incident.incident_id.does_not_exist())
            tx.save(created)
            tx.save(_alert_entry(incident, alert, event_id=alert.event_id + ALERT_ENTRY_SUFFIX, at=now))
    except TransactWriteError as exc:
        if condition_failed(exc):
            return  # opened by an earlier delivery of this message
        raise
    logger.info(
        "incident opened by an alert",
        extra={"org_id": alert.org_id, "incident_id": incident_id, "integration_id": alert.integration_id},
    )


def _group_into(incident: Incident, alert: QueuedAlert) -> bool:
    """One more alert on an open incident: a timeline entry and alert_count + 1, together.
    False when the incident was resolved meanwhile (the caller looks again)."""
    now = now_seconds()
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.update(
                incident,
                actions=[Incident.alert_count.add(1)],
                condition=Incident.incident_id.exists() & (Incident.status != Status.RESOLVED.value),
            )
            tx.save(
                _alert_entry(incident, alert, event_id=alert.event_id, at=now),
                condition=IncidentEvent.event_id.does_not_exist(),
            )
    except TransactWriteError as exc:
        if condition_failed(exc, index=1):
            return True  # this very alert was grouped already
        if condition_failed(exc):
            return False
        raise
    return True


def _alert_entry(incident: Incident, alert: QueuedAlert, *, event_id: str, at: int) -> IncidentEvent:
    data = {
        "action": alert.action,
        "integration_id": alert.integration_id,
        "integration": alert.integration_name,
        "title": alert.title,
        "description": alert.description,
        "severity": alert.severity,
        "source": alert.source,
        "details": alert.details,
        "links": alert.links,
        "occurred_at": alert.occurred_at,
    }
    return IncidentEvent(
        incident.key,
        event_id,
        at=at,
        type="alert",
        actor_id=None,
        data={k: v for k, v in data.items() if v not in (None, "", [], {})},
    )


def _point_claim_to(alert: QueuedAlert, incident_id: str, *, previous: str) -> None:
    group = dedup_id(alert.integration_id, alert.dedup_key)
    claim = _claim_item(
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
        incident = incidents.acknowledge(alert.org_id, alert.incident_id, actor_id=None, via=_via(alert))
    except Conflict:
        return  # resolved already
    except NotFound:
        return  # never opened (its trigger reached the dead-letter queue)
    escalation.tell_paged(incident, now=now_seconds())


def _resolve(alert: QueuedAlert) -> None:
    try:
        incident = incidents.resolve(
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
    escalation.tell_paged(incident, now=now_seconds())
