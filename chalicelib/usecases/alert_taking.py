"""Taking alerts (the HTTP request): authenticate the key, parse and validate the whole payload, put
what was taken on the intake queue, answer 202 with the dedup keys.

The request costs the same whatever the payload holds: one read of the key and one SendMessageBatch
of one compressed message (a second only when even compressed the alerts pass SQS's 256 KiB, which
takes a body of incompressible text). Which incident each alert belongs to is
decided after the answer, by alert_routing, so the answer names dedup keys, not incidents. Anything
that fails on our side answers 503, never a 4xx: Alertmanager and others drop an alert on any 4xx
and retry a 5xx.

Every request taken is new alerts, even one identical to an earlier request: PagerDuty logs each
event, and nothing in a request tells a sender's deliberate repeat from its retry. SNS deliveries are
the exception: their message id names the delivery, and one that SNS repeats within five minutes
is taken once.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import uuid
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from chalicelib.adapters import alert_queue, sns_deliveries
from chalicelib.adapters.alert_queue import MAX_MESSAGE_BYTES, AlertMessage, NotQueued
from chalicelib.domain.alerts import Alert, AlertAction, cloudwatch, sns
from chalicelib.domain.alerts.parsing import parse_native
from chalicelib.domain.clock import now_seconds
from chalicelib.domain.errors import InvalidInput, Unavailable
from chalicelib.domain.ids import new_id
from chalicelib.models.integrations import IngestKey
from chalicelib.settings import settings
from chalicelib.usecases import integrations

logger = Logger(service="vigil", child=True, level=settings.log_level)


@dataclass(frozen=True)
class Accepted:
    dedup_keys: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TakenAlert:
    """One alert as taken: its event id (its timeline entry's id) is fixed here, so routing the same
    intake message twice queues the same alert twice, which the alerts queue and handler drop."""

    event_id: str
    dedup_key: str
    action: str
    title: str
    description: str
    severity: str | None
    source: str | None
    details: dict[str, Any]
    links: list[dict[str, str]]
    occurred_at: str | None


@dataclass(frozen=True)
class TakenAlerts:
    """One intake message: the alerts of one request (or of one part of a large one), in order, with
    the integration they came through."""

    org_id: str
    integration_id: str
    integration_name: str
    default_severity: str
    service_id: str | None
    received_at: int
    alerts: list[TakenAlert]

    def to_message(self) -> str:
        """Compressed: alerts of one notification repeat the same labels, often tenfold smaller."""
        # vars, not asdict: asdict deep-copies every alert's details, a third of a large request's time.
        fields = {**vars(self), "alerts": [vars(alert) for alert in self.alerts]}
        document = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        return base64.b64encode(zlib.compress(document.encode(), 6)).decode("ascii")

    @classmethod
    def from_message(cls, body: str) -> TakenAlerts:
        """ValueError for anything else (a poison message, left to reach the DLQ)."""
        try:
            document = json.loads(zlib.decompress(base64.b64decode(body, validate=True)))
            taken = cls(**{**document, "alerts": [TakenAlert(**alert) for alert in document["alerts"]]})
        except (TypeError, KeyError, ValueError, zlib.error, binascii.Error) as exc:
            raise ValueError(f"not an intake message: {exc}") from exc
        for alert in taken.alerts:
            if alert.action not in tuple(AlertAction):
                raise ValueError(f"unknown alert action {alert.action!r}")
        return taken


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
    # SNS may deliver a notification twice; the intake queue drops the second within five minutes.
    return accept(integration, cloudwatch.parse_alarm(message.message), delivery_id=message.message_id)


def accept(integration: IngestKey, alerts: Sequence[Alert], *, delivery_id: str | None = None) -> Accepted:
    """Queue these parsed alerts for routing. ``delivery_id`` names a delivery its sender may repeat."""
    # A trigger without a key groups with nothing; PagerDuty makes up a key the same way.
    taken = [_taken(alert, dedup_key=alert.dedup_key or uuid.uuid4().hex) for alert in alerts]
    if taken:
        with _unavailable_when_aws_fails():
            alert_queue.send_intake(_intake_messages(integration, taken, delivery_id=delivery_id or new_id()))
    logger.info("alerts taken", extra={"integration_id": integration.integration_id, "alerts": len(taken)})
    return Accepted(dedup_keys=[alert.dedup_key for alert in taken])


def _taken(alert: Alert, *, dedup_key: str) -> TakenAlert:
    return TakenAlert(
        event_id=new_id(),
        dedup_key=dedup_key,
        action=alert.action.value,
        title=alert.title,
        description=alert.description,
        severity=alert.severity,
        source=alert.source,
        details=alert.details,
        links=[{"href": link.href, "text": link.text} for link in alert.links],
        occurred_at=alert.occurred_at,
    )


def _intake_messages(
    integration: IngestKey, taken: Sequence[TakenAlert], *, delivery_id: str
) -> list[AlertMessage]:
    """One message, or as few as fit SQS's size limit, in order; one integration is one message group,
    so its notifications are routed in the order they came."""
    received_at = now_seconds()

    def message(alerts: list[TakenAlert]) -> TakenAlerts:
        return TakenAlerts(
            org_id=integration.org_id,
            integration_id=integration.integration_id,
            integration_name=integration.name,
            default_severity=integration.severity,
            service_id=integration.service_id,
            received_at=received_at,
            alerts=alerts,
        )

    def packed(alerts: list[TakenAlert]) -> list[str]:
        body = message(alerts).to_message()
        if len(body) <= MAX_MESSAGE_BYTES - 1024 or len(alerts) == 1:  # 1 KiB for the attributes
            return [body]
        half = len(alerts) // 2
        return packed(alerts[:half]) + packed(alerts[half:])

    group = integration.integration_id
    return [
        AlertMessage(body=body, group_id=group, deduplication_id=f"{delivery_id}:{index}")
        for index, body in enumerate(packed(list(taken)))
    ]
