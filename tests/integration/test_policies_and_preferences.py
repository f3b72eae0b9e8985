"""Escalation policies and notification preferences (API.md), through chalice's test client."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib.api import policies as policies_api
from chalicelib.api import preferences as preferences_api
from chalicelib.domain.escalation import PolicySnapshot
from chalicelib.models.policies import EscalationPolicy
from chalicelib.settings import settings
from chalicelib.usecases import policies, preferences
from tests.integration.conftest import Api

POLICIES_PATH = "/v1/orgs/{org_id}/escalation-policies"


@pytest.fixture(scope="module")
def vigil(api: Api) -> Iterator[Api]:
    """The API with these routes. Once app.py registers the two blueprints, that is the real app.
    Until then, a test app with only these two: a Chalice Blueprint answers through the last app
    it was registered on, so registering auth/orgs/users here too would take them away from the
    real app for every later test. Tokens, orgs and members come from the real app (`api`)."""
    from app import app

    if POLICIES_PATH in app.routes:
        yield api
        return
    test_app = Chalice("vigil-test-policies")
    test_app.register_blueprint(policies_api.bp)
    test_app.register_blueprint(preferences_api.bp)
    with Client(test_app) as client:
        yield Api(client)


def make_team(api, new_account, new_org) -> SimpleNamespace:
    """An org with an admin, a user and a viewer, and an outsider with an org of their own."""
    admin, user, viewer, outsider = (new_account() for _ in range(4))
    org_id = new_org(admin, name="Ops")["id"]
    for member, role in ((user, "user"), (viewer, "viewer")):
        added = api.post(
            f"/v1/orgs/{org_id}/members", {"email": member.email, "role": role}, token=admin.access_token
        )
        assert added.status == 201, added.body
    other_org_id = new_org(outsider, name="Elsewhere")["id"]
    return SimpleNamespace(
        org_id=org_id,
        admin=admin,
        user=user,
        viewer=viewer,
        outsider=outsider,
        other_org_id=other_org_id,
        path=POLICIES_PATH.format(org_id=org_id),
    )


@pytest.fixture
def team(api, new_account, new_org) -> SimpleNamespace:
    return make_team(api, new_account, new_org)


@pytest.fixture(scope="module")
def refusing_team(api, new_account, new_org) -> SimpleNamespace:
    """Shared by tests that only send what is refused, so nothing in it changes."""
    return make_team(api, new_account, new_org)


def primary(team, **changes: Any) -> dict[str, Any]:
    return {
        "name": "Primary",
        "default": False,
        "repeat": 1,
        "match": {"min_severity": "high", "service_ids": []},
        "steps": [
            {"delay_minutes": 0, "targets": [{"type": "user", "id": team.user.user_id}]},
            {
                "delay_minutes": 15,
                "targets": [
                    {"type": "role", "role": "admin"},
                    {"type": "email", "address": "oncall@example.com"},
                    {"type": "sms", "number": "+15555550100"},
                    {"type": "webhook", "url": "https://example.com/hooks/vigil"},
                    {"type": "slack", "url": "https://hooks.slack.com/services/T000/B000/XXXX"},
                ],
            },
        ],
        **changes,
    }


def create(vigil, team, **changes: Any) -> dict[str, Any]:
    reply = vigil.post(team.path, primary(team, **changes), token=team.admin.access_token)
    assert reply.status == 201, reply.body
    return reply.body


def defaults(vigil, team) -> list[str]:
    items = vigil.get(team.path, token=team.admin.access_token).body["items"]
    return [p["name"] for p in items if p["default"]]


# ---- policies: CRUD -----------------------------------------------------------------------------


def test_an_admin_creates_reads_replaces_and_deletes_a_policy(vigil, team):
    created = create(vigil, team)
    assert created["id"] and created["org_id"] == team.org_id
    assert {k: created[k] for k in ("name", "default", "repeat", "match", "steps")} == {
        k: primary(team)[k] for k in ("name", "default", "repeat", "match", "steps")
    }
    assert created["created_at"].endswith("Z") and created["updated_at"].endswith("Z")

    one = f"{team.path}/{created['id']}"
    assert vigil.get(one, token=team.viewer.access_token).body == created

    replacement = {"name": "Nights", "steps": [{"targets": [{"type": "role", "role": "user"}]}]}
    replaced = vigil.put(one, replacement, token=team.admin.access_token)
    assert replaced.status == 200, replaced.body
    assert replaced.body["name"] == "Nights"
    assert replaced.body["repeat"] == 0  # a PUT replaces the whole policy
    assert replaced.body["match"] is None
    assert replaced.body["steps"] == [{"delay_minutes": 0, "targets": [{"type": "role", "role": "user"}]}]
    assert replaced.body["created_at"] == created["created_at"]
    assert vigil.get(one, token=team.admin.access_token).body == replaced.body

    assert vigil.delete(one, token=team.admin.access_token).status == 204
    assert vigil.get(one, token=team.admin.access_token).status == 404
    assert vigil.delete(one, token=team.admin.access_token).status == 404
    assert vigil.put(one, replacement, token=team.admin.access_token).status == 404


def test_policies_are_listed_oldest_first_with_a_cursor(vigil, team):
    ids = [create(vigil, team, name=f"P{i}")["id"] for i in range(3)]
    first = vigil.get(f"{team.path}?limit=2", token=team.viewer.access_token)
    assert first.status == 200
    assert [p["id"] for p in first.body["items"]] == ids[:2]
    second = vigil.get(
        f"{team.path}?limit=2&cursor={first.body['next_cursor']}", token=team.user.access_token
    )
    assert [p["id"] for p in second.body["items"]] == ids[2:]
    assert second.body["next_cursor"] is None
    assert vigil.get(f"{team.path}?limit=0", token=team.admin.access_token).status == 400


def test_only_admins_write_policies(vigil, team):
    policy = create(vigil, team)
    one = f"{team.path}/{policy['id']}"
    for member in (team.user, team.viewer):
        assert vigil.post(team.path, primary(team), token=member.access_token).status == 403
        assert vigil.put(one, primary(team), token=member.access_token).status == 403
        assert vigil.delete(one, token=member.access_token).status == 403
        assert vigil.get(one, token=member.access_token).status == 200
        assert vigil.get(team.path, token=member.access_token).status == 200
    assert vigil.get(team.path).status == 401


def test_another_orgs_policies_are_not_found(vigil, team):
    policy = create(vigil, team)
    outsider = team.outsider.access_token
    assert vigil.get(team.path, token=outsider).status == 404
    assert vigil.post(team.path, primary(team), token=outsider).status == 404
    # Asked for under the outsider's own org, where they are admin: still 404.
    elsewhere = f"{POLICIES_PATH.format(org_id=team.other_org_id)}/{policy['id']}"
    assert vigil.get(elsewhere, token=outsider).status == 404
    assert (
        vigil.put(
            elsewhere, primary(team, steps=[{"targets": [{"type": "role", "role": "admin"}]}]), token=outsider
        ).status
        == 404
    )
    assert vigil.delete(elsewhere, token=outsider).status == 404
    assert vigil.get(f"{team.path}/{policy['id']}", token=team.admin.access_token).status == 200
    for bogus in ("~default", "x" * 65, "nope"):
        assert vigil.get(f"{team.path}/{bogus}", token=team.admin.access_token).status == 404


def sms(number: str) -> dict[str, Any]:
    return {"type": "sms", "number": number}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"steps": []}, "steps:"),
        ({"steps": [{"delay_minutes": -1, "targets": [sms("+15555550100")]}]}, "steps.0.delay_minutes:"),
        ({"steps": [{"delay_minutes": 1441, "targets": [sms("+15555550100")]}]}, "steps.0.delay_minutes:"),
        ({"steps": [{"targets": []}]}, "steps.0.targets:"),
        ({"repeat": 11}, "repeat:"),
        ({"repeat": -1}, "repeat:"),
        ({"name": ""}, "name:"),
        ({"match": {"min_severity": "urgent"}}, "match.min_severity:"),
        (
            {"steps": [{"targets": [sms("+15555550100")]}, {"targets": [sms("555-0100")]}]},
            "steps.1.targets.0.number:",
        ),
        ({"steps": [{"targets": [{"type": "pager", "id": "x"}]}]}, "steps.0.targets.0.type:"),
        ({"steps": [{"targets": [{"type": "sms"}]}]}, "steps.0.targets.0.number: is required"),
        ({"steps": [{"targets": [{"type": "role", "role": "owner"}]}]}, "steps.0.targets.0.role:"),
        (
            {"steps": [{"targets": [{"type": "email", "address": "not-an-email"}]}]},
            "steps.0.targets.0.address:",
        ),
        ({"steps": [{"targets": [{"type": "webhook", "url": "not a url"}]}]}, "steps.0.targets.0.url:"),
        (
            {"steps": [{"targets": [{"type": "slack", "url": "ftp://hooks.slack.com/x"}]}]},
            "steps.0.targets.0.url:",
        ),
        (
            {"steps": [{"targets": [{"type": "user", "id": "01NOTAMEMBER"}]}]},
            "steps.0.targets.0.id: is not a member",
        ),
        ({"owner": "me"}, "owner: is not an accepted field"),
        ({"repeat": "1"}, "repeat: must be an integer"),
    ],
)
def test_bad_policies_are_refused_naming_the_field(vigil, refusing_team, changes, message):
    team = refusing_team
    reply = vigil.post(team.path, primary(team, **changes), token=team.admin.access_token)
    assert reply.status == 400, reply.body
    assert reply.message.startswith(message), reply.message


def test_a_policy_cannot_page_someone_outside_the_org(vigil, team):
    stranger = {"type": "user", "id": team.outsider.user_id}
    body = primary(team, steps=[{"targets": [{"type": "role", "role": "admin"}]}, {"targets": [stranger]}])
    reply = vigil.post(team.path, body, token=team.admin.access_token)
    assert reply.status == 400
    assert reply.message == "steps.1.targets.0.id: is not a member of this organization"
    policy = create(vigil, team)
    replaced = vigil.put(f"{team.path}/{policy['id']}", body, token=team.admin.access_token)
    assert replaced.status == 400
    assert replaced.message.startswith("steps.1.targets.0.id:")


def test_private_webhooks_are_refused_when_the_deployment_forbids_them(vigil, team, monkeypatch):
    monkeypatch.setattr(
        "chalicelib.usecases.policies.settings", dataclasses.replace(settings, allow_private_targets=False)
    )
    for url in ("http://127.0.0.1:9000/hook", "http://169.254.169.254/latest", "http://db.internal/x"):
        body = primary(team, steps=[{"targets": [{"type": "webhook", "url": url}]}])
        reply = vigil.post(team.path, body, token=team.admin.access_token)
        assert reply.status == 400
        assert reply.message.startswith("steps.0.targets.0.url: points at a private"), reply.message
    plain_http_slack = primary(
        team, steps=[{"targets": [{"type": "slack", "url": "http://hooks.slack.com/x"}]}]
    )
    reply = vigil.post(team.path, plain_http_slack, token=team.admin.access_token)
    assert reply.message == "steps.0.targets.0.url: must start with https://"


# ---- policies: one default per org --------------------------------------------------------------


def test_an_org_has_at_most_one_default_policy(vigil, team):
    first = create(vigil, team, name="First", default=True)
    assert first["default"] is True
    second = create(vigil, team, name="Second", default=True)
    assert second["default"] is True
    assert defaults(vigil, team) == ["Second"]

    back = vigil.put(
        f"{team.path}/{first['id']}", primary(team, name="First", default=True), token=team.admin.access_token
    )
    assert back.status == 200 and back.body["default"] is True
    assert defaults(vigil, team) == ["First"]
    assert vigil.get(f"{team.path}/{second['id']}", token=team.admin.access_token).body["default"] is False

    # Replacing the default as the default keeps it; replacing it with default=false leaves none.
    kept = vigil.put(
        f"{team.path}/{first['id']}",
        primary(team, name="First!", default=True),
        token=team.admin.access_token,
    )
    assert kept.body["default"] is True
    assert defaults(vigil, team) == ["First!"]
    cleared = vigil.put(
        f"{team.path}/{first['id']}", primary(team, name="First!"), token=team.admin.access_token
    )
    assert cleared.body["default"] is False
    assert defaults(vigil, team) == []

    # Deleting the default leaves none, and a new default can be set afterwards.
    third = create(vigil, team, name="Third", default=True)
    assert vigil.delete(f"{team.path}/{third['id']}", token=team.admin.access_token).status == 204
    assert defaults(vigil, team) == []
    create(vigil, team, name="Fourth", default=True)
    assert defaults(vigil, team) == ["Fourth"]


def test_two_requests_racing_for_the_default_leave_one(vigil, team, monkeypatch):
    """Deterministic race: between request B's read of the default and its write, request C
    makes itself the default. B's write loses its condition, is re-read and retried."""
    create(vigil, team, name="A", default=True)
    read_marker = policies._read_marker
    interleaved: list[str] = []

    def stale_read(org_id: str):
        marker = read_marker(org_id)
        if not interleaved:
            interleaved.append("C")
            policies.create_policy(org_id, primary(team, name="C", default=True))
        return marker

    monkeypatch.setattr(policies, "_read_marker", stale_read)
    b = policies.create_policy(team.org_id, primary(team, name="B", default=True))
    monkeypatch.undo()
    assert interleaved == ["C"]
    assert b.is_default
    assert defaults(vigil, team) == ["B"]
    flags = [p.is_default for p in EscalationPolicy.query(team.org_id, EscalationPolicy.policy_id < "~")]
    assert flags.count(True) == 1


def test_a_request_that_keeps_losing_the_race_is_a_409(vigil, team, monkeypatch):
    def always_stale(org_id: str):
        return None  # as if the org had never had a default: the marker condition always fails

    create(vigil, team, name="A", default=True)
    monkeypatch.setattr(policies, "_read_marker", always_stale)
    reply = vigil.post(team.path, primary(team, name="B", default=True), token=team.admin.access_token)
    assert reply.status == 409
    monkeypatch.undo()
    assert defaults(vigil, team) == ["A"]


# ---- policies: which one a new incident takes ---------------------------------------------------


def test_a_new_incident_takes_its_services_policy_then_a_match_then_the_default(vigil, team):
    def chosen(**kw: Any) -> str | None:
        snapshot = policies.policy_for_new_incident(team.org_id, **kw)
        return snapshot.name if snapshot else None

    incident = {"severity": "high", "service_id": "S1", "service_policy_id": None}
    assert chosen(**incident) is None  # no policy at all

    s2 = vigil.post(  # a match names services of the org (issue 9)
        f"/v1/orgs/{team.org_id}/services",
        {"name": "S2", "url": "https://example.com/health", "enabled": False},
        token=team.admin.access_token,
    ).body["id"]
    default = create(vigil, team, name="Default", default=True, match=None)
    service = create(vigil, team, name="Service", match=None)
    create(vigil, team, name="Critical", match={"min_severity": "critical"})
    create(vigil, team, name="S2", match={"service_ids": [s2]})
    create(vigil, team, name="High", match={"min_severity": "high"})

    assert chosen(**incident) == "High"
    assert chosen(**{**incident, "severity": "critical"}) == "Critical"  # oldest match first
    assert chosen(**{**incident, "service_id": s2, "severity": "low"}) == "S2"
    assert chosen(**{**incident, "severity": "medium"}) == "Default"
    assert chosen(**{**incident, "service_policy_id": service["id"], "severity": "critical"}) == "Service"

    # A deleted service policy is allowed; its services fall back.
    assert vigil.delete(f"{team.path}/{service['id']}", token=team.admin.access_token).status == 204
    assert chosen(**{**incident, "service_policy_id": service["id"], "severity": "low"}) == "Default"

    snapshot = policies.policy_for_new_incident(
        team.org_id, severity="low", service_id=None, service_policy_id=None
    )
    assert snapshot is not None and snapshot.policy_id == default["id"]
    assert snapshot.steps[0].targets[0].id == team.user.user_id
    assert PolicySnapshot.from_dict(snapshot.to_dict()) == snapshot


def test_an_edit_does_not_change_a_snapshot_already_taken(vigil, team):
    policy = create(vigil, team, default=True)
    before = policies.policy_for_new_incident(
        team.org_id, severity="low", service_id=None, service_policy_id=None
    )
    vigil.put(
        f"{team.path}/{policy['id']}", primary(team, default=True, repeat=3), token=team.admin.access_token
    )
    after = policies.policy_for_new_incident(
        team.org_id, severity="low", service_id=None, service_policy_id=None
    )
    assert (before.repeat, after.repeat) == (1, 3)


# ---- notification preferences -------------------------------------------------------------------

ME = "/v1/users/me/notification-preferences"


def test_a_new_account_is_notified_by_email_at_its_address(vigil, new_account):
    me = new_account()
    reply = vigil.get(ME, token=me.access_token)
    assert reply.status == 200
    assert reply.body["items"] == [
        {"channel": "email", "enabled": True, "address": me.email, "min_severity": "low", "updated_at": None},
        {"channel": "sms", "enabled": False, "address": None, "min_severity": "low", "updated_at": None},
        {"channel": "webhook", "enabled": False, "address": None, "min_severity": "low", "updated_at": None},
        {"channel": "slack", "enabled": False, "address": None, "min_severity": "low", "updated_at": None},
    ]
    assert preferences.channels_for(me.user_id, "low") == [("email", me.email)]
    assert vigil.get(ME).status == 401


def test_setting_my_channels(vigil, new_account):
    me = new_account()
    token = me.access_token
    sms = vigil.put(
        f"{ME}/sms", {"enabled": True, "address": "+15555550100", "min_severity": "high"}, token=token
    )
    assert sms.status == 200, sms.body
    assert {k: sms.body[k] for k in ("channel", "enabled", "address", "min_severity")} == {
        "channel": "sms",
        "enabled": True,
        "address": "+15555550100",
        "min_severity": "high",
    }
    # Omitted fields keep their value: turning SMS off keeps the number for later.
    off = vigil.put(f"{ME}/sms", {"enabled": False}, token=token).body
    assert (off["enabled"], off["address"], off["min_severity"]) == (False, "+15555550100", "high")
    assert vigil.put(f"{ME}/sms", {"enabled": True}, token=token).body["enabled"] is True

    email = vigil.put(f"{ME}/email", {"enabled": True, "address": " Pager@Example.COM "}, token=token).body
    assert email["address"] == "pager@example.com"
    reset = vigil.put(f"{ME}/email", {"enabled": True, "address": None}, token=token).body
    assert reset["address"] == me.email  # null: the account's own address again

    hook = vigil.put(f"{ME}/webhook", {"enabled": True, "address": "https://example.com/in"}, token=token)
    assert hook.status == 200
    listed = {p["channel"]: p for p in vigil.get(ME, token=token).body["items"]}
    assert listed["sms"]["address"] == "+15555550100"
    assert listed["webhook"]["enabled"] is True
    assert listed["slack"]["enabled"] is False


@pytest.mark.parametrize(
    ("channel", "body", "message"),
    [
        ("sms", {"enabled": True, "address": "5555550100"}, "address: must be an E.164 phone number"),
        ("sms", {"enabled": True}, "address: is required"),
        ("slack", {"enabled": True}, "address: is required"),
        ("webhook", {"enabled": True, "address": "ftp://example.com"}, "address: must start with"),
        ("slack", {"enabled": True, "address": "not a url"}, "address:"),
        ("email", {"enabled": True, "address": "nobody"}, "address: is not a valid email address"),
        ("email", {"enabled": True, "min_severity": "urgent"}, "min_severity: must be one of"),
        ("email", {"address": "a@example.com"}, "enabled: is required"),
        ("email", {"enabled": "yes"}, "enabled: must be true or false"),
        ("email", {"enabled": True, "channel": "sms"}, "channel: is not an accepted field"),
    ],
)
def test_bad_preferences_are_refused_naming_the_field(vigil, refusing_team, channel, body, message):
    reply = vigil.put(f"{ME}/{channel}", body, token=refusing_team.viewer.access_token)
    assert reply.status == 400, reply.body
    assert reply.message.startswith(message), reply.message


def test_an_unknown_channel_is_not_found(vigil, new_account):
    reply = vigil.put(f"{ME}/pigeon", {"enabled": True}, token=new_account().access_token)
    assert reply.status == 404
    assert "pigeon" in reply.message


def test_private_webhook_addresses_are_refused_when_the_deployment_forbids_them(
    vigil, new_account, monkeypatch
):
    me = new_account()
    local = {"enabled": True, "address": "http://127.0.0.1:9000/hook"}
    assert (
        vigil.put(f"{ME}/webhook", local, token=me.access_token).status == 200
    )  # the test stack allows them
    monkeypatch.setattr(
        "chalicelib.usecases.preferences.settings", dataclasses.replace(settings, allow_private_targets=False)
    )
    reply = vigil.put(f"{ME}/webhook", local, token=me.access_token)
    assert reply.status == 400
    assert reply.message.startswith("address: points at a private")


def test_channels_for_an_incident_follow_min_severity(vigil, new_account):
    me = new_account()
    token = me.access_token
    vigil.put(f"{ME}/email", {"enabled": True, "min_severity": "medium"}, token=token)
    vigil.put(
        f"{ME}/sms", {"enabled": True, "address": "+15555550100", "min_severity": "critical"}, token=token
    )
    vigil.put(
        f"{ME}/slack", {"enabled": True, "address": "https://hooks.slack.com/services/T/B/x"}, token=token
    )
    vigil.put(f"{ME}/webhook", {"enabled": False, "address": "https://example.com/in"}, token=token)

    slack = ("slack", "https://hooks.slack.com/services/T/B/x")
    assert preferences.channels_for(me.user_id, "low") == [slack]
    assert preferences.channels_for(me.user_id, "high") == [("email", me.email), slack]
    assert preferences.channels_for(me.user_id, "critical") == [
        ("email", me.email),
        ("sms", "+15555550100"),
        slack,
    ]
    vigil.put(f"{ME}/email", {"enabled": False}, token=token)
    assert preferences.channels_for(me.user_id, "critical") == [("sms", "+15555550100"), slack]


def test_an_admin_reads_and_sets_a_members_preferences(vigil, team):
    path = f"/v1/orgs/{team.org_id}/members/{team.user.user_id}/notification-preferences"
    listed = vigil.get(path, token=team.admin.access_token)
    assert listed.status == 200
    assert listed.body["items"][0] == {
        "channel": "email",
        "enabled": True,
        "address": team.user.email,
        "min_severity": "low",
        "updated_at": None,
    }
    put = vigil.put(
        f"{path}/sms", {"enabled": True, "address": "+15555550123"}, token=team.admin.access_token
    )
    assert put.status == 200, put.body
    mine = {p["channel"]: p for p in vigil.get(ME, token=team.user.access_token).body["items"]}
    assert mine["sms"]["address"] == "+15555550123"
    assert vigil.put(f"{path}/pigeon", {"enabled": True}, token=team.admin.access_token).status == 404
    bad = vigil.put(f"{path}/sms", {"enabled": True, "address": "12"}, token=team.admin.access_token)
    assert bad.status == 400 and bad.message.startswith("address:")


def test_only_an_admin_of_the_members_org_may_touch_their_preferences(vigil, team):
    def path(org_id: str, user_id: str) -> str:
        return f"/v1/orgs/{org_id}/members/{user_id}/notification-preferences"

    sms = {"enabled": True, "address": "+15555550100"}
    of_user = path(team.org_id, team.user.user_id)
    for member in (team.user, team.viewer):
        assert vigil.get(of_user, token=member.access_token).status == 403
        assert vigil.put(f"{of_user}/sms", sms, token=member.access_token).status == 403
    # Not a member of the org: 404, as is the org itself to someone outside it.
    of_outsider = path(team.org_id, team.outsider.user_id)
    assert vigil.get(of_outsider, token=team.admin.access_token).status == 404
    assert vigil.put(f"{of_outsider}/sms", sms, token=team.admin.access_token).status == 404
    assert vigil.get(path(team.org_id, "not-a-user"), token=team.admin.access_token).status == 404
    assert vigil.get(of_user, token=team.outsider.access_token).status == 404
    # The outsider's own org does not reach a member of another org.
    assert (
        vigil.get(path(team.other_org_id, team.user.user_id), token=team.outsider.access_token).status == 404
    )
    assert (
        vigil.put(
            f"{path(team.other_org_id, team.user.user_id)}/sms", sms, token=team.outsider.access_token
        ).status
        == 404
    )
    assert vigil.get(of_user).status == 401
