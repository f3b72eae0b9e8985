"""The scheduler: every tick, send the probe jobs due before the horizon.

It keeps ``dispatched_until`` on the scheduler's item, so each tick sends only
what no tick sent yet, whatever the tick's rate (a minute on AWS, a second in
the local stack), and it finds due services with one Query per interval in use
and offset range on the sparse ``by-schedule`` index — never a Scan.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools import Logger
from pynamodb.exceptions import UpdateError

from chalicelib.adapters import probe_queue
from chalicelib.adapters.probe_queue import ProbeJob, pack_messages
from chalicelib.domain.schedule import fire_times, offset_ranges
from chalicelib.models.services import SCHEDULER_PARTITION, SchedulerState, Service
from chalicelib.settings import settings
from chalicelib.usecases.dynamo import condition_failed

logger = Logger(service="vigil", child=True, level=settings.log_level)


@dataclass(frozen=True)
class Dispatch:
    window_start: int
    window_end: int
    jobs: int
    messages: int


def due_jobs(intervals: set[int], *, window_start: int, window_seconds: int) -> list[ProbeJob]:
    jobs = []
    for interval in sorted(intervals):
        for low, high in offset_ranges(interval, window_start, window_seconds):
            for entry in Service.by_schedule.query(interval, Service.sched_offset.between(low, high)):
                for fire_at in fire_times(int(entry.sched_offset), interval, window_start, window_seconds):
                    jobs.append(ProbeJob(entry.org_id, entry.service_id, fire_at))
    return jobs


def dispatch_due(*, now: int) -> Dispatch:
    state = SchedulerState.get_or_new()
    previous = int(state.dispatched_until or 0)
    window_start = max(previous, now)  # what was due while nobody dispatched is not sent late
    window_end = now + settings.dispatch_horizon_seconds
    if window_end <= window_start or not state.intervals:
        return Dispatch(window_start, window_start, 0, 0)
    jobs = due_jobs(
        {int(i) for i in state.intervals}, window_start=window_start, window_seconds=window_end - window_start
    )
    messages = pack_messages(jobs, now=now, jobs_per_message=settings.jobs_per_message)
    probe_queue.send(messages)
    try:
        SchedulerState(SCHEDULER_PARTITION, "state").update(
            actions=[SchedulerState.dispatched_until.set(window_end)],
            condition=SchedulerState.dispatched_until.does_not_exist()
            | (SchedulerState.dispatched_until == previous),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        # Another tick ran at the same time; the checker drops the duplicate jobs.
        logger.info("a concurrent scheduler run moved the window first")
    if jobs:
        logger.debug("dispatched", extra={"jobs": len(jobs), "messages": len(messages)})
    return Dispatch(window_start, window_end, len(jobs), len(messages))
