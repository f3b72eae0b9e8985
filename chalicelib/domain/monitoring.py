"""The monitor state machine: what one check does to a service's status.

A counter only ever counts towards the next change of status: failures while
the service is pending or up, good checks while it is down. Everything else is
kept at 0, so a steady service has one state and a steady check reports no
change (which is what lets the checker skip the DynamoDB write).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MIN_THRESHOLD = 1
MAX_THRESHOLD = 10


class MonitorStatus(StrEnum):
    PENDING = "pending"  # never checked, or just resumed
    UP = "up"
    DOWN = "down"
    PAUSED = "paused"  # disabled: checks are not scheduled, and any that arrive change nothing
    MAINTENANCE = "maintenance"  # in a maintenance window: checks are recorded and change nothing


class CheckOutcome(StrEnum):
    UP = "up"
    DOWN = "down"
    MISSED = "missed"  # ran more than an interval late: says nothing about the service


@dataclass(frozen=True)
class MonitorState:
    status: MonitorStatus
    consecutive_failures: int = 0
    consecutive_successes: int = 0


@dataclass(frozen=True)
class Thresholds:
    failure: int  # consecutive failed checks that turn pending/up into down
    recovery: int  # consecutive good checks that turn down into up

    def __post_init__(self) -> None:
        for name, value in (("failure", self.failure), ("recovery", self.recovery)):
            if not MIN_THRESHOLD <= value <= MAX_THRESHOLD:
                raise ValueError(f"{name} threshold must be {MIN_THRESHOLD}..{MAX_THRESHOLD}, not {value}")


@dataclass(frozen=True)
class Transition:
    state: MonitorState  # the state after the check
    changed: bool  # something persisted must be written (state != before)
    outage_started: bool = False  # this check turned the service down: open exactly one incident
    outage_ended: bool = False  # this check turned it back up: resolve that incident


def paused_state() -> MonitorState:
    return MonitorState(MonitorStatus.PAUSED)


def resumed_state() -> MonitorState:
    # Back to pending rather than the status before the pause: that status is stale by now.
    return MonitorState(MonitorStatus.PENDING)


def next_state(state: MonitorState, outcome: CheckOutcome, rules: Thresholds) -> Transition:
    """Pure: the state after one check, and what the caller must do about it."""
    if state.status in (MonitorStatus.PAUSED, MonitorStatus.MAINTENANCE) or outcome is CheckOutcome.MISSED:
        return _unchanged(state)
    if state.status is MonitorStatus.DOWN:
        return _while_down(state, outcome, rules)
    return _while_pending_or_up(state, outcome, rules)


def _while_pending_or_up(state: MonitorState, outcome: CheckOutcome, rules: Thresholds) -> Transition:
    if outcome is CheckOutcome.UP:
        # From pending the first good check is enough: there is no outage to recover from.
        return _moved(state, MonitorState(MonitorStatus.UP))
    failures = state.consecutive_failures + 1
    if failures >= rules.failure:
        return _moved(state, MonitorState(MonitorStatus.DOWN), outage_started=True)
    return _moved(state, MonitorState(state.status, consecutive_failures=failures))


def _while_down(state: MonitorState, outcome: CheckOutcome, rules: Thresholds) -> Transition:
    if outcome is CheckOutcome.DOWN:
        # The outage is already open; only a recovery in progress is broken off.
        return _moved(state, MonitorState(MonitorStatus.DOWN, state.consecutive_failures))
    successes = state.consecutive_successes + 1
    if successes >= rules.recovery:
        return _moved(state, MonitorState(MonitorStatus.UP), outage_ended=True)
    return _moved(state, MonitorState(MonitorStatus.DOWN, consecutive_successes=successes))


def _moved(
    before: MonitorState, after: MonitorState, *, outage_started: bool = False, outage_ended: bool = False
) -> Transition:
    return Transition(
        state=after, changed=after != before, outage_started=outage_started, outage_ended=outage_ended
    )


def _unchanged(state: MonitorState) -> Transition:
    return Transition(state=state, changed=False)
