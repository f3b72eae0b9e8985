"""The probe pipeline's entry points: the scheduler, the rollup fold and the checker."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, wait
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
    """Probe every job of every message at once, recording each job as soon as its probe is done
    (on a few threads, while the other probes run), then report message by message.

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
    with ThreadPoolExecutor(max_workers=RECORDERS, thread_name_prefix="record") as recorders:
        recorded = _Recorder(recorders)
        checker.run_checks(all_jobs, on_checked=recorded.submit)

        def record_message(record: SQSRecord) -> None:
            jobs = jobs_by_message.get(record.message_id)
            if jobs is None:
                raise ValueError("malformed probe message")
            for job in jobs:
                recorded.wait(job)  # raises what recording it raised

        response = process_partial_response(
            event=event,
            record_handler=record_message,
            processor=BatchProcessor(event_type=EventType.SQS),
            context=context,
        )
    return dict(response)


# Threads recording results while probes run: each record is a write or two of a few milliseconds.
RECORDERS = 8

_JobKey = tuple[str, str, int]


class _Recorder:
    """checker.record for each checked job, on the pool; one service's jobs one after the other, in
    the order they were checked (a transition is decided on what the previous one wrote)."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self._pool = pool
        self._jobs: dict[_JobKey, Future[None]] = {}
        self._last_of_service: dict[tuple[str, str], Future[None]] = {}

    def submit(self, checked: checker.CheckedJob) -> None:
        job = checked.job
        key = (job.org_id, job.service_id, job.scheduled_at)
        if key in self._jobs:
            return  # the same job in two messages: recorded once (a second time would change nothing)
        before = self._last_of_service.get((job.org_id, job.service_id))
        self._jobs[key] = self._last_of_service[(job.org_id, job.service_id)] = self._pool.submit(
            _record_after, before, checked
        )

    def wait(self, job: ProbeJob) -> None:
        self._jobs[(job.org_id, job.service_id, job.scheduled_at)].result()


def _record_after(before: Future[None] | None, checked: checker.CheckedJob) -> None:
    if before is not None:
        wait([before])  # submitted earlier, so running or done already: this cannot deadlock
    checker.record(checked)
