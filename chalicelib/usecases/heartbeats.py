"""Heartbeat monitors: their ping tokens, the pings, and the sweep that finds the late ones.

- A ping is one write: a transaction that records the check in its hour bucket and moves the monitor
  (the checker's ``write_transition``: the same state machine, the same incident open/resolve path),
  conditional on the service's ``version``. The request id of API Gateway is kept among the last few
  on the service, so a retried request counts once.
- The token is found through a lookup item keyed by its SHA-256: an unknown token costs one read.
- Heartbeats that are up carry ``deadline_partition``/``deadline_at`` (a sparse index); each minute the
  sweep queries the deadlines that passed and turns those heartbeats down, with one incident.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.domain import heartbeats as rules
from chalicelib.domain.checks import CheckRecord, hour_of
from chalicelib.domain.errors import NotFound, Unavailable
from chalicelib.domain.monitoring import CheckOutcome, MonitorState, MonitorStatus, Thresholds, next_state
from chalicelib.domain.service_config import ServiceConfig, heartbeat_schedule
from chalicelib.models.checks import HourBucket, service_key
from chalicelib.models.services import (
    DEADLINE_PARTITION,
    PING_TOKEN_PARTITION_PREFIX,
    PingTokenLookup,
    Service,
)
from chalicelib.security.tokens import hash_token, new_opaque_token, same_digest
from chalicelib.settings import settings
from chalicelib.usecases import checker, maintenance
from chalicelib.usecases.dynamo import condition_failed, transaction_connection

logger = Logger(service="vigil", child=True, level=settings.log_level)

HEARTBEAT_THRESHOLDS = Thresholds(failure=1, recovery=1)
REMEMBERED_REQUESTS = 20  # request ids kept on the heartbeat: a retry of any of them counts once
MAX_ATTEMPTS = 4
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


# ---- tokens -------------------------------------------------------------------------------------


def _lookup(token: str) -> PingTokenLookup:
    return PingTokenLookup(PING_TOKEN_PARTITION_PREFIX + hash_token(token), "token")


def new_token_items(org_id: str, service_id: str) -> tuple[str, PingTokenLookup]:
    """A fresh token (256 bits) and its lookup item, to be saved with the heartbeat."""
    token = new_opaque_token()
    lookup = _lookup(token)
    lookup.target_org_id = org_id
    lookup.target_service_id = service_id
    return token, lookup


def create_heartbeat(service: Service) -> Service:
    """Saves a new heartbeat and its token lookup in one transaction (the caller built ``service``)."""
    token, lookup = new_token_items(service.org_id, service.service_id)
    service.ping_token = token
    with TransactWrite(connection=transaction_connection()) as tx:
        tx.save(service, condition=Service.service_id.does_not_exist())
        tx.save(lookup, condition=PingTokenLookup.org_id.does_not_exist())
    return service


def rotate_token(service: Service) -> Service:
    """A new token; the old one stops at once (its lookup goes, and a ping checks the service's token)."""
    token, lookup = new_token_items(service.org_id, service.service_id)
    with TransactWrite(connection=transaction_connection()) as tx:
        tx.update(
            service,
            actions=[Service.ping_token.set(token), Service.version.add(1)],
            condition=Service.version == service.version,
        )
        if service.ping_token:
            tx.delete(_lookup(service.ping_token))
        tx.save(lookup, condition=PingTokenLookup.org_id.does_not_exist())
    service.ping_token = token
    return service


def forget_token(service: Service) -> None:
    if service.ping_token:
        _lookup(service.ping_token).delete()


def _find(token: str) -> tuple[str, str]:
    if not _TOKEN.fullmatch(token):
        raise NotFound("not found")  # it cannot be a token: no read at all
    try:
        lookup = PingTokenLookup.get(PING_TOKEN_PARTITION_PREFIX + hash_token(token), "token")
    except DoesNotExist as exc:
        raise NotFound("not found") from exc
    return lookup.target_org_id, lookup.target_service_id


# ---- pings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PingRequest:
    token: str
    suffix: str  # "" for /ping/{token}
    body: bytes
    rid: str | None
    request_id: str  # API Gateway's requestContext.requestId: the same for a retried delivery
    at_ms: int


def ping(request: PingRequest) -> None:
    """Record the ping and move the heartbeat; NotFound for an unknown token, InvalidInput for a bad
    exit status or rid. Safe to repeat with the same request id."""
    parsed = rules.parse_ping_suffix(request.suffix)
    rid = rules.check_run_id(request.rid)
    org_id, service_id = _find(request.token)
    for _ in range(MAX_ATTEMPTS):
        try:
            service = Service.get(org_id, service_id, consistent_read=True)
        except DoesNotExist as exc:
            raise NotFound("not found") from exc
        if not service.is_heartbeat or not same_digest(
            hash_token(service.ping_token or ""), hash_token(request.token)
        ):
            raise NotFound("not found")  # rotated a moment ago: the old token is refused at once
        if request.request_id in (service.ping_requests or []):
            return  # the same request, delivered again: counted already
        try:
            _apply(service, parsed, rid, request)
            return
        except (UpdateError, TransactWriteError) as exc:
            if not condition_failed(exc):
                raise
            logger.info("lost a race on a heartbeat; reading it again", extra={"service_id": service_id})
    raise Unavailable("the heartbeat is busy; retry the ping")


def _apply(service: Service, parsed: rules.Ping, rid: str | None, request: PingRequest) -> None:
    at_ms = request.at_ms
    at = at_ms // 1000
    runs = runs_of(service)
    duration_ms = None
    if parsed.kind is rules.PingKind.START:
        runs = runs.after_start(at_ms, rid)
    elif parsed.finishes_run:
        duration_ms, runs = runs.after_finish(at_ms, rid)
    state = state_of(service)
    outcome = parsed.outcome
    if outcome is None:
        new_state, started, ended = state, False, False
    else:
        transition = next_state(state, outcome, HEARTBEAT_THRESHOLDS)
        new_state, started, ended = transition.state, transition.outage_started, transition.outage_ended
        if transition.changed and maintenance.in_maintenance(service.org_id, service.service_id, at):
            # A window began before the minute job moved the service: the ping is only recorded.
            new_state, started, ended = state, False, False
    last_success = at if outcome is CheckOutcome.UP else service.last_success_at
    record = CheckRecord(
        checked_at=at,
        status="info" if outcome is None else outcome.value,
        response_time_ms=None,
        status_code=None,
        error=_failure_reason(parsed),
        kind=parsed.kind.value,
        duration_ms=duration_ms,
        rid=rid,
        body=rules.kept_ping_body(request.body) or None,
        exit_status=parsed.exit_status,
    )
    actions: list[Any] = [
        Service.last_ping_at_ms.set(at_ms),
        Service.last_ping_kind.set(parsed.kind.value),
        Service.runs.set(_encode_runs(runs)),
        Service.ping_requests.set(
            [*(service.ping_requests or [])[-(REMEMBERED_REQUESTS - 1) :], request.request_id]
        ),
    ]
    if outcome is CheckOutcome.UP:
        actions.append(Service.last_success_at.set(at))
    actions += deadline_actions(
        service,
        config_schedule(service),
        status=new_state.status,
        last_success_at=None if last_success is None else int(last_success),
        runs=runs,
    )
    try:
        _write(service, new_state, record, started=started, ended=ended, actions=actions)
    except TransactWriteError as exc:
        if condition_failed(exc) or record.body is None:
            raise
        # The hour's bucket is full (DynamoDB items stop at 400 KB): keep the ping, not its body.
        logger.warning("ping body dropped: its hour bucket is full", extra={"service_id": service.service_id})
        record = replace(record, body=None)
        _write(service, new_state, record, started=started, ended=ended, actions=actions)


def _write(
    service: Service,
    state: MonitorState,
    record: CheckRecord,
    *,
    started: bool,
    ended: bool,
    actions: Sequence[Any],
) -> None:
    bucket = HourBucket(service_key(service.org_id, service.service_id), hour_of(record.checked_at))
    checker.write_transition(
        service,
        state,
        record,
        started=started,
        ended=ended,
        extra_actions=actions,
        also=lambda tx: tx.update(bucket, actions=checker.bucket_actions(record)),
    )


def _failure_reason(parsed: rules.Ping) -> str | None:
    if parsed.kind is not rules.PingKind.FAIL:
        return None
    if parsed.exit_status is not None:
        return f"the job exited with status {parsed.exit_status}"
    return "the job reported a failure"


def state_of(service: Service) -> MonitorState:
    return MonitorState(
        MonitorStatus(service.status),
        int(service.consecutive_failures or 0),
        int(service.consecutive_successes or 0),
    )


def runs_of(service: Service) -> rules.Runs:
    if not service.runs:
        return rules.Runs()
    raw = json.loads(service.runs)
    return rules.Runs(
        open=tuple(rules.OpenRun(int(at), rid) for at, rid in raw.get("open", [])),
        last_finished_at_ms=raw.get("finished"),
    )


def _encode_runs(runs: rules.Runs) -> str:
    document = {
        "open": [[run.started_at_ms, run.rid] for run in runs.open],
        "finished": runs.last_finished_at_ms,
    }
    return json.dumps(document, separators=(",", ":"))


def config_schedule(service: Service) -> rules.HeartbeatSchedule:
    return rules.HeartbeatSchedule(
        period_seconds=None if service.period_seconds is None else int(service.period_seconds),
        cron=service.cron,
        timezone=service.timezone or "UTC",
        grace_seconds=int(service.grace_seconds or rules.DEFAULT_GRACE_SECONDS),
    )


def deadline_actions(
    service: Service,
    schedule: rules.HeartbeatSchedule,
    *,
    status: MonitorStatus,
    last_success_at: int | None,
    runs: rules.Runs,
    enabled: bool | None = None,
) -> list[Any]:
    """Set the heartbeat's place in the sparse deadline index while it is up, else take it out."""
    is_enabled = bool(service.enabled) if enabled is None else enabled
    due = None
    if status is MonitorStatus.UP and is_enabled:
        due = rules.deadline(schedule, last_success_at=last_success_at, running_since=runs.running_since())
    if due is None:
        return [Service.deadline_partition.remove(), Service.deadline_at.remove()]
    return [Service.deadline_partition.set(DEADLINE_PARTITION), Service.deadline_at.set(due)]


def actions_after_update(service: Service, after: ServiceConfig) -> list[Any]:
    """A changed schedule moves the deadline of an up heartbeat; a pause takes it out of the index."""
    status = MonitorStatus(service.status)
    if not after.enabled:
        status = MonitorStatus.PAUSED
    elif not service.enabled:
        status = MonitorStatus.PENDING  # resumed: the clock starts again at the next ping
    return deadline_actions(
        service,
        heartbeat_schedule(after),
        status=status,
        last_success_at=None if service.last_success_at is None else int(service.last_success_at),
        runs=runs_of(service),
        enabled=after.enabled,
    )


# ---- the overdue sweep --------------------------------------------------------------------------


def sweep_overdue(*, now: int) -> int:
    """Turn down every up heartbeat whose deadline passed (found through the sparse index); returns how
    many went down. Idempotent: a heartbeat already down is no longer in the index, and the write is
    conditional on the version read."""
    turned = 0
    late = Service.by_deadline.query(DEADLINE_PARTITION, Service.deadline_at < now)
    for entry in late:
        if _turn_late(entry.org_id, entry.service_id, now=now):
            turned += 1
    return turned


def _turn_late(org_id: str, service_id: str, *, now: int) -> bool:
    for _ in range(MAX_ATTEMPTS):
        try:
            service = Service.get(org_id, service_id, consistent_read=True)
        except DoesNotExist:
            return False
        if (
            not service.is_heartbeat
            or not service.enabled
            or service.status != MonitorStatus.UP.value
            or not rules.is_overdue(None if service.deadline_at is None else int(service.deadline_at), now)
            # a late job during planned work pages no one
            or maintenance.in_maintenance(org_id, service_id, now)
        ):
            return False
        transition = next_state(state_of(service), CheckOutcome.DOWN, HEARTBEAT_THRESHOLDS)
        grace = int(service.grace_seconds or rules.DEFAULT_GRACE_SECONDS)
        record = CheckRecord(
            checked_at=now,
            status="down",
            response_time_ms=None,
            status_code=None,
            error=f"no ping in time (the deadline passed, {grace} s of grace included)",
        )
        try:
            _write(
                service,
                transition.state,
                record,
                started=transition.outage_started,
                ended=False,
                actions=[Service.deadline_partition.remove(), Service.deadline_at.remove()],
            )
            logger.info("heartbeat late", extra={"service_id": service_id})
            return True
        except (UpdateError, TransactWriteError) as exc:
            if not condition_failed(exc):
                raise
    return False
