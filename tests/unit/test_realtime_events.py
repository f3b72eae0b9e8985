"""Real-time events as a client sees them: which change makes which event, seq order, frame size."""

import json

import pytest

from chalicelib.domain.realtime import (
    MAX_FRAME_BYTES,
    EventType,
    OrgEvent,
    StreamChange,
    event_seq,
    frame,
    incident_change,
    is_seq,
    reply_to,
    service_change,
    timeline_change,
)

INCIDENT = {
    "id": "i1",
    "org_id": "o1",
    "title": "DB down",
    "description": "",
    "status": "open",
    "escalation": None,
}
SERVICE = {
    "id": "s1",
    "org_id": "o1",
    "name": "API",
    "status": "up",
    "headers": {"X-Key": "********"},
    "keyword": None,
}


def event(type_: EventType, data: dict) -> OrgEvent:
    return OrgEvent(
        org_id="o1", seq=event_seq(1_700_000_000, "100"), type=type_, at="2026-12-01T00:00:00Z", data=data
    )


# ---- which change is which event -------------------------------------------------------------------


def test_a_new_incident_is_incident_created_with_its_rest_shape():
    change = incident_change(StreamChange.INSERT, None, INCIDENT)
    assert change is not None and change.type is EventType.INCIDENT_CREATED and change.data == INCIDENT


def test_an_acknowledged_incident_is_incident_updated():
    acknowledged = {**INCIDENT, "status": "acknowledged"}
    change = incident_change(StreamChange.MODIFY, INCIDENT, acknowledged)
    assert change is not None and change.type is EventType.INCIDENT_UPDATED and change.data == acknowledged


def test_a_write_that_changes_nothing_visible_makes_no_event():
    assert incident_change(StreamChange.MODIFY, INCIDENT, dict(INCIDENT)) is None
    assert service_change(StreamChange.MODIFY, SERVICE, dict(SERVICE)) is None


def test_a_service_going_down_is_status_changed_even_when_other_fields_change_with_it():
    down = {**SERVICE, "status": "down", "down_since": "2026-12-01T00:00:00Z"}
    change = service_change(StreamChange.MODIFY, SERVICE, down)
    assert change is not None and change.type is EventType.SERVICE_STATUS_CHANGED


def test_a_renamed_service_is_service_updated_a_new_one_created_a_removed_one_deleted_by_id():
    renamed = service_change(StreamChange.MODIFY, SERVICE, {**SERVICE, "name": "Public API"})
    assert renamed is not None and renamed.type is EventType.SERVICE_UPDATED
    created = service_change(StreamChange.INSERT, None, SERVICE)
    assert created is not None and created.type is EventType.SERVICE_CREATED
    deleted = service_change(StreamChange.REMOVE, SERVICE, None)
    assert deleted is not None and deleted.type is EventType.SERVICE_DELETED and deleted.data == {"id": "s1"}


def test_only_comments_of_the_timeline_are_events_and_they_name_their_incident():
    comment = {"id": "e1", "type": "comment", "actor_id": "u1", "data": {"body": "looking"}, "at": "x"}
    change = timeline_change(StreamChange.INSERT, comment, incident_id="i1")
    assert change is not None and change.type is EventType.INCIDENT_COMMENT
    assert change.data == {**comment, "incident_id": "i1"}
    acknowledged = {**comment, "type": "acknowledged", "data": {}}
    assert timeline_change(StreamChange.INSERT, acknowledged, incident_id="i1") is None


# ---- seq -------------------------------------------------------------------------------------------


def test_seq_sorts_as_text_in_time_then_stream_order():
    seqs = [
        event_seq(1_700_000_000, "9"),
        event_seq(1_700_000_000, "10"),  # numerically after 9, textually too once padded
        event_seq(1_700_000_001, "5"),  # a later second wins over a larger sequence number
        event_seq(1_700_000_001, "49039800000000000000000123"),
    ]
    assert sorted(seqs) == seqs
    assert all(is_seq(s) for s in seqs)


def test_seq_is_the_same_for_a_replayed_record():
    assert event_seq(1_700_000_000.0, "42") == event_seq(1_700_000_000, "42")


@pytest.mark.parametrize("value", ["", "1", "abc", "001700000000-12", "001700000000-" + "0" * 39 + "x"])
def test_anything_else_is_not_a_seq(value):
    assert not is_seq(value)


# ---- frames ----------------------------------------------------------------------------------------


def test_a_frame_carries_seq_type_org_at_and_the_object():
    sent = json.loads(frame(event(EventType.INCIDENT_CREATED, INCIDENT)))
    assert sent == {
        "seq": event_seq(1_700_000_000, "100"),
        "type": "incident.created",
        "org_id": "o1",
        "at": "2026-12-01T00:00:00Z",
        "data": INCIDENT,
    }


def test_an_incident_over_32_kb_is_sent_without_its_description_and_marked_truncated():
    huge = {**INCIDENT, "description": "é" * 10_000 + "🔥" * 5_000}  # 40 KB of UTF-8 in 15,000 characters
    text = frame(event(EventType.INCIDENT_UPDATED, huge))
    assert len(text.encode()) < MAX_FRAME_BYTES
    sent = json.loads(text)
    assert sent["truncated"] is True
    assert "description" not in sent["data"]
    assert sent["data"]["status"] == "open" and sent["data"]["title"] == "DB down"


def test_a_long_comment_loses_its_body_but_keeps_who_and_which_incident():
    comment = {
        "id": "e1",
        "type": "comment",
        "actor_id": "u1",
        "data": {"body": "x" * 40_000},
        "incident_id": "i1",
    }
    sent = json.loads(frame(event(EventType.INCIDENT_COMMENT, comment)))
    assert sent["truncated"] is True
    assert sent["data"] == {"id": "e1", "type": "comment", "actor_id": "u1", "data": {}, "incident_id": "i1"}


def test_a_small_object_is_never_truncated():
    assert "truncated" not in json.loads(frame(event(EventType.SERVICE_UPDATED, SERVICE)))


def test_an_object_still_too_large_without_bulky_fields_keeps_only_its_id():
    odd = {**SERVICE, "name": "n" * 40_000}
    sent = json.loads(frame(event(EventType.SERVICE_UPDATED, odd)))
    assert sent["data"] == {"id": "s1"} and sent["truncated"] is True


# ---- client messages -------------------------------------------------------------------------------


def test_ping_answers_pong_and_anything_else_an_error_naming_what_is_accepted():
    assert reply_to('{"action": "ping"}') == {"type": "pong"}
    for message in ('{"action": "subscribe"}', "hello", "[]", ""):
        answer = reply_to(message)
        assert answer["type"] == "error" and '{"action": "ping"}' in answer["message"]
