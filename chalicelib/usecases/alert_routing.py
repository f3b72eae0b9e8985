"""Routing alerts (the intake queue's consumer): decide which incident each taken alert belongs to,
then queue it on the alerts queue for alert_handling, in the order it was taken.

Deciding is what keeps one incident per dedup key: a trigger with no open incident for its key
claims a fresh incident id in ``alert-dedup`` with a conditional write, so two triggers of one key
agree on one incident even when they race (one integration's notifications are routed one at a
time, but the handler re-points a claim when it reopens). Requests per message: one batched read of
claims and one of their incidents per 100 dedup keys, a write per new claim, one SendMessageBatch per
ten alerts. A message routed twice (SQS delivers at least once) queues the same alerts under the
same event ids: the alerts queue drops the repeats within five minutes, the handler's conditional
timeline entry after that.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.adapters import alert_queue
from chalicelib.adapters.alert_queue import AlertMessage
from chalicelib.domain.alerts import AlertAction
from chalicelib.domain.clock import now_seconds
from chalicelib.domain.errors import Unavailable
from chalicelib.domain.ids import new_id
from chalicelib.domain.incidents import Status
from chalicelib.models.incidents import Incident
from chalicelib.models.integrations import AlertDedup
from chalicelib.settings import settings
from chalicelib.usecases.alert_taking import TakenAlert, TakenAlerts
from chalicelib.usecases.dynamo import condition_failed

logger = Logger(service="vigil", child=True, level=settings.log_level)

CLAIM_TTL_SECONDS = 180 * 86400
MAX_CLAIM_ATTEMPTS = 3


@dataclass(frozen=True)
class QueuedAlert:
    """A routed alert as the alerts queue carries it: everything the handler needs, no re-read."""

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


def dedup_id(integration_id: str, dedup_key: str) -> str:
    return f"{integration_id}#{hashlib.sha256(dedup_key.encode()).hexdigest()[:40]}"


def route(taken: TakenAlerts) -> None:
    now = now_seconds()
    ids = {dedup_id(taken.integration_id, alert.dedup_key) for alert in taken.alerts}
    claims = {claim.dedup_id: claim.incident_id for claim in AlertDedup.batch_get(ids, consistent_read=True)}
    still_open = _not_resolved(taken.org_id, set(claims.values()))
    current = {d: incident_id for d, incident_id in claims.items() if incident_id in still_open}

    messages: list[AlertMessage] = []
    for alert in taken.alerts:
        group = dedup_id(taken.integration_id, alert.dedup_key)
        target = current.get(group)
        if target is None and alert.action == AlertAction.TRIGGER:
            target = _claim(taken.org_id, group, alert.dedup_key, previous=claims.get(group), now=now)
            current[group] = claims[group] = target
        if target is None:
            continue  # acknowledging or resolving what is not open: nothing to do
        if alert.action == AlertAction.RESOLVE:
            current.pop(group, None)
        queued = _queued(taken, alert, incident_id=target)
        messages.append(AlertMessage(body=queued.to_json(), group_id=group, deduplication_id=queued.event_id))
    if messages:
        alert_queue.send(messages)
    logger.info(
        "alerts routed",
        extra={
            "integration_id": taken.integration_id,
            "alerts": len(taken.alerts),
            "queued": len(messages),
        },
    )


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


def _claim(org_id: str, group: str, key: str, *, previous: str | None, now: int) -> str:
    """A fresh incident id for this dedup key, unless a concurrent writer claimed one first."""
    for _ in range(MAX_CLAIM_ATTEMPTS):
        claim = claim_item(group, org_id=org_id, incident_id=new_id(), dedup_key=key, now=now)
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


def _queued(taken: TakenAlerts, alert: TakenAlert, *, incident_id: str) -> QueuedAlert:
    return QueuedAlert(
        event_id=alert.event_id,
        org_id=taken.org_id,
        integration_id=taken.integration_id,
        integration_name=taken.integration_name,
        default_severity=taken.default_severity,
        service_id=taken.service_id,
        incident_id=incident_id,
        dedup_key=alert.dedup_key,
        action=alert.action,
        title=alert.title,
        description=alert.description,
        severity=alert.severity,
        source=alert.source,
        details=alert.details,
        links=alert.links,
        occurred_at=alert.occurred_at,
        received_at=taken.received_at,
    )
