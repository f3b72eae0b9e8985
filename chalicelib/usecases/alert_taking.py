"""Taking alerts (the HTTP request): authenticate the key, parse, decide which incident each alert
belongs to, put the alerts on the FIFO queue, answer 202 with those incident ids.

Deciding is what lets the answer name incidents that do not exist yet: a trigger with no open
incident for its dedup key claims a fresh incident id in ``alert-dedup`` with a conditional write, so
two concurrent triggers of one key agree on one incident. Anything that fails on our side answers
503, never a 4xx: Alertmanager and others drop an alert on any 4xx and retry a 5xx.

What the queue's consumer does with them is alert_handling.
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
from pynamodb.exceptions import DoesNotExist, PutError, PynamoDBException

from chalicelib.adapters import alert_queue, sns_deliveries
from chalicelib.adapters.alert_queue import AlertMessage, NotQueued
from chalicelib.domain.alerts import Alert, AlertAction, cloudwatch, sns
from chalicelib.domain.alerts.parsing import parse_native
from chalicelib.domain.clock import now_seconds
from chalicelib.domain.errors import InvalidInput, Unavailable
from chalicelib.domain.ids import new_id
from chalicelib.domain.incidents import Status
from chalicelib.models.incidents import Incident
from chalicelib.models.integrations import AlertDedup, IngestKey
from chalicelib.settings import settings
from chalicelib.usecases import integrations
from chalicelib.usecases.dynamo import condition_failed

logger = Logger(service="vigil", child=True, level=settings.log_level)

CLAIM_TTL_SECONDS = 180 * 86400
MAX_CLAIM_ATTEMPTS = 3


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
        claim = claim_item(group, org_id=integration.org_id, incident_id=new_id(), dedup_key=key, now=now)
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


def claim_item(group: str, *, org_id: str, incident_id: str, dedup_key: str, now: int) -> AlertDedup:
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
