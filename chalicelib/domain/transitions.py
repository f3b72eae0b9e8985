"""Every change of an incident, as data: from which statuses it may happen, what it writes, and
what the timeline says about it.

One function per transition (open, group an alert, acknowledge, resolve, snooze, wake, escalate,
assign, update) returns a ``Change``; ``usecases/incidents.py`` turns a Change into one conditional
write and its timeline entries, in one transaction. Callers (the API, the checker, the alert
consumer, escalation) decide *when*; this module alone decides *what*, so a new transition
(maintenance windows, heartbeats) is one more function here.

Attribute names are those of the incident record. Pure: no clock, no I/O; callers pass ``now``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from chalicelib.domain.errors import Conflict
from chalicelib.domain.incidents import Action, Status, allowed_from, check_snooze_minutes, transition

NOT_RESOLVED = frozenset({Status.OPEN, Status.ACKNOWLEDGED, Status.SNOOZED})
ESCALATING = frozenset({Status.OPEN})  # acknowledged, snoozed and resolved incidents wait
NOTIFIED_STATUSES = frozenset({Status.ACKNOWLEDGED, Status.RESOLVED})  # the people paged hear of these


class EntryType(StrEnum):
    """The ``type`` of a timeline entry."""

    CREATED = "created"
    ALERT = "alert"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    SNOOZED = "snoozed"
    REOPENED = "reopened"  # a snooze ran out
    ESCALATED = "escalated"
    ASSIGNED = "assigned"
    UPDATED = "updated"
    SEVERITY_CHANGED = "severity_changed"
    COMMENT = "comment"
    NOTIFIED = "notified"


class Source(StrEnum):
    MANUAL = "manual"
    MONITOR = "monitor"
    ALERT = "alert"


@dataclass(frozen=True)
class Entry:
    type: EntryType
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """What one transition writes. ``from_statuses``: the statuses the write is conditioned on
    (None: any, as long as the incident exists); ``creates``: the incident must not exist yet."""

    entries: tuple[Entry, ...]
    from_statuses: frozenset[Status] | None
    status: Status | None = None  # the status it moves to; None: the status stays
    sets: Mapping[str, Any] = field(default_factory=dict)
    removes: tuple[str, ...] = ()
    adds: Mapping[str, int] = field(default_factory=dict)
    due_at: int | None = None  # joins (or moves in) the due index at this time
    leaves_due: bool = False  # nothing is due any more: no escalation step, no end of a snooze
    leaves_dedup: bool = False  # nothing groups into it any more
    expects: Mapping[str, Any] = field(default_factory=dict)  # attribute == value, besides the status
    new_version: bool = True
    creates: bool = False

    @property
    def notifies_paged(self) -> bool:
        """The people already paged are told about this one (a notice per transition)."""
        return self.status in NOTIFIED_STATUSES


def _data(**data: Any) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


def opened(source: Source, **data: Any) -> Change:
    """A new incident, open; its ``created`` entry says where it came from."""
    return Change(
        entries=(Entry(EntryType.CREATED, _data(source=source.value, **data)),),
        from_statuses=None,
        status=Status.OPEN,
        creates=True,
    )


def alert_entry_data(
    *,
    action: str,
    integration_id: str,
    integration: str,
    title: str | None = None,
    description: str | None = None,
    severity: str | None = None,
    source: str | None = None,
    details: Mapping[str, Any] | None = None,
    links: list[dict[str, str]] | None = None,
    occurred_at: str | None = None,
) -> dict[str, Any]:
    """An ``alert`` entry's data: what the alert said, empty fields left out."""
    data: dict[str, Any] = {
        "action": action,
        "integration_id": integration_id,
        "integration": integration,
        "title": title,
        "description": description,
        "severity": severity,
        "source": source,
        "details": dict(details) if details else None,
        "links": links,
        "occurred_at": occurred_at,
    }
    return {k: v for k, v in data.items() if v not in (None, "", [], {})}


def group_alert(current: Status, alert: Mapping[str, Any]) -> Change:
    """One more alert on an incident that is not resolved: ``alert_count`` + 1 and its entry.
    The version stays: an alert is no change of state for anyone acting on the incident."""
    if current is Status.RESOLVED:
        raise Conflict("cannot group an alert into a resolved incident", field="status")
    return Change(
        entries=(Entry(EntryType.ALERT, dict(alert)),),
        from_statuses=NOT_RESOLVED,
        adds={"alert_count": 1},
        new_version=False,
    )


def acknowledge(current: Status, *, now: int, via: Mapping[str, Any] | None = None) -> Change | None:
    """None when it is acknowledged already; Conflict when resolved. Escalation and any snooze stop."""
    target = transition(current, Action.ACKNOWLEDGE)
    if target is None:
        return None
    return Change(
        entries=(Entry(EntryType.ACKNOWLEDGED, _data(**(via or {}))),),
        from_statuses=allowed_from(Action.ACKNOWLEDGE),
        status=target,
        sets={"acknowledged_at": now},
        removes=("snoozed_until",),
        leaves_due=True,
    )


def resolve(current: Status, *, now: int, note: str | None, via: Mapping[str, Any] | None = None) -> Change:
    """Conflict when resolved already. A resolved incident leaves the dedup and due indexes:
    nothing more groups into it or fires."""
    if current is Status.RESOLVED:
        raise Conflict("the incident is already resolved", field="status")
    target = transition(current, Action.RESOLVE)
    assert target is not None
    sets: dict[str, Any] = {"resolved_at": now}
    if note:
        sets["resolution_note"] = note
    return Change(
        entries=(Entry(EntryType.RESOLVED, _data(note=note, **(via or {}))),),
        from_statuses=allowed_from(Action.RESOLVE),
        status=target,
        sets=sets,
        removes=("snoozed_until",),
        leaves_due=True,
        leaves_dedup=True,
    )


def snooze(current: Status, *, now: int, minutes: int) -> Change:
    """Escalation waits until ``now + minutes``, when the incident wakes (it is due then)."""
    check_snooze_minutes(minutes)
    target = transition(current, Action.SNOOZE)
    assert target is not None
    until = now + minutes * 60
    return Change(
        entries=(Entry(EntryType.SNOOZED, {"minutes": minutes, "until": until}),),
        from_statuses=allowed_from(Action.SNOOZE),
        status=target,
        sets={"snoozed_until": until},
        due_at=until,
    )


def wake(current: Status, *, snoozed_until: int | None, next_step_at: int | None, now: int) -> Change | None:
    """The snooze ran out: open again, and escalation resumes where it stopped (its next step, if
    any, is due again). None while it is not time yet, or when it is not snoozed."""
    if current is not Status.SNOOZED or snoozed_until is None or snoozed_until > now:
        return None
    target = transition(current, Action.WAKE)
    return Change(
        entries=(Entry(EntryType.REOPENED, {"reason": "snooze ended"}),),
        from_statuses=allowed_from(Action.WAKE),
        status=target,
        removes=("snoozed_until",),
        due_at=None if next_step_at is None else max(next_step_at, now),
        leaves_due=next_step_at is None,
    )


def escalated(
    current: Status,
    *,
    step: int,
    loop: int,
    planned: tuple[int, int, int] | None,
    recipients: int,
    policy: str,
) -> Change:
    """Step ``step`` of pass ``loop`` fired; ``planned`` is the next (step, loop, due_at) or None.
    Conditioned on that step still being the next one, so two runs claim it once."""
    sets: dict[str, Any] = {"esc_level": step, "esc_level_loop": loop}
    removes: tuple[str, ...] = ()
    if planned is None:
        removes = ("esc_next_step", "esc_next_loop", "esc_next_at")
    else:
        sets.update(esc_next_step=planned[0], esc_next_loop=planned[1], esc_next_at=planned[2])
    keeps_escalating = current in ESCALATING and planned is not None
    return Change(
        entries=(
            Entry(
                EntryType.ESCALATED, {"step": step, "loop": loop, "recipients": recipients, "policy": policy}
            ),
        ),
        from_statuses=None,
        sets=sets,
        removes=removes,
        due_at=planned[2] if keeps_escalating and planned is not None else None,
        # A snoozed incident stays due: its wake-up is.
        leaves_due=not keeps_escalating and current is not Status.SNOOZED,
        expects={"esc_next_step": step, "esc_next_loop": loop},
    )


def assigned(assignee_id: str) -> Change:
    return Change(
        entries=(Entry(EntryType.ASSIGNED, {"assignee_id": assignee_id}),),
        from_statuses=None,
        sets={"assignee_id": assignee_id},
    )


EDITABLE = ("title", "description", "severity", "category")


def updated(current: Mapping[str, Any], changes: Mapping[str, Any]) -> Change | None:
    """Title, description, severity or category; None when nothing changes. A new severity has an
    entry of its own (from, to); the other fields share one ``updated`` entry naming them."""
    changed = {k: v for k, v in changes.items() if k in EDITABLE and current.get(k) != v}
    if not changed:
        return None
    entries = []
    if "severity" in changed:
        entries.append(
            Entry(EntryType.SEVERITY_CHANGED, {"from": current.get("severity"), "to": changed["severity"]})
        )
    others = sorted(k for k in changed if k != "severity")
    if others:
        entries.append(Entry(EntryType.UPDATED, {"fields": others}))
    return Change(entries=tuple(entries), from_statuses=None, sets=changed)


def severity_raised(current: Mapping[str, Any], *, severity: str, title: str, reason: str) -> Change:
    """A monitor raises an incident that is not resolved to a higher severity (a certificate nearer
    expiry): a ``severity_changed`` entry saying why, and the title brought up to date."""
    sets = {"severity": severity, "title": title}
    return Change(
        entries=(
            Entry(
                EntryType.SEVERITY_CHANGED,
                {"from": current.get("severity"), "to": severity, "reason": reason},
            ),
        ),
        from_statuses=NOT_RESOLVED,
        sets=sets,
        expects={"severity": current.get("severity")},
    )
