import pytest

from chalicelib.domain.errors import Conflict, InvalidInput
from chalicelib.domain.incidents import Action, Status, check_snooze_minutes, transition


@pytest.mark.parametrize(
    ("current", "action", "after"),
    [
        (Status.OPEN, Action.ACKNOWLEDGE, Status.ACKNOWLEDGED),
        (Status.SNOOZED, Action.ACKNOWLEDGE, Status.ACKNOWLEDGED),
        (Status.OPEN, Action.RESOLVE, Status.RESOLVED),
        (Status.ACKNOWLEDGED, Action.RESOLVE, Status.RESOLVED),
        (Status.SNOOZED, Action.RESOLVE, Status.RESOLVED),
        (Status.OPEN, Action.SNOOZE, Status.SNOOZED),
        (Status.ACKNOWLEDGED, Action.SNOOZE, Status.SNOOZED),
        (Status.SNOOZED, Action.WAKE, Status.OPEN),
    ],
)
def test_allowed_moves(current, action, after):
    assert transition(current, action) is after


def test_acknowledging_twice_changes_nothing():
    assert transition(Status.ACKNOWLEDGED, Action.ACKNOWLEDGE) is None


@pytest.mark.parametrize("action", [Action.ACKNOWLEDGE, Action.RESOLVE, Action.SNOOZE, Action.WAKE])
def test_a_resolved_incident_moves_no_more(action):
    with pytest.raises(Conflict, match="resolved"):
        transition(Status.RESOLVED, action)


def test_only_a_snoozed_incident_wakes():
    with pytest.raises(Conflict):
        transition(Status.ACKNOWLEDGED, Action.WAKE)


def test_snooze_is_one_minute_to_a_day():
    assert check_snooze_minutes(1) == 1
    assert check_snooze_minutes(1440) == 1440
    for minutes in (0, 1441):
        with pytest.raises(InvalidInput, match=r"^minutes: "):
            check_snooze_minutes(minutes)
