"""Notifications: queue one record per recipient, deliver each through its channel, read the log.

Nothing is sent twice and nothing is lost, because SQS delivers at least once and Lambda retries:
- a record's id is deterministic (kind, step, loop, channel, target), and it is written with
  ``attribute_not_exists``: a replayed stream record or a retried step creates nothing new;
- a delivery first claims the record (a conditional write on ``version`` that counts the attempt and
  holds the record until ``claimed_until``), so two copies of one message send once; a record that
  is ``sent`` or ``failed`` is never sent again;
- a send that fails is retried by SQS (the handler delays the message with a growing backoff); on
  the last receive it is marked ``failed`` with its error, never dropped silently. A failure that no
  retry can fix (a bad phone number, a refused URL, a 4xx from a webhook other than 408/425/429) is
  marked ``failed`` at once.
What no claim can prevent: a Lambda that dies after the provider accepted a message and before the
record says ``sent`` sends it again on the retry. Webhook receivers get a delivery id
(``X-Vigil-Delivery``, the payload's ``id``) that is the same on every retry, to drop repeats.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import DoesNotExist, PutError, PynamoDBException, UpdateError

from chalicelib.adapters import mailer, notification_queue, sms, webhook_sender
from chalicelib.adapters.notification_queue import NotificationKey
from chalicelib.adapters.safe_connections import MAX_ERROR_CHARS
from chalicelib.adapters.secrets import jwt_secret
from chalicelib.domain import notifications as formats
from chalicelib.domain.clock import iso, now_seconds
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.ids import new_id
from chalicelib.models.incidents import Incident, IncidentEvent
from chalicelib.models.notifications import FAILED, QUEUED, SENT, Notification, incident_key
from chalicelib.models.services import Service
from chalicelib.settings import settings
from chalicelib.usecases.dynamo import condition_failed

logger = Logger(service="vigil", child=True, level=settings.log_level)

WEBHOOK_TIMEOUT_SECONDS = 10.0
# Longer than any one send takes (SES/SNS with their retries, a webhook's timeout), shorter than the
# queue's visibility timeout (120 s): a delivery that died mid-send frees the record by the time
# SQS brings its message back.
CLAIM_SECONDS = 90
_RETRYABLE_HTTP = frozenset({408, 425, 429})
_PERMANENT_AWS_ERRORS = frozenset({"InvalidParameter", "InvalidParameterValue"})


@dataclass(frozen=True)
class Recipient:
    channel: str  # email | sms | webhook | slack
    target: str  # the address, number or URL
    user_id: str | None = None  # the user whose preferences named this target


class DeliveryFailed(Exception):
    """The send failed and will be retried: the handler lets SQS bring the message back later."""


class DeliveryInProgress(DeliveryFailed):
    """Another delivery holds the record (a duplicate message): look again later."""


class NotificationNotFound(LookupError):
    """A message names a record that does not exist: left to the queue's DLQ."""


@dataclass(frozen=True)
class _Outcome:
    provider_id: str | None = None
    error: str | None = None
    permanent: bool = False  # no retry can fix it


# ---- queueing -----------------------------------------------------------------------------------


def queue_notifications(
    incident: Incident,
    *,
    recipients: Sequence[Recipient],
    kind: str,
    step: int,
    loop: int,
    reason: str,
) -> list[Notification]:
    """Write one ``queued`` record per recipient and put it on the queue; returns the new records.

    A record that exists already is not written again and not returned, so a repeated call sends
    nothing twice. One that is still untouched (``queued``, no attempt, unclaimed) is put on the
    queue again, though: the call that wrote it may have died before enqueueing it, and a duplicate
    message costs one read while a missing one would lose the notification.
    """
    now = now_seconds()
    key = incident_key(incident.org_id, incident.incident_id)
    summary = _summary_of(incident)
    records: dict[str, Notification] = {}
    for recipient in recipients:
        if recipient.channel not in formats.CHANNELS:
            raise ValueError(f"unknown channel {recipient.channel!r}")
        target = recipient.target.strip()
        if not target:
            raise ValueError(f"empty {recipient.channel} target")
        notification_id = formats.notification_id(
            kind=kind, step=step, loop=loop, channel=recipient.channel, target=target
        )
        records.setdefault(
            notification_id,
            Notification(
                key,
                notification_id,
                org_id=incident.org_id,
                incident_id=incident.incident_id,
                channel=recipient.channel,
                target=target,
                user_id=recipient.user_id,
                kind=kind,
                step=step,
                loop=loop,
                reason=reason,
                summary={k: v for k, v in summary.to_dict().items() if v is not None},
                status=QUEUED,
                attempts=0,
                created_at=now,
                version=0,
            ),
        )
    created: list[Notification] = []
    to_enqueue: list[NotificationKey] = []
    for notification in records.values():
        if _create(notification):
            created.append(notification)
            to_enqueue.append(NotificationKey(key, notification.notification_id))
        elif _never_picked_up(key, notification.notification_id):
            to_enqueue.append(NotificationKey(key, notification.notification_id))
    notification_queue.send(to_enqueue)
    if created:
        logger.info(
            "notifications queued",
            extra={"incident_key": key, "kind": kind, "step": step, "loop": loop, "count": len(created)},
        )
    return created


def _create(notification: Notification) -> bool:
    try:
        notification.save(condition=Notification.notification_id.does_not_exist())
    except PutError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def _never_picked_up(key: str, notification_id: str) -> bool:
    try:
        existing = Notification.get(key, notification_id, consistent_read=True)
    except DoesNotExist:
        return False
    return existing.status == QUEUED and not existing.attempts and existing.claimed_until is None


def _summary_of(incident: Incident) -> formats.IncidentSummary:
    description = incident.description or ""
    if len(description) > formats.DESCRIPTION_MAX_CHARS:
        description = description[: formats.DESCRIPTION_MAX_CHARS - 3] + "..."
    return formats.IncidentSummary(
        org_id=incident.org_id,
        incident_id=incident.incident_id,
        title=incident.title,
        description=description,
        severity=incident.severity,
        status=incident.status,
        service_name=_service_name(incident.org_id, incident.service_id),
        url=formats.incident_url(settings.public_url, incident.org_id, incident.incident_id),
        created_at=int(incident.created_at),
        service_id=incident.service_id,
    )


def _service_name(org_id: str, service_id: str | None) -> str | None:
    if not service_id:
        return None
    try:
        return str(Service.get(org_id, service_id).name)
    except DoesNotExist:
        return None


# ---- delivery -----------------------------------------------------------------------------------


def deliver(incident_key: str, notification_id: str, *, receive_count: int, max_receives: int) -> None:
    """Send one notification unless it was sent or failed already. Safe to repeat.

    Raises DeliveryFailed when the send failed and another receive is due (receive_count <
    max_receives); on the last one it marks the record ``failed`` and returns.
    """
    try:
        notification = Notification.get(incident_key, notification_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotificationNotFound(f"no notification {incident_key}/{notification_id}") from exc
    if notification.status != QUEUED:
        return  # sent or failed already: this message is a repeat
    now = now_seconds()
    if notification.claimed_until is not None and int(notification.claimed_until) > now:
        raise DeliveryInProgress("another delivery is sending this notification")
    _claim(notification, now=now)
    outcome = _send(notification, now=now)
    log_extra = {
        "incident_key": incident_key,
        "notification_id": notification_id,
        "channel": notification.channel,
        "attempt": int(notification.attempts),
    }
    if outcome.error is None:
        _finish(
            notification,
            [Notification.status.set(SENT), Notification.sent_at.set(now_seconds())]
            + ([Notification.provider_id.set(outcome.provider_id)] if outcome.provider_id else [])
            + [Notification.error.remove()],
        )
        logger.info("notification sent", extra=log_extra)
        _on_timeline(notification, status=SENT, error=None)
        return
    if outcome.permanent or receive_count >= max_receives:
        _finish(notification, [Notification.status.set(FAILED), Notification.error.set(outcome.error)])
        logger.warning("notification failed", extra={**log_extra, "error": outcome.error})
        _on_timeline(notification, status=FAILED, error=outcome.error)
        return
    _finish(notification, [Notification.error.set(outcome.error)])
    logger.info("notification send failed; it will be retried", extra={**log_extra, "error": outcome.error})
    raise DeliveryFailed(outcome.error)


def _on_timeline(notification: Notification, *, status: str, error: str | None) -> None:
    """A ``notified`` entry on the incident's timeline; the record stays the source of truth, so a
    failure to write the entry is logged, not retried."""
    data = {"channel": notification.channel, "target": notification.target, "kind": notification.kind}
    data["status"] = status
    if error:
        data["error"] = error
    try:
        IncidentEvent(
            notification.incident_key, new_id(), at=now_seconds(), type="notified", actor_id=None, data=data
        ).save()
    except PynamoDBException:
        logger.exception("could not add a notification to the timeline")


def _claim(notification: Notification, *, now: int) -> None:
    """Count the attempt and hold the record, unless anything wrote it since it was read."""
    try:
        notification.update(
            actions=[
                Notification.attempts.add(1),
                Notification.claimed_until.set(now + CLAIM_SECONDS),
                Notification.version.add(1),
            ],
            condition=(Notification.version == notification.version) & (Notification.status == QUEUED),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            raise DeliveryInProgress("another delivery claimed this notification first") from exc
        raise


def _finish(notification: Notification, actions: list[Any]) -> None:
    """Record the outcome and release the claim, if the claim is still ours."""
    try:
        notification.update(
            actions=[*actions, Notification.claimed_until.remove(), Notification.version.add(1)],
            condition=Notification.version == notification.version,
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        logger.warning(
            "a notification changed while it was being sent; its outcome is not recorded",
            extra={
                "incident_key": notification.incident_key,
                "notification_id": notification.notification_id,
            },
        )


def _send(notification: Notification, *, now: int) -> _Outcome:
    summary = formats.IncidentSummary.from_dict(notification.summary.as_dict())
    channel = notification.channel
    try:
        if channel == "email":
            message = formats.email_message(summary, to=notification.target, reason=notification.reason)
            return _Outcome(provider_id=mailer.send_email(message))
        if channel == "sms":
            number = formats.check_e164(notification.target)
            return _Outcome(provider_id=sms.send_sms(number, formats.sms_text(summary, notification.reason)))
        if channel == "webhook":
            return _post_webhook(notification, summary, now=now)
        if channel == "slack":
            body = _json_bytes(formats.slack_payload(summary, notification.reason))
            return _post(notification, body, headers={})
        return _Outcome(error=f"unknown channel {channel!r}", permanent=True)
    except InvalidInput as exc:
        return _Outcome(error=str(exc), permanent=True)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "Error")
        service = "ses" if channel == "email" else "sns"
        return _Outcome(
            error=_short(f"{service}: {code}: {error.get('Message') or ''}".rstrip(": ")),
            permanent=code in _PERMANENT_AWS_ERRORS,
        )
    except BotoCoreError as exc:
        return _Outcome(error=_short(f"{channel}: {exc}"))
    except Exception as exc:  # a bug must still end as a recorded failure, not a record stuck queued
        logger.exception("unexpected failure sending a notification")
        return _Outcome(error=f"internal: {type(exc).__name__}")


def _post_webhook(notification: Notification, summary: formats.IncidentSummary, *, now: int) -> _Outcome:
    event = formats.webhook_event(notification.kind, step=int(notification.step), loop=int(notification.loop))
    delivery = delivery_id(notification)
    body = _json_bytes(formats.webhook_payload(summary, event, sent_at=now, delivery_id=delivery))
    signature = formats.sign_webhook(body, secret=webhook_signing_secret(notification.org_id), timestamp=now)
    headers = {
        formats.SIGNATURE_HEADER: signature,
        "X-Vigil-Event": event,
        "X-Vigil-Delivery": delivery,
    }
    return _post(notification, body, headers=headers)


def _post(notification: Notification, body: bytes, *, headers: dict[str, str]) -> _Outcome:
    result = webhook_sender.post_json(
        notification.target,
        body,
        headers,
        timeout=WEBHOOK_TIMEOUT_SECONDS,
        allow_private=settings.allow_private_targets,
    )
    if result.ok:
        return _Outcome(provider_id=delivery_id(notification))
    status = result.status_code
    retryable = status is None or status >= 500 or status in _RETRYABLE_HTTP
    return _Outcome(error=result.error or f"status {status}", permanent=result.refused or not retryable)


def delivery_id(notification: Notification) -> str:
    """Stable across retries: what webhook receivers see as ``X-Vigil-Delivery`` and the payload's id."""
    digest = hashlib.sha256(f"{notification.incident_key}/{notification.notification_id}".encode())
    return "dlv_" + digest.hexdigest()[:24]


def webhook_signing_secret(org_id: str) -> str:
    """HMAC-SHA256 of ``webhook:<org_id>`` keyed with the JWT secret: one per org, stored nowhere.

    Rotating the JWT secret rotates every org's webhook secret. No endpoint shows it yet.
    """
    return formats.webhook_secret(jwt_secret(), org_id)


def _json_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def _short(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---- the log the API shows ----------------------------------------------------------------------


def notifications_for(org_id: str, incident_id: str) -> list[Notification]:
    """Every notification of an incident, oldest first (ids sort by step, not by time)."""
    found = Notification.query(incident_key(org_id, incident_id), consistent_read=True)
    return sorted(found, key=lambda n: (int(n.created_at), n.notification_id))


def notification_to_api(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.notification_id,
        "channel": notification.channel,
        "target": notification.target,
        "status": notification.status,
        "attempts": int(notification.attempts or 0),
        "error": notification.error,
        "sent_at": iso(notification.sent_at) if notification.sent_at is not None else None,
        "kind": notification.kind,
        "step": int(notification.step or 0),
        "loop": int(notification.loop or 0),
        "created_at": iso(notification.created_at),
    }
