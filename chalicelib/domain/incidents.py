"""The incident lifecycle: which action may move which status where."""

from __future__ import annotations

from enum import StrEnum

from chalicelib.domain.enums import SEVERITIES as SEVERITIES  # re-exported: older imports use this home
from chalicelib.domain.enums import IncidentStatus as Status  # the lifecycle below moves it
from chalicelib.domain.errors import Conflict, InvalidInput

CATEGORIES = ("network", "server", "software", "login", "other")
SNOOZE_MINUTES = (1, 1440)
TITLE_MAX = 200
TEXT_MAX = 10_000


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    SNOOZE = "snooze"
    WAKE = "wake"  # a snooze ran out


_MOVES: dict[Action, tuple[frozenset[Status], Status]] = {
    Action.ACKNOWLEDGE: (frozenset({Status.OPEN, Status.SNOOZED}), Status.ACKNOWLEDGED),
    Action.RESOLVE: (frozenset({Status.OPEN, Status.ACKNOWLEDGED, Status.SNOOZED}), Status.RESOLVED),
    Action.SNOOZE: (frozenset({Status.OPEN, Status.ACKNOWLEDGED, Status.SNOOZED}), Status.SNOOZED),
    Action.WAKE: (frozenset({Status.SNOOZED}), Status.OPEN),
}


def transition(current: Status, action: Action) -> Status | None:
    """The status after ``action``; None when it changes nothing (acknowledging twice);
    Conflict when it is not allowed (anything but reading a resolved incident)."""
    allowed, target = _MOVES[action]
    if current is target and action is Action.ACKNOWLEDGE:
        return None
    if current not in allowed:
        raise Conflict(f"cannot {action.value} an incident that is {current.value}", field="status")
    return target


def allowed_from(action: Action) -> frozenset[Status]:
    return _MOVES[action][0]


def check_snooze_minutes(minutes: int) -> int:
    low, high = SNOOZE_MINUTES
    if not low <= minutes <= high:
        raise InvalidInput(f"must be from {low} to {high}", field="minutes")
    return minutes
