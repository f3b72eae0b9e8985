"""The incident lifecycle over the API: create, patch, acknowledge, resolve, snooze, assign, comment."""

import time

import pytest

from chalicelib.adapters.probe_queue import ProbeJob
from chalicelib.domain import transitions
from chalicelib.domain.checks import CheckRecord
from chalicelib.domain.errors import Conflict
from chalicelib.domain.incidents import Status
from chalicelib.models.incidents import Incident
from chalicelib.models.services import Service
from chalicelib.usecases import checker, escalation, incidents


@pytest.fixture
def team(api, new_account, new_org):
    admin, responder, viewer = (
        new_account(name="Ada Admin"),
        new_account(name="Rita Responder"),
        new_account(),
    )
    org = new_org(admin)
    for member, role in [(responder, "user"), (viewer, "viewer")]:
        api.post(
            f"/v1/orgs/{org['id']}/members", {"email": member.email, "role": role}, token=admin.access_token
        )
    return org["id"], admin, responder, viewer


def open_incident(api, org_id, who, **fields):
    body = {"title": "Checkout is slow", "description": "p95 over 3 s", "severity": "high", **fields}
    reply = api.post(f"/v1/orgs/{org_id}/incidents", body, token=who.access_token)
    assert reply.status == 201, reply.body
    return reply.body


def timeline_types(api, org_id, incident_id, who):
    items = api.get(f"/v1/orgs/{org_id}/incidents/{incident_id}/timeline", token=who.access_token).body[
        "items"
    ]
    return [item["type"] for item in items]


def test_a_manual_incident_has_the_documented_shape(api, team):
    org_id, _, responder, _ = team
    incident = open_incident(api, org_id, responder)
    assert incident["status"] == "open"
    assert incident["source"] == "manual"
    assert incident["severity"] == "high"
    assert incident["category"] in {"network", "server", "software", "login", "other"}
    assert incident["alert_count"] == 0
    assert incident["acknowledged_at"] is None
    assert incident["resolved_at"] is None
    assert set(incident) >= {
        "id",
        "org_id",
        "title",
        "description",
        "severity",
        "status",
        "category",
        "source",
        "service_id",
        "dedup_key",
        "assignee_id",
        "alert_count",
        "created_at",
        "acknowledged_at",
        "resolved_at",
        "escalation",
    }
    got = api.get(f"/v1/orgs/{org_id}/incidents/{incident['id']}", token=responder.access_token).body
    assert got["id"] == incident["id"]


def test_defaults_and_validation(api, team):
    org_id, _, responder, _ = team
    minimal = api.post(f"/v1/orgs/{org_id}/incidents", {"title": "x"}, token=responder.access_token)
    assert minimal.body["severity"] == "medium"
    for body, expected in [
        ({}, "title: is required"),
        ({"title": ""}, "title: must not be empty"),
        ({"title": "t" * 201}, "title: must be at most 200 characters"),
        ({"title": "x", "description": "d" * 10_001}, "description: must be at most 10000 characters"),
        ({"title": "x", "severity": "sev1"}, "severity: must be one of"),
        ({"title": "x", "service_id": "01NOSUCHSERVICE"}, "service_id: is not a service"),
    ]:
        reply = api.post(f"/v1/orgs/{org_id}/incidents", body, token=responder.access_token)
        assert reply.status == 400, (body, reply.body)
        assert reply.message.startswith(expected), reply.message


def test_a_dedup_key_in_use_by_an_open_incident_is_409(api, team):
    org_id, _, responder, _ = team
    open_incident(api, org_id, responder, dedup_key="db-primary")
    again = api.post(
        f"/v1/orgs/{org_id}/incidents",
        {"title": "x", "dedup_key": "db-primary"},
        token=responder.access_token,
    )
    assert again.status == 409
    assert again.message.startswith("dedup_key:")


def test_acknowledge_then_resolve_with_a_note_and_the_timeline_shows_who(api, team):
    org_id, _, responder, _ = team
    incident = open_incident(api, org_id, responder)
    base = f"/v1/orgs/{org_id}/incidents/{incident['id']}"
    acked = api.post(f"{base}/acknowledge", token=responder.access_token)
    assert acked.status == 200
    assert acked.body["status"] == "acknowledged"
    assert acked.body["acknowledged_at"]
    assert api.post(f"{base}/acknowledge", token=responder.access_token).status == 200  # idempotent

    resolved = api.post(f"{base}/resolve", {"note": "rolled back"}, token=responder.access_token)
    assert resolved.status == 200
    assert resolved.body["status"] == "resolved"
    assert resolved.body["resolved_at"]
    assert api.post(f"{base}/resolve", token=responder.access_token).status == 409
    assert api.post(f"{base}/acknowledge", token=responder.access_token).status == 409
    assert api.post(f"{base}/snooze", {"minutes": 5}, token=responder.access_token).status == 409

    items = api.get(f"{base}/timeline", token=responder.access_token).body["items"]
    assert [i["type"] for i in items] == ["created", "acknowledged", "resolved"]
    assert {i["actor_id"] for i in items} == {responder.user_id}
    assert items[-1]["data"]["note"] == "rolled back"
    assert [i["at"] for i in items] == sorted(i["at"] for i in items)


def test_two_concurrent_acknowledgements_leave_one_entry(api, team):
    """Interleaved by hand: both requests read the incident open; the first one lands."""
    org_id, admin, responder, _ = team
    incident = open_incident(api, org_id, responder)
    as_read = Incident.get(org_id, incident["id"])
    incidents.acknowledge(org_id, incident["id"], actor_id=admin.user_id)
    now = int(time.time())
    incidents.move(
        as_read,
        lambda current: transitions.acknowledge(Status(current.status), now=now),
        actor_id=responder.user_id,
        now=now,
    )
    assert timeline_types(api, org_id, incident["id"], admin).count("acknowledged") == 1


def test_snooze_returns_to_open_when_the_time_is_up(api, team):
    org_id, _, responder, _ = team
    incident = open_incident(api, org_id, responder)
    base = f"/v1/orgs/{org_id}/incidents/{incident['id']}"
    for minutes in (0, 1441, "5"):
        assert api.post(f"{base}/snooze", {"minutes": minutes}, token=responder.access_token).status == 400
    snoozed = api.post(f"{base}/snooze", {"minutes": 5}, token=responder.access_token)
    assert snoozed.body["status"] == "snoozed"

    escalation.fire_due(now=int(time.time()) + 60)  # a minute later: not due yet
    assert Incident.get(org_id, incident["id"]).status == "snoozed"
    escalation.fire_due(now=int(time.time()) + 5 * 60 + 1)
    assert api.get(base, token=responder.access_token).body["status"] == "open"
    assert timeline_types(api, org_id, incident["id"], responder)[-2:] == ["snoozed", "reopened"]


def test_acknowledging_a_snoozed_incident_cancels_its_wake_up(api, team):
    org_id, _, responder, _ = team
    incident = open_incident(api, org_id, responder)
    base = f"/v1/orgs/{org_id}/incidents/{incident['id']}"
    api.post(f"{base}/snooze", {"minutes": 1}, token=responder.access_token)
    api.post(f"{base}/acknowledge", token=responder.access_token)
    escalation.fire_due(now=int(time.time()) + 120)
    assert api.get(base, token=responder.access_token).body["status"] == "acknowledged"


def test_assign_only_to_members_and_comment(api, team, new_account):
    org_id, admin, responder, _ = team
    incident = open_incident(api, org_id, responder)
    base = f"/v1/orgs/{org_id}/incidents/{incident['id']}"
    assigned = api.post(f"{base}/assign", {"user_id": admin.user_id}, token=responder.access_token)
    assert assigned.body["assignee_id"] == admin.user_id
    outsider = new_account()
    refused = api.post(f"{base}/assign", {"user_id": outsider.user_id}, token=responder.access_token)
    assert refused.status == 400
    assert refused.message.startswith("user_id:")

    comment = api.post(f"{base}/comments", {"body": "looking at the DB"}, token=admin.access_token)
    assert comment.status == 201
    assert comment.body["type"] == "comment"
    assert comment.body["data"]["body"] == "looking at the DB"
    assert api.post(f"{base}/comments", {"body": "  "}, token=admin.access_token).status == 400
    assert timeline_types(api, org_id, incident["id"], admin) == ["created", "assigned", "comment"]


def test_patch_records_severity_changes(api, team):
    org_id, _, responder, _ = team
    incident = open_incident(api, org_id, responder, severity="low")
    base = f"/v1/orgs/{org_id}/incidents/{incident['id']}"
    patched = api.patch(base, {"severity": "critical", "category": "software"}, token=responder.access_token)
    assert (patched.body["severity"], patched.body["category"]) == ("critical", "software")
    items = api.get(f"{base}/timeline", token=responder.access_token).body["items"]
    change = next(i for i in items if i["type"] == "severity_changed")
    assert change["data"] == {"from": "low", "to": "critical"}
    assert api.patch(base, {"category": "weather"}, token=responder.access_token).status == 400


def test_viewers_read_users_act_strangers_get_404(api, team, new_account):
    org_id, _, responder, viewer = team
    incident = open_incident(api, org_id, responder)
    base = f"/v1/orgs/{org_id}/incidents/{incident['id']}"
    assert api.get(base, token=viewer.access_token).status == 200
    assert api.get(f"{base}/timeline", token=viewer.access_token).status == 200
    for path, body in [
        ("/acknowledge", None),
        ("/resolve", None),
        ("/snooze", {"minutes": 5}),
        ("/comments", {"body": "x"}),
        ("/assign", {"user_id": viewer.user_id}),
    ]:
        assert api.post(base + path, body, token=viewer.access_token).status == 403
    assert api.post(f"/v1/orgs/{org_id}/incidents", {"title": "x"}, token=viewer.access_token).status == 403
    stranger = new_account()
    assert api.get(base, token=stranger.access_token).status == 404
    assert api.post(f"{base}/acknowledge", token=stranger.access_token).status == 404


def test_the_list_filters_by_status_and_severity_newest_first(api, team):
    org_id, _, responder, _ = team
    low = open_incident(api, org_id, responder, severity="low")
    crit = open_incident(api, org_id, responder, severity="critical")
    api.post(f"/v1/orgs/{org_id}/incidents/{low['id']}/resolve", token=responder.access_token)
    listed = api.get(f"/v1/orgs/{org_id}/incidents", token=responder.access_token).body["items"]
    ids = [i["id"] for i in listed]
    assert ids.index(crit["id"]) < ids.index(low["id"])
    resolved = api.get(f"/v1/orgs/{org_id}/incidents?status=resolved", token=responder.access_token).body[
        "items"
    ]
    assert [i["id"] for i in resolved] == [low["id"]]
    critical = api.get(f"/v1/orgs/{org_id}/incidents?severity=critical", token=responder.access_token).body[
        "items"
    ]
    assert [i["id"] for i in critical] == [crit["id"]]
    assert api.get(f"/v1/orgs/{org_id}/incidents?status=closed", token=responder.access_token).status == 400


def test_a_monitor_incident_resolved_by_hand_lets_the_service_recover(api, team, target, probe_queue):
    org_id, admin, _, _ = team
    service = api.post(
        f"/v1/orgs/{org_id}/services",
        {"name": "api", "url": target.url, "failure_threshold": 1},
        token=admin.access_token,
    ).body
    probe_queue.run_checker()
    at = int(time.time()) + 1
    checker.record(
        checker.CheckedJob(ProbeJob(org_id, service["id"], at), CheckRecord(at, "down", 1, 500, "x"))
    )
    incident_id = Service.get(org_id, service["id"]).open_incident_id
    assert timeline_types(api, org_id, incident_id, admin) == ["created"]
    api.post(
        f"/v1/orgs/{org_id}/incidents/{incident_id}/resolve", {"note": "known"}, token=admin.access_token
    )

    up = CheckRecord(at + 5, "up", 1, 200, None)
    checker.record(checker.CheckedJob(ProbeJob(org_id, service["id"], at + 5), up))
    assert Service.get(org_id, service["id"], consistent_read=True).status == "up"
    assert timeline_types(api, org_id, incident_id, admin) == ["created", "resolved"]
    with pytest.raises(Conflict):
        incidents.resolve(org_id, incident_id, actor_id=admin.user_id, note=None)


@pytest.mark.parametrize(
    ("title", "description", "category"),
    [
        ("Users cannot log in with SSO", "The identity provider rejects every SAML assertion", "login"),
        ("DNS resolution failing for api.example.com", "NXDOMAIN from the resolvers", "network"),
        ("Disco lleno en db-1", "El servidor de base de datos se quedó sin espacio", "server"),
        ("NullPointerException im Abrechnungsdienst", "Seit dem letzten Deployment", "software"),
    ],
)
def test_a_new_incident_gets_a_category_from_its_text(api, team, title, description, category):
    org_id, _, responder, _ = team
    incident = open_incident(api, org_id, responder, title=title, description=description)
    assert incident["category"] == category
    patched = api.patch(
        f"/v1/orgs/{org_id}/incidents/{incident['id']}", {"category": "other"}, token=responder.access_token
    )
    assert patched.body["category"] == "other"  # a person's choice wins
