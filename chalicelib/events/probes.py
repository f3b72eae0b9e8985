"""The probe pipeline's entry points: the scheduler, the rollup fold and the checker."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
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
    """Probe every job of every message at once; as soon as a message's last probe is done, record
    its results (one write per result shard, on a few threads, while the other probes run); then
    report message by message.

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
        recorded = _Recorder(recorders, jobs_by_message)
        for checked in checker.run_checks(all_jobs, on_checked=recorded.checked):
            recorded.checked(checked)  # a no-op for those already told (every one, normally)

        def record_message(record: SQSRecord) -> None:
            if record.message_id not in jobs_by_message:
                raise ValueError("malformed probe message")
            recorded.wait(record.message_id)  # raises what recording it raised

        response = process_partial_response(
            event=event,
            record_handler=record_message,
            processor=BatchProcessor(event_type=EventType.SQS),
            context=context,
        )
    return dict(response)


# Threads recording messages' results while other probes run: a message is a write per result shard
# (and a write per service whose state changed).
RECORDERS = 4

_JobKey = tuple[str, str, int]


class _Recorder:
    """checker.record_all for each message, on the pool, once every job of the message is checked."""

    def __init__(self, pool: ThreadPoolExecutor, jobs_by_message: dict[str, list[ProbeJob]]) -> None:
        self._pool = pool
        self._jobs_by_message = jobs_by_message
        self._waiting: dict[str, set[_JobKey]] = {}
        self._messages_of: dict[_JobKey, list[str]] = {}
        self._checked: dict[_JobKey, checker.CheckedJob] = {}
        self._recording: dict[str, Future[None]] = {}
        for message_id, jobs in jobs_by_message.items():
            keys = {_key(job) for job in jobs}
            self._waiting[message_id] = keys
            for key in keys:
                self._messages_of.setdefault(key, []).append(message_id)
        for message_id, keys in self._waiting.items():
            if not keys:
                self._submit(message_id)

    def checked(self, checked: checker.CheckedJob) -> None:
        key = _key(checked.job)
        if key in self._checked:
            return
        self._checked[key] = checked
        for message_id in self._messages_of.get(key, []):
            waiting = self._waiting[message_id]
            waiting.discard(key)
            if not waiting and message_id not in self._recording:
                self._submit(message_id)

    def _submit(self, message_id: str) -> None:
        keys = list(dict.fromkeys(_key(job) for job in self._jobs_by_message[message_id]))
        self._recording[message_id] = self._pool.submit(checker.record_all, [self._checked[k] for k in keys])

    def wait(self, message_id: str) -> None:
        self._recording[message_id].result()


def _key(job: ProbeJob) -> _JobKey:
    return (job.org_id, job.service_id, job.scheduled_at)
