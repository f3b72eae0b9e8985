"""Real-time events, as pure functions: which change is which event, its `seq`, the frame a socket gets.

An org event is a change a person watching would want to see at once (an incident opened or changed,
a comment, a service changing status). Its ``data`` is the object exactly as the REST API returns it,
so the callers shape it with the API's own functions and pass plain dicts in here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# API Gateway's limit for one WebSocket frame; a frame is kept a little under it.
MAX_FRAME_BYTES = 32 * 1024
FRAME_HEADROOM_BYTES = 256

TICKET_TTL_SECONDS = 60
# API Gateway closes every WebSocket connection after two hours; a row outliving it is garbage.
CONNECTION_TTL_SECONDS = 2 * 3600
EVENT_RETENTION_SECONDS = 72 * 3600

_SECONDS_DIGITS = 12
_SEQUENCE_DIGITS = 40
SEQ_PATTERN = re.compile(rf"^\d{{{_SECONDS_DIGITS}}}-\d{{{_SEQUENCE_DIGITS}}}$")


class EventType(StrEnum):
    INCIDENT_CREATED = "incident.created"
    INCIDENT_UPDATED = "incident.updated"
    INCIDENT_COMMENT = "incident.comment"
    SERVICE_CREATED = "service.created"
    SERVICE_STATUS_CHANGED = "service.status_changed"
    SERVICE_UPDATED = "service.updated"
    SERVICE_DELETED = "service.deleted"


# What a frame over the limit leaves out, per event type: dotted paths into `data`. Each of these
# is free text a client can fetch again (GET the object, or GET .../events, which keeps them).
BULKY_FIELDS: dict[EventType, tuple[str, ...]] = {
    EventType.INCIDENT_CREATED: ("description",),
    EventType.INCIDENT_UPDATED: ("description",),
    EventType.INCIDENT_COMMENT: ("data.body",),
    EventType.SERVICE_CREATED: ("headers", "keyword"),
    EventType.SERVICE_STATUS_CHANGED: ("headers", "keyword"),
    EventType.SERVICE_UPDATED: ("headers", "keyword"),
    EventType.SERVICE_DELETED: (),
}


class StreamChange(StrEnum):
    """DynamoDB Streams' eventName."""

    INSERT = "INSERT"
    MODIFY = "MODIFY"
    REMOVE = "REMOVE"


@dataclass(frozen=True)
class Change:
    """What an org event says: its type and the object as the REST API shows it."""

    type: EventType
    data: dict[str, Any]


@dataclass(frozen=True)
class OrgEvent:
    org_id: str
    seq: str
    type: EventType
    at: str  # ISO 8601 UTC
    data: dict[str, Any]

    def to_api(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "type": self.type.value,
            "org_id": self.org_id,
            "at": self.at,
            "data": self.data,
        }


def event_seq(approximate_creation_seconds: float, sequence_number: str) -> str:
    """The `seq` of the event a stream record makes: deterministic, so a replayed record makes the same
    event. Sorted as text it follows the record's time, then DynamoDB Streams' sequence number (which
    grows within a shard); both are zero-padded so that text order is numeric order."""
    if not sequence_number.isdigit():
        raise ValueError(f"a stream sequence number is digits, not {sequence_number!r}")
    seconds = int(approximate_creation_seconds)
    return f"{seconds:0{_SECONDS_DIGITS}d}-{int(sequence_number):0{_SEQUENCE_DIGITS}d}"


def is_seq(value: str) -> bool:
    return bool(SEQ_PATTERN.match(value))


def incident_change(
    change: StreamChange, old: dict[str, Any] | None, new: dict[str, Any] | None
) -> Change | None:
    """An incident's REST shape before and after a write -> the event, or None when nothing visible changed
    (a version bump, an index key); incidents are never deleted while their org lives."""
    if change is StreamChange.INSERT and new is not None:
        return Change(EventType.INCIDENT_CREATED, new)
    if change is StreamChange.MODIFY and new is not None and old != new:
        return Change(EventType.INCIDENT_UPDATED, new)
    return None


def service_change(
    change: StreamChange, old: dict[str, Any] | None, new: dict[str, Any] | None
) -> Change | None:
    """A service's REST shape before and after a write -> the event. A status change wins over any other
    change made in the same write; a write that changes nothing visible makes no event."""
    if change is StreamChange.INSERT and new is not None:
        return Change(EventType.SERVICE_CREATED, new)
    if change is StreamChange.REMOVE and old is not None:
        return Change(EventType.SERVICE_DELETED, {"id": old["id"]})
    if change is StreamChange.MODIFY and old is not None and new is not None:
        if old.get("status") != new.get("status"):
            return Change(EventType.SERVICE_STATUS_CHANGED, new)
        if old != new:
            return Change(EventType.SERVICE_UPDATED, new)
    return None


def timeline_change(change: StreamChange, entry: dict[str, Any] | None, *, incident_id: str) -> Change | None:
    """A new timeline entry -> incident.comment for a comment (the entry as the timeline shows it, plus
    the incident it belongs to); the other entries (acknowledged, notified...) come with the
    incident.updated of the change they record."""
    if change is StreamChange.INSERT and entry is not None and entry.get("type") == "comment":
        return Change(EventType.INCIDENT_COMMENT, {**entry, "incident_id": incident_id})
    return None


def _encode(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def _without(data: dict[str, Any], path: str) -> dict[str, Any]:
    head, _, rest = path.partition(".")
    if head not in data:
        return data
    copy = dict(data)
    if rest:
        inner = copy[head]
        if isinstance(inner, dict):
            copy[head] = _without(inner, rest)
    else:
        del copy[head]
    return copy


def frame(event: OrgEvent, *, limit: int = MAX_FRAME_BYTES - FRAME_HEADROOM_BYTES) -> str:
    """The JSON text a socket gets for `event`, at most `limit` bytes in UTF-8.

    A larger object is sent without its bulky fields and with `"truncated": true` (the client reads the
    whole object from the API); should even that be too large, only the object's id is left.
    """
    document = event.to_api()
    text = _encode(document)
    if len(text.encode()) <= limit:
        return text
    data = event.data
    for path in BULKY_FIELDS[event.type]:
        data = _without(data, path)
    text = _encode({**document, "data": data, "truncated": True})
    if len(text.encode()) <= limit:
        return text
    return _encode({**document, "data": {"id": event.data.get("id")}, "truncated": True})


PING = "ping"


def reply_to(message: str) -> dict[str, Any]:
    """What the server answers a client's message: `{"action": "ping"}` -> pong, anything else an error
    that says what is accepted (the socket is for receiving events; nothing else is read)."""
    try:
        document = json.loads(message)
    except ValueError:
        document = None
    if isinstance(document, dict) and document.get("action") == PING:
        return {"type": "pong"}
    return {"type": "error", "message": 'the only message accepted is {"action": "ping"}'}
