"""The monitor state machine: which checks move a service, and when an outage opens and closes."""

import pytest

from chalicelib.domain.monitoring import (
    CheckOutcome,
    MonitorState,
    MonitorStatus,
    Thresholds,
    Transition,
    next_state,
    paused_state,
    resumed_state,
)

UP, DOWN, MISSED = CheckOutcome.UP, CheckOutcome.DOWN, CheckOutcome.MISSED
DEFAULTS = Thresholds(failure=2, recovery=1)  # API.md's defaults


def pending(failures: int = 0) -> MonitorState:
    return MonitorState(MonitorStatus.PENDING, consecutive_failures=failures)


def up(failures: int = 0) -> MonitorState:
    return MonitorState(MonitorStatus.UP, consecutive_failures=failures)


def down(successes: int = 0) -> MonitorState:
    return MonitorState(MonitorStatus.DOWN, consecutive_successes=successes)


def run(state: MonitorState, *outcomes: CheckOutcome, rules: Thresholds = DEFAULTS) -> list[Transition]:
    transitions = []
    for outcome in outcomes:
        transition = next_state(state, outcome, rules)
        transitions.append(transition)
        state = transition.state
    return transitions


def outages_started(transitions: list[Transition]) -> int:
    return sum(t.outage_started for t in transitions)


def outages_ended(transitions: list[Transition]) -> int:
    return sum(t.outage_ended for t in transitions)


# Going down


def test_first_failure_of_an_up_service_only_counts():
    assert next_state(up(), DOWN, DEFAULTS) == Transition(state=up(failures=1), changed=True)


def test_second_failure_turns_up_into_down_and_opens_one_outage():
    assert next_state(up(failures=1), DOWN, DEFAULTS) == Transition(
        state=down(), changed=True, outage_started=True, outage_ended=False
    )


def test_failures_while_down_open_no_second_outage():
    transitions = run(up(), DOWN, DOWN, DOWN, DOWN, DOWN)
    assert outages_started(transitions) == 1
    assert transitions[-1].state == down()


def test_a_pending_service_goes_down_after_the_failure_threshold_too():
    transitions = run(pending(), DOWN, DOWN)
    assert [t.state for t in transitions] == [pending(failures=1), down()]
    assert transitions[-1].outage_started


def test_a_failure_threshold_of_one_turns_up_into_down_at_once():
    transition = next_state(up(), DOWN, Thresholds(failure=1, recovery=1))
    assert transition.state == down()
    assert transition.outage_started


def test_a_good_check_between_failures_starts_the_count_again():
    rules = Thresholds(failure=3, recovery=1)
    transitions = run(up(), DOWN, DOWN, UP, DOWN, DOWN, rules=rules)
    assert transitions[-1].state == up(failures=2)
    assert outages_started(transitions) == 0


def test_a_lowered_threshold_takes_effect_on_the_next_failure():
    # failure_threshold edited from 5 to 2 while the service had 3 failures behind it
    transition = next_state(up(failures=3), DOWN, Thresholds(failure=2, recovery=1))
    assert transition.state == down()
    assert transition.outage_started


# Coming back up


def test_the_first_good_check_turns_pending_into_up_without_a_recovery_threshold():
    transition = next_state(pending(), UP, Thresholds(failure=2, recovery=5))
    assert transition == Transition(state=up(), changed=True)


def test_a_good_check_clears_the_failures_of_a_pending_service():
    assert next_state(pending(failures=1), UP, DEFAULTS).state == up()


def test_recovery_threshold_good_checks_turn_down_into_up_and_end_the_outage():
    rules = Thresholds(failure=2, recovery=3)
    transitions = run(down(), UP, UP, UP, rules=rules)
    assert [t.state for t in transitions] == [down(successes=1), down(successes=2), up()]
    assert [t.outage_ended for t in transitions] == [False, False, True]
    assert not any(t.outage_started for t in transitions)


def test_a_failure_during_recovery_starts_the_recovery_again():
    rules = Thresholds(failure=2, recovery=2)
    transitions = run(down(), UP, DOWN, UP, rules=rules)
    assert [t.state for t in transitions] == [down(successes=1), down(), down(successes=1)]
    assert [t.changed for t in transitions] == [True, True, True]
    assert outages_ended(transitions) == 0


def test_every_outage_that_opens_is_closed_once():
    transitions = run(pending(), UP, DOWN, DOWN, DOWN, UP, DOWN, UP, DOWN, DOWN, UP)
    assert outages_started(transitions) == 2
    assert outages_ended(transitions) == 2
    assert transitions[-1].state == up()


# What costs a write


def test_a_steady_up_check_changes_nothing():
    assert next_state(up(), UP, DEFAULTS) == Transition(state=up(), changed=False)


def test_a_good_check_after_one_failure_must_be_written():
    assert next_state(up(failures=1), UP, DEFAULTS) == Transition(state=up(), changed=True)


def test_a_steady_down_check_changes_nothing():
    assert next_state(down(), DOWN, DEFAULTS) == Transition(state=down(), changed=False)


def test_changed_is_true_exactly_when_the_state_differs():
    start = pending()
    transitions = run(start, UP, UP, DOWN, DOWN, DOWN, UP, MISSED, UP, DOWN, UP, DOWN, DOWN, DOWN)
    befores = [start] + [t.state for t in transitions[:-1]]
    assert [t.changed for t in transitions] == [
        t.state != b for t, b in zip(transitions, befores, strict=True)
    ]


# Checks that say nothing


@pytest.mark.parametrize("state", [pending(), pending(failures=1), up(), up(failures=1), down(), down(1)])
def test_a_missed_check_changes_nothing(state):
    assert next_state(state, MISSED, DEFAULTS) == Transition(state=state, changed=False)


@pytest.mark.parametrize("outcome", [UP, DOWN, MISSED])
def test_a_paused_service_ignores_checks(outcome):
    assert next_state(paused_state(), outcome, Thresholds(failure=1, recovery=1)) == Transition(
        state=paused_state(), changed=False
    )


def test_pausing_clears_the_counters_and_resuming_starts_over_as_pending():
    assert paused_state() == MonitorState(MonitorStatus.PAUSED, 0, 0)
    assert resumed_state() == MonitorState(MonitorStatus.PENDING, 0, 0)


# Thresholds


@pytest.mark.parametrize(("failure", "recovery"), [(0, 1), (1, 0), (11, 1), (1, 11), (-1, 5)])
def test_thresholds_outside_1_to_10_are_refused(failure, recovery):
    with pytest.raises(ValueError, match=r"threshold must be 1\.\.10"):
        Thresholds(failure=failure, recovery=recovery)


def test_thresholds_of_1_and_10_are_accepted():
    assert Thresholds(failure=1, recovery=10) == Thresholds(1, 10)
    assert Thresholds(failure=10, recovery=1).failure == 10


def test_statuses_are_the_strings_the_api_shows():
    assert [str(s) for s in MonitorStatus] == ["pending", "up", "down", "paused", "maintenance"]
    assert [str(o) for o in CheckOutcome] == ["up", "down", "missed"]
