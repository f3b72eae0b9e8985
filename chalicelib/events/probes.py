"""The probe pipeline's entry points: the scheduler, the rollup fold and the checker."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent, SQSEvent

from chalicelib.adapters.probe_queue import ProbeJob, parse_jobs
from chalicelib.domain.clock import now_seconds
from chalicelib.settings import settings
from chalicelib.usecases import checker, history, scheduler

logger = Logger(service="vigil", child=True, level=settings.log_level)

bp = Blueprint(__name__)

# Four messages of up to 25 jobs: 100 probes at once per invocation, each with its own timeout.
CHECKER_BATCH_SIZE = 4


@bp.schedule(Rate(1, unit=Rate.MINUTES), description="Send the probe jobs due in the coming minute")
def dispatch_probes(event: CloudWatchEvent) -> None:
    scheduler.dispatch_due(now=now_seconds())


@bp.schedule(Rate(1, unit=Rate.MINUTES), description="Fold complete hours of checks into daily rollups")
def fold_check_rollups(event: CloudWatchEvent) -> None:
    history.fold_complete_hours(now=now_seconds())


@bp.on_sqs_message(queue=settings.queue("probes"), batch_size=CHECKER_BATCH_SIZE)
def run_probe_batch(event: SQSEvent) -> dict[str, Any]:
    return probe_batch(event.to_dict(), event.context)


def probe_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Probe every job of every message at once, then record message by message (a message's
    results in one write per result shard).

    A message whose jobs cannot be recorded is reported in ``batchItemFailures`` and comes back
    alone; what its neighbours recorded stays recorded (and would be skipped if seen again).
    """
    jobs_by_message: dict[str, list[ProbeJob]] = {}
    for raw in event.get("Records", []):
        try:
            jobs_by_message[raw["messageId"]] = parse_jobs(raw["body"])
        except (ValueError, KeyError, TypeError):
            logger.warning("malformed probe message", extra={"message_id": raw.get("messageId")})
    all_jobs = [job for jobs in jobs_by_message.values() for job in jobs]
    checked = checker.run_checks(all_jobs)
    by_job = {(c.job.org_id, c.job.service_id, c.job.scheduled_at): c for c in checked}

    def record_message(record: SQSRecord) -> None:
        jobs = jobs_by_message.get(record.message_id)
        if jobs is None:
            raise ValueError("malformed probe message")
        checker.record_all([by_job[(job.org_id, job.service_id, job.scheduled_at)] for job in jobs])

    response = process_partial_response(
        event=event,
        record_handler=record_message,
        processor=BatchProcessor(event_type=EventType.SQS),
        context=context,
    )
    return dict(response)
