"""What each incident transition writes (chalicelib/domain/transitions.py)."""

import pytest

from chalicelib.domain import transitions
from chalicelib.domain.errors import Conflict
from chalicelib.domain.incidents import Status
from chalicelib.domain.transitions import EntryType

NOW = 1_800_000_000


def test_acknowledging_stops_escalation_and_any_snooze_and_notifies():
    change = transitions.acknowledge(Status.SNOOZED, now=NOW, via={"integration": "pd", "x": None})
    assert change is not None
    assert change.status is Status.ACKNOWLEDGED and change.notifies_paged
    assert change.sets == {"acknowledged_at": NOW} and change.removes == ("snoozed_until",)
    assert change.leaves_due and change.from_statuses == {Status.OPEN, Status.SNOOZED}
    assert [(e.type, dict(e.data)) for e in change.entries] == [
        (EntryType.ACKNOWLEDGED, {"integration": "pd"})
    ]
    assert transitions.acknowledge(Status.ACKNOWLEDGED, now=NOW) is None


def test_resolving_leaves_the_dedup_and_due_indexes_once():
    change = transitions.resolve(Status.OPEN, now=NOW, note="fixed")
    assert change.leaves_dedup and change.leaves_due and change.notifies_paged
    assert change.sets == {"resolved_at": NOW, "resolution_note": "fixed"}
    with pytest.raises(Conflict, match="already resolved"):
        transitions.resolve(Status.RESOLVED, now=NOW, note=None)


def test_a_snooze_is_due_when_it_ends_and_waking_resumes_the_next_step():
    snoozed = transitions.snooze(Status.OPEN, now=NOW, minutes=5)
    assert (snoozed.status, snoozed.due_at, snoozed.notifies_paged) == (Status.SNOOZED, NOW + 300, False)
    assert transitions.wake(Status.SNOOZED, snoozed_until=NOW + 300, next_step_at=None, now=NOW) is None
    woken = transitions.wake(Status.SNOOZED, snoozed_until=NOW, next_step_at=NOW - 60, now=NOW + 1)
    assert woken is not None and woken.status is Status.OPEN and woken.due_at == NOW + 1
    assert woken.entries[0].type is EntryType.REOPENED
    done = transitions.wake(Status.SNOOZED, snoozed_until=NOW, next_step_at=None, now=NOW)
    assert done is not None and done.leaves_due


def test_grouping_counts_an_alert_without_a_new_version():
    change = transitions.group_alert(Status.ACKNOWLEDGED, {"action": "trigger"})
    assert change.adds == {"alert_count": 1} and not change.new_version and change.status is None
    with pytest.raises(Conflict):
        transitions.group_alert(Status.RESOLVED, {})


def test_an_escalation_step_is_claimed_on_the_step_it_read():
    change = transitions.escalated(
        Status.SNOOZED, step=0, loop=0, planned=(1, 0, NOW + 900), recipients=2, policy="P"
    )
    assert change.expects == {"esc_next_step": 0, "esc_next_loop": 0}
    assert change.due_at is None and not change.leaves_due  # a snoozed incident stays due (its wake-up)
    last = transitions.escalated(Status.OPEN, step=1, loop=0, planned=None, recipients=1, policy="P")
    assert last.leaves_due and "esc_next_step" in last.removes


def test_an_edit_names_what_changed():
    current = {"title": "a", "description": "", "severity": "low", "category": "other"}
    assert transitions.updated(current, {"title": "a"}) is None
    change = transitions.updated(current, {"severity": "high", "title": "b"})
    assert change is not None
    assert [(e.type, dict(e.data)) for e in change.entries] == [
        (EntryType.SEVERITY_CHANGED, {"from": "low", "to": "high"}),
        (EntryType.UPDATED, {"fields": ["title"]}),
    ]


def test_a_monitor_raises_severity_with_an_entry_only_while_not_resolved():
    change = transitions.severity_raised(
        {"severity": "medium"},
        severity="high",
        title="TLS certificate for a.test expires within a day",
        reason="0 days left",
    )
    assert [(e.type, dict(e.data)) for e in change.entries] == [
        (EntryType.SEVERITY_CHANGED, {"from": "medium", "to": "high", "reason": "0 days left"})
    ]
    assert change.sets == {"severity": "high", "title": "TLS certificate for a.test expires within a day"}
    assert Status.RESOLVED not in (change.from_statuses or ())
    assert change.expects == {"severity": "medium"}  # decided on the severity it read
