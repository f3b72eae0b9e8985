"""Real-time events: the stream consumers that turn each visible change into an org event and push it
(the WebSocket routes are chalicelib/events/websocket.py).

The publishers are consumers of their own on each stream, not part of the escalation handler: a slow
or failing push never holds up or fails the batch that pages people. Each record's `data` is shaped
by the REST API's own functions, so a socket gets exactly what a GET returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from chalice import Blueprint
from chalice.app import DynamoDBEvent

from chalicelib.adapters.websocket_push import WebsocketPusher, websocket_api
from chalicelib.api.shapes import event_to_api, incident_to_api, service_to_api
from chalicelib.domain import realtime as rules
from chalicelib.domain.clock import now_seconds
from chalicelib.domain.realtime import Change, StreamChange
from chalicelib.domain.roles import Role
from chalicelib.models.incidents import Incident, IncidentEvent
from chalicelib.models.services import PING_TOKEN_PARTITION_PREFIX, SCHEDULER_PARTITION, Service
from chalicelib.settings import settings
from chalicelib.usecases import realtime

logger = Logger(service="vigil", child=True, level=settings.log_level)

bp = Blueprint(__name__)

Image = dict[str, Any] | None
# A stream record's images (DynamoDB JSON) -> (org_id, the change) or None when it is no event.
ChangeReader = Callable[[str, Image, Image], tuple[str, Change] | None]


@bp.on_dynamodb_record(stream_arn=settings.incidents_stream_arn, batch_size=100, starting_position="LATEST")
def publish_incident_changes(event: DynamoDBEvent) -> dict[str, Any]:
    return publish(event.to_dict(), event.context, read=incident_record)


@bp.on_dynamodb_record(stream_arn=settings.services_stream_arn, batch_size=100, starting_position="LATEST")
def publish_service_changes(event: DynamoDBEvent) -> dict[str, Any]:
    return publish(event.to_dict(), event.context, read=service_record)


@bp.on_dynamodb_record(
    stream_arn=settings.incident_events_stream_arn, batch_size=100, starting_position="LATEST"
)
def publish_timeline_changes(event: DynamoDBEvent) -> dict[str, Any]:
    return publish(event.to_dict(), event.context, read=timeline_record)


def incident_record(name: str, old: Image, new: Image) -> tuple[str, Change] | None:
    before = incident_to_api(Incident.from_raw_data(old)) if old else None
    after = incident_to_api(Incident.from_raw_data(new)) if new else None
    change = rules.incident_change(StreamChange(name), before, after)
    shown = after or before
    return None if change is None or shown is None else (shown["org_id"], change)


def service_record(name: str, old: Image, new: Image) -> tuple[str, Change] | None:
    org_id = str(((new or old or {}).get("org_id") or {}).get("S", ""))
    if not org_id or org_id == SCHEDULER_PARTITION or org_id.startswith(PING_TOKEN_PARTITION_PREFIX):
        return None  # the scheduler's own bookkeeping and the ping token lookups share the table
    # As a viewer sees it: probe headers may hold credentials, and every member gets the frame.
    before = service_to_api(Service.from_raw_data(old), role=Role.VIEWER) if old else None
    after = service_to_api(Service.from_raw_data(new), role=Role.VIEWER) if new else None
    change = rules.service_change(StreamChange(name), before, after)
    return None if change is None else (org_id, change)


def timeline_record(name: str, old: Image, new: Image) -> tuple[str, Change] | None:
    if not new:
        return None
    entry = IncidentEvent.from_raw_data(new)
    org_id, _, incident_id = entry.incident_key.partition("#")
    change = rules.timeline_change(StreamChange(name), event_to_api(entry), incident_id=incident_id)
    return None if change is None else (org_id, change)


def publish(event: dict[str, Any], context: Any, *, read: ChangeReader) -> dict[str, Any]:
    """Each record that is a visible change becomes one org event, pushed to the org's sockets. Only
    a failure to read or store a record fails it (alone; bisected, then set aside, on AWS)."""
    pusher = WebsocketPusher(websocket_api, api_id=settings.websocket_api_id)

    def handle(record: DynamoDBRecord) -> None:
        raw = record.raw_event.get("dynamodb") or {}
        found = read(str(record.raw_event.get("eventName")), raw.get("OldImage"), raw.get("NewImage"))
        if found is None:
            return
        org_id, change = found
        created = raw.get("ApproximateCreationDateTime") or now_seconds()
        seq = rules.event_seq(float(created), str(raw["SequenceNumber"]))
        realtime.record_and_push(org_id, seq=seq, at=int(float(created)), change=change, pusher=pusher)

    response = process_partial_response(
        event=event,
        record_handler=handle,
        processor=BatchProcessor(event_type=EventType.DynamoDBStreams),
        context=context,
    )
    return dict(response)
