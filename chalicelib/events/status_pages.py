"""The status page publisher's entry points: four stream consumers that queue the pages a change
touches, the queue's consumer that renders them to S3, and the 5-minute republish.

Each stream consumer is a function of its own (never part of the escalation or real-time batches);
queueing is all it does, so a slow or failing upload never holds up or fails a stream batch. Only a
failure to queue fails a record (alone; bisected, retried, then set aside on AWS).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent, DynamoDBEvent, SQSEvent

from chalicelib.adapters.status_queue import QUEUE_NAME, PublishRequest
from chalicelib.domain.clock import now_seconds
from chalicelib.settings import settings
from chalicelib.usecases import status_publisher

bp = Blueprint(__name__)

Image = dict[str, Any] | None
Touches = Callable[[Image, Image], list[PublishRequest]]
BATCH_SIZE = 10  # the most a FIFO queue hands to Lambda at once


@bp.on_dynamodb_record(stream_arn=settings.services_stream_arn, batch_size=100, starting_position="LATEST")
def status_on_service_change(event: DynamoDBEvent) -> dict[str, Any]:
    return queue_touched(event.to_dict(), event.context, touches=status_publisher.service_change)


@bp.on_dynamodb_record(
    stream_arn=settings.status_pages_stream_arn, batch_size=100, starting_position="LATEST"
)
def status_on_page_change(event: DynamoDBEvent) -> dict[str, Any]:
    return queue_touched(event.to_dict(), event.context, touches=status_publisher.page_change)


@bp.on_dynamodb_record(
    stream_arn=settings.status_posts_stream_arn, batch_size=100, starting_position="LATEST"
)
def status_on_post_change(event: DynamoDBEvent) -> dict[str, Any]:
    return queue_touched(event.to_dict(), event.context, touches=status_publisher.post_change)


@bp.on_dynamodb_record(
    stream_arn=settings.maintenance_windows_stream_arn, batch_size=100, starting_position="LATEST"
)
def status_on_window_change(event: DynamoDBEvent) -> dict[str, Any]:
    return queue_touched(event.to_dict(), event.context, touches=status_publisher.window_change)


@bp.on_sqs_message(queue=settings.queue(QUEUE_NAME), batch_size=BATCH_SIZE)
def publish_status_pages(event: SQSEvent) -> dict[str, Any]:
    return publish_batch(event.to_dict(), event.context)


@bp.schedule(Rate(5, unit=Rate.MINUTES), description="Republish every status page (the uptime bars)")
def republish_status_pages(event: CloudWatchEvent) -> None:
    status_publisher.request_every_page(now=now_seconds())


def queue_touched(event: dict[str, Any], context: Any, *, touches: Touches) -> dict[str, Any]:
    """The pages the batch's records touch, queued in one go: a burst of records about one page is one
    request (and SQS drops the repeats of a slot). A failure to queue fails every record."""
    requests: list[PublishRequest] = []

    def read(record: DynamoDBRecord) -> None:
        raw = record.raw_event.get("dynamodb") or {}
        requests.extend(touches(raw.get("OldImage"), raw.get("NewImage")))

    response = process_partial_response(
        event=event,
        record_handler=read,
        processor=BatchProcessor(event_type=EventType.DynamoDBStreams),
        context=context,
    )
    status_publisher.request(requests, now=now_seconds())
    return dict(response)


def publish_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Each message renders a page (or removes an old slug's files). A failure is reported with the
    rest of its page's messages (FIFO); SQS redelivers them, then sets them aside in the DLQ."""

    def handle(record: SQSRecord) -> None:
        status_publisher.handle(PublishRequest.from_json(record.body), now=now_seconds())

    processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    processor.raise_on_entire_batch_failure = False
    return dict(
        process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
    )
