"""Heartbeat monitors: when the watched job is due, when it is late, and what a ping says.

A heartbeat is not probed: the job calls Vigil on healthchecks.io's ping paths, so a tool set up for a
self-hosted healthchecks works after changing only the host. The rules follow healthchecks.io too:

- The clock starts at the first ping; until then the heartbeat is pending and has no deadline.
- After a success the job is due again one `period_seconds` later, or at the cron expression's next
  fire time in its `timezone`; it is late once `grace_seconds` have passed after that (the deadline).
- A `start` ping gives the run `grace_seconds` to finish: a job that started and then hung is late
  even when its period is long.

Cron expressions are evaluated by `cronsim`, the parser healthchecks.io itself uses, which follows
Debian's (Vixie) cron, DST quirks included: a job whose time falls in the hour skipped in spring runs
right after the jump (02:30 becomes 03:00), and a job whose time falls in the hour repeated in autumn
runs once, at the first of the two (01:30 daylight time). Jobs that run every minute or every hour
keep firing by the clock through both changes.

Pure: no clock, no I/O; times are epoch seconds (runs: epoch milliseconds), passed by the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from cronsim import CronSim, CronSimError

from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.domain.monitoring import CheckOutcome
from chalicelib.domain.timezones import zone

MIN_PERIOD_SECONDS = 60
MAX_PERIOD_SECONDS = 2_678_400  # 31 days
MIN_GRACE_SECONDS = 60
MAX_GRACE_SECONDS = 86_400
DEFAULT_GRACE_SECONDS = 300
MAX_CRON_CHARS = 200
MAX_PING_BODY_BYTES = 10_240  # what is kept of a ping's body; the rest is cut
MAX_EXIT_STATUS = 255
MAX_RUN_ID_CHARS = 64
MAX_OPEN_RUNS = 10  # starts waiting for their finish that a heartbeat remembers
MAX_RUN_MS = 72 * 3600 * 1000  # a finish later than this after its start is not paired (healthchecks.io)


@dataclass(frozen=True)
class HeartbeatSchedule:
    """Exactly one of `period_seconds` and `cron`; `timezone` applies to `cron` only."""

    period_seconds: int | None = None
    cron: str | None = None
    timezone: str = "UTC"
    grace_seconds: int = DEFAULT_GRACE_SECONDS


def check_heartbeat_schedule(
    schedule: HeartbeatSchedule, *, min_seconds: int = MIN_PERIOD_SECONDS
) -> HeartbeatSchedule:
    """The schedule, normalized (cron fields single-spaced); InvalidInput naming the first bad field.

    ``min_seconds`` is the least period and grace (60; a test deployment may allow less)."""
    min_grace = min(min_seconds, MIN_GRACE_SECONDS)
    min_period = min(min_seconds, MIN_PERIOD_SECONDS)
    if (schedule.period_seconds is None) == (schedule.cron is None):
        raise InvalidInput("give period_seconds or cron, not both and not neither", field="period_seconds")
    if not _is_int(schedule.grace_seconds) or not (min_grace <= schedule.grace_seconds <= MAX_GRACE_SECONDS):
        raise InvalidInput(f"must be from {min_grace} to {MAX_GRACE_SECONDS}", field="grace_seconds")
    zone(schedule.timezone)
    if schedule.period_seconds is not None:
        if not _is_int(schedule.period_seconds) or not (
            min_period <= schedule.period_seconds <= MAX_PERIOD_SECONDS
        ):
            raise InvalidInput(f"must be from {min_period} to {MAX_PERIOD_SECONDS}", field="period_seconds")
        return schedule
    assert schedule.cron is not None
    cron = _check_cron(schedule.cron)
    return replace(schedule, cron=cron)


def _check_cron(cron: object) -> str:
    if not isinstance(cron, str) or len(cron) > MAX_CRON_CHARS:
        raise InvalidInput(f"must be a string of at most {MAX_CRON_CHARS} characters", field="cron")
    fields = cron.split()
    # cronsim also takes a sixth (seconds) field; the API promises standard 5-field cron.
    if len(fields) != 5:
        raise InvalidInput(
            "must have 5 fields: minute hour day-of-month month day-of-week (such as 30 2 * * *)",
            field="cron",
        )
    normalized = " ".join(fields)
    try:
        it = CronSim(normalized, datetime(2000, 1, 1))
        next(it)
    except CronSimError as error:
        raise InvalidInput(str(error).lower(), field="cron") from error
    except StopIteration as error:
        raise InvalidInput("never fires (no matching time within 50 years)", field="cron") from error
    return normalized


def next_due(schedule: HeartbeatSchedule, after: int) -> int:
    """When the job should ping next, given that it last succeeded at `after` (epoch seconds).

    For a cron schedule: its next fire time strictly after `after`, in the schedule's time zone.
    """
    if schedule.period_seconds is not None:
        return after + schedule.period_seconds
    assert schedule.cron is not None
    start = datetime.fromtimestamp(after, tz=zone(schedule.timezone))
    fires = CronSim(schedule.cron, start)
    for fire in fires:
        # Debian's rule for the repeated autumn hour evaluates the wall clock, so a success during the
        # second 01:xx can yield the first 01:30, already past: that fire is the one the job just did.
        due = int(fire.timestamp())
        if due > after:
            return due
    raise AssertionError("unreachable: a validated cron fires again within 50 years")


def deadline(
    schedule: HeartbeatSchedule, *, last_success_at: int | None, running_since: int | None = None
) -> int | None:
    """The instant after which the heartbeat is late (down): due + grace, or a started run's start + grace.

    None while there has been no success yet (pending: healthchecks.io does not start the clock on an
    unused check). `running_since` is `Runs.running_since()` in seconds: a run that started and has not
    finished must finish within `grace_seconds`.
    """
    if last_success_at is None:
        return None
    late_after = next_due(schedule, last_success_at) + schedule.grace_seconds
    if running_since is not None:
        late_after = min(late_after, running_since + schedule.grace_seconds)
    return late_after


def is_overdue(deadline_at: int | None, now: int) -> bool:
    """A ping that arrives exactly at the deadline is still in time, as on healthchecks.io."""
    return deadline_at is not None and now > deadline_at


# Pings


class PingKind(StrEnum):
    SUCCESS = "success"
    START = "start"
    FAIL = "fail"
    LOG = "log"


@dataclass(frozen=True)
class Ping:
    kind: PingKind
    exit_status: int | None = None  # set for /ping/{token}/{exit_status}

    @property
    def outcome(self) -> CheckOutcome | None:
        """What the ping does to the monitor state machine; None for start and log (they change nothing)."""
        if self.kind is PingKind.SUCCESS:
            return CheckOutcome.UP
        if self.kind is PingKind.FAIL:
            return CheckOutcome.DOWN
        return None

    @property
    def finishes_run(self) -> bool:
        return self.kind in (PingKind.SUCCESS, PingKind.FAIL)


def parse_ping_suffix(suffix: str) -> Ping:
    """The ping a path suffix means: "" success, start, fail, log, or an exit status (0 success, else fail).

    NotFound for any other suffix (healthchecks.io answers 404 there); InvalidInput (400) for an exit
    status above 255.
    """
    if suffix == "":
        return Ping(PingKind.SUCCESS)
    if suffix in ("start", "fail", "log"):
        return Ping(PingKind(suffix))
    if suffix.isascii() and suffix.isdigit():
        # Length first: int() of thousands of digits is slow, and Python refuses past 4,300.
        status = int(suffix) if len(suffix) <= 3 else MAX_EXIT_STATUS + 1
        if status > MAX_EXIT_STATUS:
            raise InvalidInput(f"must be from 0 to {MAX_EXIT_STATUS}", field="exit_status")
        return Ping(PingKind.SUCCESS if status == 0 else PingKind.FAIL, exit_status=status)
    raise NotFound("not found")


def check_run_id(rid: str | None) -> str | None:
    """`?rid=`: healthchecks.io clients send a UUID; any short token of letters, digits, '-' and '_' works."""
    if rid is None or rid == "":
        return None
    if len(rid) > MAX_RUN_ID_CHARS or not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in rid):
        raise InvalidInput(
            f"must be at most {MAX_RUN_ID_CHARS} letters, digits, '-' or '_' (a UUID)", field="rid"
        )
    return rid


def kept_ping_body(body: bytes) -> str:
    """The part of a ping's body that is stored with it: the first 10 KB, as text."""
    return body[:MAX_PING_BODY_BYTES].decode("utf-8", errors="replace")


# Runs: a start paired with its finish gives the run's duration


@dataclass(frozen=True)
class OpenRun:
    started_at_ms: int
    rid: str | None


@dataclass(frozen=True)
class Runs:
    """The starts still waiting for their finish (oldest first), and when the last finish came.

    The caller keeps this on the heartbeat between pings; it stays small (at most MAX_OPEN_RUNS starts).
    """

    open: tuple[OpenRun, ...] = ()
    last_finished_at_ms: int | None = None

    def after_start(self, at_ms: int, rid: str | None) -> Runs:
        # A start with the same run id (or, without one, the last start without one) replaces it:
        # the job was restarted, and the new run is the one to measure.
        kept = tuple(run for run in self._recent(at_ms) if run.rid != rid)
        return replace(self, open=(*kept, OpenRun(at_ms, rid))[-MAX_OPEN_RUNS:])

    def after_finish(self, at_ms: int, rid: str | None) -> tuple[int | None, Runs]:
        """The run's duration in ms (None when no start pairs with it), and the runs afterwards.

        A finish pairs with the start of the same `rid`; without a rid, with the last start that had
        none either, so that a plain ping never closes a run that a concurrent job tagged.
        """
        recent = self._recent(at_ms)
        paired = next((run for run in reversed(recent) if run.rid == rid), None)
        remaining = tuple(run for run in recent if run is not paired)
        duration = None if paired is None else at_ms - paired.started_at_ms
        return duration, Runs(open=remaining, last_finished_at_ms=at_ms)

    def running_since(self) -> int | None:
        """When the newest run started (epoch seconds), if no finish has come since; for the deadline."""
        if not self.open:
            return None
        newest = self.open[-1].started_at_ms
        if self.last_finished_at_ms is not None and self.last_finished_at_ms >= newest:
            return None
        return newest // 1000

    def _recent(self, now_ms: int) -> Sequence[OpenRun]:
        return [run for run in self.open if now_ms - MAX_RUN_MS <= run.started_at_ms <= now_ms]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
