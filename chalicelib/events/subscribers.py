"""Status page subscribers' entry point: the posts table's stream tells each new post's page
subscribers (through the notifications queue). A replayed record names the same post, and a post is
told once (its id is the notice's key), so a retry emails nobody twice."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from chalice import Blueprint
from chalice.app import DynamoDBEvent

from chalicelib.settings import settings
from chalicelib.usecases import subscribers

bp = Blueprint(__name__)


@bp.on_dynamodb_record(stream_arn=settings.status_posts_stream_arn, batch_size=25, starting_position="LATEST")
def tell_subscribers_of_posts(event: DynamoDBEvent) -> dict[str, Any]:
    return post_notices(event.to_dict(), event.context)


def post_notices(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Each new post queues its notice; a record that fails is reported alone (bisected, retried)."""

    def tell(record: DynamoDBRecord) -> None:
        if record.event_name is not DynamoDBRecordEventName.INSERT:
            return  # posts never change; a deleted one is told nothing
        image = (record.raw_event.get("dynamodb") or {}).get("NewImage")
        if image:
            subscribers.announce_new_post(image)

    response = process_partial_response(
        event=event,
        record_handler=tell,
        processor=BatchProcessor(event_type=EventType.DynamoDBStreams),
        context=context,
    )
    return dict(response)
