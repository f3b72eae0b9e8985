"""The alert consumers: the intake queue's router, then the alerts queue's handler that opens,
groups, acknowledges and resolves incidents."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.adapters.alert_queue import INTAKE_QUEUE_NAME, QUEUE_NAME
from chalicelib.settings import settings
from chalicelib.usecases import alert_handling, alert_routing, alert_taking

bp = Blueprint(__name__)

BATCH_SIZE = 10  # the most a FIFO queue hands to Lambda at once


@bp.on_sqs_message(queue=settings.queue(INTAKE_QUEUE_NAME), batch_size=BATCH_SIZE)
def route_alerts(event: SQSEvent) -> dict[str, Any]:
    return intake_batch(event.to_dict(), event.context)


@bp.on_sqs_message(queue=settings.queue(QUEUE_NAME), batch_size=BATCH_SIZE)
def ingest_alerts(event: SQSEvent) -> dict[str, Any]:
    return alert_batch(event.to_dict(), event.context)


def intake_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Each message is what one request took (or a part of it)."""

    def route(record: SQSRecord) -> None:
        # ValueError: poison, to the DLQ
        alert_routing.route(alert_taking.TakenAlerts.from_message(record.body))

    return _fifo_batch(event, context, route)


def alert_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Each message is one alert."""

    def handle(record: SQSRecord) -> None:
        # ValueError: poison, to the DLQ
        alert_handling.handle(alert_routing.QueuedAlert.from_json(record.body))

    return _fifo_batch(event, context, handle)


def _fifo_batch(
    event: dict[str, Any], context: Any, record_handler: Callable[[SQSRecord], None]
) -> dict[str, Any]:
    """A failed message is reported with the rest of its group's messages (FIFO: nothing of that
    group may overtake it); other groups' messages go on."""
    processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    # A batch whose every record failed is reported like any other rather than raised.
    processor.raise_on_entire_batch_failure = False
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
