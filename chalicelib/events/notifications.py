"""The notification sender: one SQS message per notification record (or per batch of a status
page's subscribers for a notice), up to ten per invocation."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.adapters import notification_queue
from chalicelib.settings import settings
from chalicelib.usecases import notifications, subscribers
from chalicelib.usecases.notifications import DeliveryFailed

logger = Logger(service="vigil", child=True, level=settings.log_level)

bp = Blueprint(__name__)

BATCH_SIZE = 10
# The queue's maxReceiveCount (infra/template.yaml): the receive that marks a failing send `failed`,
# so a notification reaches the DLQ only when its message cannot be read at all.
MAX_RECEIVES = 5
BACKOFF_BASE_SECONDS = 5
BACKOFF_MAX_SECONDS = 900


@bp.on_sqs_message(queue=settings.queue("notifications"), batch_size=BATCH_SIZE)
def send_notifications(event: SQSEvent) -> dict[str, Any]:
    return notification_batch(event.to_dict(), event.context)


def notification_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Deliver each message's notification; a failed one is reported in ``batchItemFailures`` and
    comes back alone, later each time (10 s, 20 s, 40 s, 80 s), while its neighbours are done."""

    def deliver(record: SQSRecord) -> None:
        key = notification_queue.parse_body(record.body)  # ValueError: poison, left for the DLQ
        receive_count = int(record.attributes.approximate_receive_count or 1)
        try:
            if isinstance(key, notification_queue.NoticeBatchKey):
                subscribers.deliver_notice_batch(
                    key.page_key, key.notice_batch, receive_count=receive_count, max_receives=MAX_RECEIVES
                )
                return
            notifications.deliver(
                key.incident_key,
                key.notification_id,
                receive_count=receive_count,
                max_receives=MAX_RECEIVES,
            )
        except DeliveryFailed:
            _back_off(record, receive_count)
            raise

    response = process_partial_response(
        event=event,
        record_handler=deliver,
        # A batch whose every record failed is reported like any other rather than raised: each
        # message keeps the backoff it was given, and the result says which failed.
        processor=BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False),
        context=context,
    )
    return dict(response)


def backoff_seconds(receive_count: int) -> int:
    return int(min(BACKOFF_BASE_SECONDS * 2 ** max(receive_count, 0), BACKOFF_MAX_SECONDS))


def _back_off(record: SQSRecord, receive_count: int) -> None:
    """Hide the message a while longer than the last time; without this it would return in 120 s."""
    try:
        notification_queue.delay_redelivery(record.receipt_handle, backoff_seconds(receive_count))
    except Exception:  # the message still comes back, on the queue's visibility timeout
        logger.warning("could not delay a failed notification", extra={"message_id": record.message_id})
