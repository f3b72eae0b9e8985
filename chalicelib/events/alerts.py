"""The alerts consumer: accepted alerts open, group, acknowledge and resolve incidents."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.adapters.alert_queue import QUEUE_NAME
from chalicelib.settings import settings
from chalicelib.usecases import alert_handling, alert_taking

bp = Blueprint(__name__)

BATCH_SIZE = 10  # the most a FIFO queue hands to Lambda at once


@bp.on_sqs_message(queue=settings.queue(QUEUE_NAME), batch_size=BATCH_SIZE)
def ingest_alerts(event: SQSEvent) -> dict[str, Any]:
    return alert_batch(event.to_dict(), event.context)


def alert_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Each message is one alert. A failed one is reported with the rest of its dedup key's messages
    (FIFO: nothing about that key may overtake it); other keys' messages go on."""

    def handle(record: SQSRecord) -> None:
        # ValueError: poison, to the DLQ
        alert_handling.handle(alert_taking.QueuedAlert.from_json(record.body))

    processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    # A batch whose every record failed is reported like any other rather than raised.
    processor.raise_on_entire_batch_failure = False
    response = process_partial_response(
        event=event, record_handler=handle, processor=processor, context=context
    )
    return dict(response)
