"""Incident fan-out: the incidents table's stream, and the minute schedule for due work."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent, DynamoDBEvent

from chalicelib.domain.clock import now_seconds
from chalicelib.settings import settings
from chalicelib.usecases import escalation, incidents

logger = Logger(service="vigil", child=True, level=settings.log_level)

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES), description="Fire due escalation steps; end snoozes that ran out")
def run_due_incident_work(event: CloudWatchEvent) -> None:
    escalation.fire_due(now=now_seconds())


@bp.on_dynamodb_record(stream_arn=settings.incidents_stream_arn, batch_size=25, starting_position="LATEST")
def on_incident_change(event: DynamoDBEvent) -> dict[str, Any]:
    return incident_changes(event.to_dict(), event.context)


def incident_changes(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A new incident fires its first step; a status change tells the people already paged.
    Every action is idempotent, so a replayed record sends nothing twice; a failing record is
    reported alone (and bisected, then sent to the on-failure queue, on AWS)."""

    def handle(record: DynamoDBRecord) -> None:
        change = record.dynamodb
        if change is None or not change.keys:
            return
        org_id, incident_id = str(change.keys["org_id"]), str(change.keys["incident_id"])
        now = now_seconds()
        logger.debug("incident change", extra={"incident_id": incident_id, "event": str(record.event_name)})
        if record.event_name is not None and record.event_name.name == "INSERT":
            escalation.on_new_incident(org_id, incident_id, now=now)
        elif record.event_name is not None and record.event_name.name == "MODIFY":
            old = (change.old_image or {}).get("status")
            new = (change.new_image or {}).get("status")
            version = (change.new_image or {}).get("version")
            if old and new and old != new and version is not None:
                incidents.on_status_change(
                    org_id, incident_id, old=str(old), new=str(new), version=int(version)
                )

    response = process_partial_response(
        event=event,
        record_handler=handle,
        processor=BatchProcessor(event_type=EventType.DynamoDBStreams),
        context=context,
    )
    return dict(response)
