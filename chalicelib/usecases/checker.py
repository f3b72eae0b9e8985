"""The checker: probe a batch of jobs concurrently, record each result, move each monitor.

Idempotent by construction, because SQS delivers at least once:
- the results of a message are recorded together, one UpdateItem per result shard
  (``models.checks.ResultSlot``) whose key the message's jobs decide: a redelivered
  message writes the same item again, and a result recorded twice by two messages
  (two scheduler runs at once) is counted once where results are read and folded
  into the hour buckets (by service and scheduled second);
- a state change is a conditional write on the service's ``version`` and only
  counts checks scheduled after the last one that moved the state
  (``last_counted_at``), so a redelivered or stale job moves nothing;
- opening an incident is part of the same transaction as the move to ``down``:
  two checkers racing on one service open one incident.
A steady-state check (nothing changed) therefore writes nothing of its own: it is a
share of its message's result write (25 jobs to a message).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import size
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.probe_queue import ProbeJob
from chalicelib.adapters.prober import ProbeRequest, ProbeResult, probe_async, run_async
from chalicelib.adapters.safe_connections import Certificate
from chalicelib.domain import transitions
from chalicelib.domain.assertions import check_assertions
from chalicelib.domain.checks import HOUR, CheckRecord, counters_of, hour_of, pack, result_shard, result_slot
from chalicelib.domain.incidents import Status
from chalicelib.domain.metrics import SEVERITIES, Rollup
from chalicelib.domain.monitoring import CheckOutcome, MonitorState, MonitorStatus, Thresholds, next_state
from chalicelib.domain.schedule import is_missed
from chalicelib.domain.status_codes import StatusRanges
from chalicelib.domain.tls import certificate_read_due
from chalicelib.domain.transitions import Source
from chalicelib.models.checks import (
    SEVERITY_ATTRIBUTES,
    DailyRollup,
    HourBucket,
    ResultSlot,
    add_check_counters,
    service_key,
)
from chalicelib.models.incidents import Incident
from chalicelib.models.services import SCHEDULER_PARTITION, Service
from chalicelib.settings import settings
from chalicelib.usecases import maintenance
from chalicelib.usecases.dynamo import condition_failed, one_client_per_connection, transaction_connection

logger = Logger(service="vigil", child=True, level=settings.log_level)

DAY = 86_400
MAX_TRANSITION_ATTEMPTS = 4
MAX_STORE_ATTEMPTS = 4
# Results wait in their shard items until the hourly fold moves them into hour buckets; the fold
# catches up 48 hours, so they are kept a day longer than that.
RESULT_RETENTION_SECONDS = 3 * DAY


@dataclass(frozen=True)
class CheckedJob:
    job: ProbeJob
    record: CheckRecord | None  # None: nothing to record (service gone or paused)
    service: Service | None = None  # as read before probing: a steady check needs no other read
    certificate: Certificate | None = None  # read this check (https, at most once a day)


def _load(keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Service]:
    """Eventually consistent (half the read cost): enough for the config and to see that a check
    changes nothing; any state change is decided on a strongly consistent read."""
    if not keys:
        return {}
    return {(s.org_id, s.service_id): s for s in Service.batch_get(list(keys), consistent_read=False)}


# Services are read in slices, a few at once, and each slice's probes start as soon as it arrives.
LOAD_SLICE = 25
LOADERS = 4


def run_checks(
    jobs: Sequence[ProbeJob],
    *,
    started_at: float | None = None,
    on_checked: Callable[[CheckedJob], None] | None = None,
) -> list[CheckedJob]:
    """Probe every job of the batch at once (each with its own timeout) and make its record; in the
    order of the jobs. ``on_checked`` is called (on this thread) with each job as soon as its check
    is done, so that it can be recorded while the other probes run."""
    now = time.time() if started_at is None else started_at
    if not jobs:
        return []
    one_client_per_connection()  # services are read, and results recorded, on several threads
    return run_async(lambda: _run_checks(jobs, now=now, on_checked=on_checked))


async def _run_checks(
    jobs: Sequence[ProbeJob], *, now: float, on_checked: Callable[[CheckedJob], None] | None
) -> list[CheckedJob]:
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    checked: list[CheckedJob | None] = [None] * len(jobs)
    positions: dict[tuple[str, str], list[int]] = {}
    for position, job in enumerate(jobs):
        positions.setdefault((job.org_id, job.service_id), []).append(position)

    def done(position: int, checked_job: CheckedJob) -> None:
        checked[position] = checked_job
        if on_checked is not None:
            on_checked(checked_job)

    limit = asyncio.Semaphore(max(1, settings.probe_concurrency))

    async def check(position: int, service: Service) -> None:
        job = jobs[position]
        async with limit:
            result = await probe_async(_probe_request(service, now=now))
        done(position, CheckedJob(job, _record(job, result), service, result.certificate))

    probes: list[asyncio.Task[None]] = []
    loop = asyncio.get_running_loop()
    keys = [key for key in positions if key[0] != SCHEDULER_PARTITION]
    slices = [keys[first : first + LOAD_SLICE] for first in range(0, len(keys), LOAD_SLICE)]
    with ThreadPoolExecutor(max_workers=max(1, min(LOADERS, len(slices)))) as loaders:
        loads = [_slice_loaded(loop.run_in_executor(loaders, _load, part), part) for part in slices]
        for loaded in asyncio.as_completed(loads):
            part, services = await loaded
            for key in part:
                service = services.get(key)
                for position in positions[key]:
                    job = jobs[position]
                    if service is None or not service.enabled:
                        done(position, CheckedJob(job, None))
                    elif is_missed(job.scheduled_at, now, int(service.interval_seconds)):
                        missed = CheckRecord(job.scheduled_at, "missed", None, None, "ran too late")
                        done(position, CheckedJob(job, missed))
                    else:
                        probes.append(asyncio.create_task(check(position, service)))
    for position, job in enumerate(jobs):
        if job.org_id == SCHEDULER_PARTITION:
            done(position, CheckedJob(job, None))
    await asyncio.gather(*probes)
    return [c for c in checked if c is not None]


async def _slice_loaded(
    loading: Awaitable[dict[tuple[str, str], Service]], keys: list[tuple[str, str]]
) -> tuple[list[tuple[str, str]], dict[tuple[str, str], Service]]:
    return keys, await loading


def _probe_request(service: Service, *, now: float) -> ProbeRequest:
    return ProbeRequest(
        url=service.url,
        method=service.method,
        headers=service.header_map(),
        timeout_seconds=float(service.timeout_seconds),
        expected_status=StatusRanges.parse(service.expected_status),
        keyword=service.keyword,
        allow_private=settings.allow_private_targets,
        verify_tls=service.verify_tls is not False,
        assertions=tuple(check_assertions(service.assertions)),
        read_certificate=service.url.lower().startswith("https://")
        and certificate_read_due(None if service.tls_read_at is None else int(service.tls_read_at), int(now)),
    )


def _record(job: ProbeJob, result: ProbeResult) -> CheckRecord:
    return CheckRecord(
        checked_at=job.scheduled_at,
        status="up" if result.up else "down",
        response_time_ms=result.response_time_ms,
        status_code=result.status_code,
        error=None if result.up else result.error,
    )


# ---- recording ----------------------------------------------------------------------------------


def record(checked: CheckedJob) -> None:
    """One job's ``record_all``."""
    record_all([checked])


def record_all(checked: Sequence[CheckedJob]) -> None:
    """Move each monitor (if its check says so), then store the results together. Safe to repeat:
    the jobs of one message are recorded by one call, so a redelivered message writes the same
    result items again."""
    done = [c for c in checked if c.record is not None]
    for c in done:
        assert c.record is not None
        apply_to_monitor(c.job, c.record, read_before=c.service)
        if c.certificate is not None and c.service is not None:
            from chalicelib.usecases import certificates  # a daily reading: not in the checker's cold start

            certificates.record_certificate(c.service, c.certificate, at=c.job.scheduled_at)
    store_results([(c.job, c.record) for c in done if c.record is not None])


def store_results(results: Sequence[tuple[ProbeJob, CheckRecord]]) -> int:
    """One UpdateItem per result shard and scheduled second: each result under its service key.

    The item's key is the group's second and its first service key, so the same message's results
    land on the same item however often it is delivered. Returns the items written."""
    groups: dict[tuple[str, int], dict[str, int | str | dict[str, object]]] = {}
    for job, check in results:
        shard = result_shard(job.service_id, settings.result_shards_per_second)
        group = groups.setdefault((shard, job.scheduled_at), {})
        group[service_key(job.org_id, job.service_id)] = pack(check)
    for (shard, second), packed in groups.items():
        ResultSlot(shard, result_slot(second, min(packed))).update(
            actions=[
                *(ResultSlot.result(key).set(value) for key, value in sorted(packed.items())),
                ResultSlot.expires_at.set(hour_of(second) + HOUR + RESULT_RETENTION_SECONDS),
            ]
        )
    return len(groups)


def store_check(job: ProbeJob, record: CheckRecord) -> bool:
    """Record one check directly in its hour bucket; False when its scheduled second was already
    stored. The fold does the same with an hour's results of each service (``store_checks``)."""
    return store_checks(job.org_id, job.service_id, [record]) == 1


def store_checks(org_id: str, service_id: str, records: Sequence[CheckRecord]) -> int:
    """Append the checks of one hour to the service's bucket in one UpdateItem, none of whose
    scheduled seconds (``s``) is recorded there yet; returns how many were added.

    Written on a new bucket, or else on the seconds read from it, conditioned on their count not
    having changed since, so the condition stays small however many checks an hour holds."""
    if not records:
        return 0
    hour = hour_of(records[0].checked_at)
    if any(hour_of(r.checked_at) != hour for r in records):
        raise ValueError("the checks of one hour bucket only")
    bucket = HourBucket(service_key(org_id, service_id), hour)
    pending = _one_per_second(records)
    condition = HourBucket.seconds.does_not_exist()
    for _ in range(MAX_STORE_ATTEMPTS):
        if not pending:
            return 0
        try:
            bucket.update(
                actions=[
                    HourBucket.seconds.add({r.checked_at - hour for r in pending}),
                    *bucket_actions(pending),
                ],
                condition=condition,
            )
            return len(pending)
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
        try:
            stored = HourBucket.get(bucket.service_key, hour, consistent_read=True, attributes_to_get=["s"])
        except HourBucket.DoesNotExist:
            condition = HourBucket.seconds.does_not_exist()
            continue
        recorded = {int(second) for second in (stored.seconds or set())}
        pending = [r for r in pending if r.checked_at - hour not in recorded]  # redelivered, or folded
        condition = size(HourBucket.seconds) == len(recorded)
    raise RuntimeError(f"could not store the checks of {bucket.service_key} at {hour}")


def _one_per_second(records: Sequence[CheckRecord]) -> list[CheckRecord]:
    by_second = {r.checked_at: r for r in records}
    return [by_second[at] for at in sorted(by_second)]


def bucket_actions(records: CheckRecord | Sequence[CheckRecord]) -> list[Any]:
    """Append the checks (of one hour) to their hour bucket and count them (a heartbeat's start or
    log ping counts not)."""
    batch = [records] if isinstance(records, CheckRecord) else list(records)
    hour = hour_of(batch[0].checked_at)
    actions: list[Any] = [
        HourBucket.checks.set((HourBucket.checks | []).append([pack(r) for r in batch])),
        HourBucket.expires_at.set(hour + HOUR + settings.check_retention_seconds),
    ]
    counters = sum((counters_of(r) for r in batch), Rollup())
    actions += add_check_counters(HourBucket, counters)
    return actions


def apply_to_monitor(job: ProbeJob, record: CheckRecord, *, read_before: Service | None = None) -> None:
    """Decided on a consistent read and written conditionally on its version; on a lost race, read
    again and decide again. A good check of a service that was up with clean counters when the batch
    read it changes nothing, so it costs no further read: the checks of one service are at least an
    interval apart, far longer than DynamoDB takes to make a write visible to every read."""
    if read_before is not None and _steady(read_before, record):
        return
    outcome = CheckOutcome(record.status)
    for _ in range(MAX_TRANSITION_ATTEMPTS):
        try:
            service = Service.get(job.org_id, job.service_id, consistent_read=True)
        except Service.DoesNotExist:
            return
        if not service.enabled or record.checked_at <= int(service.last_counted_at or 0):
            return  # paused, or an older or repeated check: it says nothing new
        state = MonitorState(
            MonitorStatus(service.status),
            int(service.consecutive_failures),
            int(service.consecutive_successes),
        )
        transition = next_state(
            state, outcome, Thresholds(int(service.failure_threshold), int(service.recovery_threshold))
        )
        if not transition.changed:
            return
        if maintenance.in_maintenance(job.org_id, job.service_id, record.checked_at):
            return  # a window began before the sweep moved the service: the check is only recorded
        try:
            _write_transition(
                service,
                transition.state,
                record,
                started=transition.outage_started,
                ended=transition.outage_ended,
            )
            return
        except (UpdateError, TransactWriteError) as exc:
            if not condition_failed(exc):
                raise
            logger.info(
                "lost a race on a monitor; reading it again", extra={"service_id": service.service_id}
            )
    logger.warning("gave up moving a monitor after repeated races", extra={"service_id": job.service_id})


def _steady(service: Service, record: CheckRecord) -> bool:
    if record.status == "missed" or service.status == MonitorStatus.MAINTENANCE.value:
        return True
    return (
        record.status == "up"
        and service.status == MonitorStatus.UP.value
        and not int(service.consecutive_failures or 0)
        and not int(service.consecutive_successes or 0)
    )


def _write_transition(
    service: Service, state: MonitorState, record: CheckRecord, *, started: bool, ended: bool
) -> None:
    write_transition(service, state, record, started=started, ended=ended)


def write_transition(
    service: Service,
    state: MonitorState,
    record: CheckRecord,
    *,
    started: bool,
    ended: bool,
    extra_actions: Sequence[Any] = (),
    also: Callable[[TransactWrite], None] | None = None,
) -> None:
    """The monitor's move, conditional on the version it was decided on; opening or resolving the
    outage's incident in the same transaction. Heartbeats add their own service actions and write
    their check (``also``) in that transaction too, so a ping is one write."""
    at = record.checked_at
    actions: list[Any] = [
        Service.status.set(state.status.value),
        Service.consecutive_failures.set(state.consecutive_failures),
        Service.consecutive_successes.set(state.consecutive_successes),
        Service.last_counted_at.set(at),
        Service.last_checked_at.set(at),
        Service.version.add(1),
        *extra_actions,
    ]
    condition = Service.version == service.version
    if not started and not ended and also is None:
        service.update(actions=actions, condition=condition)
        return
    # Incidents (and the policies, escalation and notifications they start) are imported by the first
    # outage a container sees, not by every cold start of the checker.
    from chalicelib.usecases import incidents

    key = service_key(service.org_id, service.service_id)
    with TransactWrite(connection=transaction_connection()) as tx:
        if also is not None:
            also(tx)
        if not started and not ended:
            tx.update(service, actions=actions, condition=condition)
        elif started:
            incident = incidents.new_monitor_incident(
                org_id=service.org_id,
                service_id=service.service_id,
                service_name=service.name,
                url=service.url or "The job",
                severity=service.severity,
                at=at,
                error=record.error,
                status_code=record.status_code,
                escalation_policy_id=service.escalation_policy_id,
            )
            actions += [Service.down_since.set(at), Service.open_incident_id.set(incident.incident_id)]
            tx.update(service, actions=actions, condition=condition)
            incidents.add_transition(
                tx, incident, transitions.opened(Source.MONITOR, reason=record.error), at=at, actor_id=None
            )
            tx.update(
                DailyRollup(key, at // DAY),
                actions=[DailyRollup.incident_count.add(1), _severity_attribute(service.severity).add(1)],
            )
            logger.info(
                "outage started",
                extra={"service_id": service.service_id, "incident_id": incident.incident_id},
            )
        else:
            down_since = int(service.down_since or at)
            actions += [Service.down_since.remove(), Service.open_incident_id.remove()]
            tx.update(service, actions=actions, condition=condition)
            rollup_actions: list[Any] = [DailyRollup.downtime_seconds.add(max(at - down_since, 0))]
            still_open = _unresolved_incident(service.org_id, service.open_incident_id)
            if still_open is not None:  # else resolved by hand already: the recovery only moves the service
                note = "the monitor recovered"
                incidents.add_transition(
                    tx,
                    still_open,
                    transitions.resolve(Status(still_open.status), now=at, note=note),
                    at=at,
                    actor_id=None,
                )
                rollup_actions += [
                    DailyRollup.resolved_count.add(1),
                    DailyRollup.resolve_seconds_sum.add(max(at - int(still_open.created_at), 0)),
                ]
            tx.update(DailyRollup(key, at // DAY), actions=rollup_actions)
            logger.info("outage ended", extra={"service_id": service.service_id})


def _unresolved_incident(org_id: str, incident_id: str | None) -> Incident | None:
    """The service's open incident; None when someone resolved it by hand already."""
    from chalicelib.usecases import incidents

    if not incident_id:
        return None
    incident = incidents.get_incident_or_none(org_id, incident_id)
    return None if incident is None or incident.status == Status.RESOLVED.value else incident


def _severity_attribute(severity: str) -> Any:
    return SEVERITY_ATTRIBUTES[severity if severity in SEVERITIES else "high"]
