"""Escalation driven by the incidents table's real stream records, notifications through their queue."""

import time

import pytest

from chalicelib.models.incidents import Incident
from chalicelib.usecases import escalation, policies, preferences
from tests.integration.conftest import sms_sent_to, unique_email

ONCALL_SMS = "+15555550100"


@pytest.fixture(autouse=True)
def quiet_queues(probe_queue, notification_queue):
    probe_queue.purge()
    notification_queue.purge()


@pytest.fixture
def org_with_policy(api, new_account, new_org):
    admin = new_account(name="Ada Admin")
    org = new_org(admin)
    oncall = unique_email("oncall")
    policy = policies.create_policy(
        org["id"],
        {
            "name": "Primary",
            "default": True,
            "repeat": 0,
            "steps": [
                {"delay_minutes": 0, "targets": [{"type": "email", "address": oncall}]},
                {"delay_minutes": 15, "targets": [{"type": "sms", "number": ONCALL_SMS}]},
            ],
        },
    )
    return org["id"], admin, oncall, policy


def create(api, org_id, who, **fields):
    body = {"title": "Payments failing", "severity": "critical", **fields}
    reply = api.post(f"/v1/orgs/{org_id}/incidents", body, token=who.access_token)
    assert reply.status == 201, reply.body
    return reply.body


def test_a_new_incident_emails_step_0_once_even_when_the_record_is_replayed(
    api, org_with_policy, incident_stream, notification_queue, mailbox
):
    org_id, admin, oncall, policy = org_with_policy
    incident = create(api, org_id, admin)
    assert incident["escalation"]["policy_id"] == policy.policy_id

    records = incident_stream.deliver()
    assert any(r["eventName"] == "INSERT" for r in records)
    notification_queue.run_sender()
    [email] = mailbox.messages_to(oncall)
    assert "Payments failing" in email["subject"]

    incident_stream.deliver(records)  # the stream hands the same records over again
    notification_queue.run_sender()
    assert len(mailbox.messages_to(oncall)) == 1

    log = api.get(
        f"/v1/orgs/{org_id}/incidents/{incident['id']}/notifications", token=admin.access_token
    ).body
    assert [(n["channel"], n["target"], n["status"], n["attempts"]) for n in log["items"]] == [
        ("email", oncall, "sent", 1)
    ]
    got = api.get(f"/v1/orgs/{org_id}/incidents/{incident['id']}", token=admin.access_token).body
    assert got["escalation"]["step"] == 0
    assert got["escalation"]["next_at"] is not None


def test_escalate_fires_the_sms_step_and_acknowledging_stops_the_rest(
    api, org_with_policy, incident_stream, notification_queue, mailbox
):
    org_id, admin, oncall, _ = org_with_policy
    incident = create(api, org_id, admin)
    base = f"/v1/orgs/{org_id}/incidents/{incident['id']}"
    incident_stream.deliver()
    sms_before = len(sms_sent_to(ONCALL_SMS))  # other tests page this number with this title too

    escalated = api.post(f"{base}/escalate", token=admin.access_token)
    assert escalated.status == 200
    assert escalated.body["escalation"]["step"] == 1
    notification_queue.run_sender()
    assert any("Payments failing" in text for text in sms_sent_to(ONCALL_SMS)[sms_before:])
    assert api.post(f"{base}/escalate", token=admin.access_token).status == 409  # nothing left

    api.post(f"{base}/acknowledge", token=admin.access_token)
    incident_stream.deliver()  # the MODIFY: people already paged hear about it
    notification_queue.run_sender()
    subjects = [m["subject"] for m in mailbox.messages_to(oncall)]
    assert len(subjects) == 2
    assert "acknowledged" in subjects[-1].lower()

    entries = api.get(f"{base}/timeline", token=admin.access_token).body["items"]
    types = [e["type"] for e in entries]
    assert [t for t in types if t != "notified"] == ["created", "escalated", "escalated", "acknowledged"]
    notified = [(e["data"]["channel"], e["data"]["status"]) for e in entries if e["type"] == "notified"]
    assert ("email", "sent") in notified
    assert ("sms", "sent") in notified


def test_a_step_fires_when_due_once_and_not_after_acknowledgement(
    api, org_with_policy, incident_stream, notification_queue
):
    org_id, admin, _, _ = org_with_policy
    first = create(api, org_id, admin, title="first")
    second = create(api, org_id, admin, title="second")
    incident_stream.deliver()
    api.post(f"/v1/orgs/{org_id}/incidents/{second['id']}/acknowledge", token=admin.access_token)
    later = int(time.time()) + 16 * 60
    assert escalation.fire_due(now=later) >= 1
    fired = Incident.get(org_id, first["id"])
    assert (fired.esc_level, fired.esc_next_step, fired.due_at) == (1, None, None)  # the last step: done
    escalation.fire_due(now=later + 60)
    assert Incident.get(org_id, first["id"]).version == fired.version  # nothing fires twice
    assert Incident.get(org_id, second["id"]).esc_level == 0  # acknowledged: the SMS step never fired


def test_a_snoozed_incident_waits_and_resumes(api, org_with_policy, incident_stream):
    org_id, admin, _, _ = org_with_policy
    incident = create(api, org_id, admin)
    incident_stream.deliver()
    api.post(
        f"/v1/orgs/{org_id}/incidents/{incident['id']}/snooze", {"minutes": 30}, token=admin.access_token
    )
    now = int(time.time())
    escalation.fire_due(now=now + 16 * 60)  # the SMS step is due, but the incident is snoozed
    assert Incident.get(org_id, incident["id"]).esc_level == 0
    escalation.fire_due(now=now + 31 * 60)  # the snooze ends: back to open
    assert Incident.get(org_id, incident["id"]).status == "open"
    escalation.fire_due(now=now + 31 * 60 + 1)  # and the step that was due fires
    assert Incident.get(org_id, incident["id"]).esc_level == 1


def test_an_edited_policy_does_not_change_a_running_escalation(api, org_with_policy, incident_stream):
    org_id, admin, oncall, policy = org_with_policy
    incident = create(api, org_id, admin)
    policies.replace_policy(
        org_id,
        policy.policy_id,
        {
            "name": "Primary",
            "default": True,
            "steps": [{"delay_minutes": 0, "targets": [{"type": "email", "address": oncall}]}],
        },
    )
    stored = Incident.get(org_id, incident["id"])
    assert len(stored.esc_policy.as_dict()["steps"]) == 2  # the snapshot taken when it triggered


def test_user_targets_follow_their_preferences_and_min_severity(
    api, new_account, new_org, incident_stream, notification_queue, mailbox
):
    admin = new_account()
    org = new_org(admin)
    policies.create_policy(
        org["id"],
        {
            "name": "Me",
            "default": True,
            "steps": [{"delay_minutes": 0, "targets": [{"type": "user", "id": admin.user_id}]}],
        },
    )
    preferences.put_preference(admin.user_id, "email", enabled=True, address=None, min_severity="high")
    low = create(api, org["id"], admin, title="minor thing", severity="low")
    high = create(api, org["id"], admin, title="major thing", severity="high")
    incident_stream.deliver()
    notification_queue.run_sender()
    subjects = [m["subject"] for m in mailbox.messages_to(admin.email)]
    assert any("major thing" in s for s in subjects)
    assert not any("minor thing" in s for s in subjects)
    assert low["id"] != high["id"]


def test_role_targets_page_every_member_with_that_role(
    api, new_account, new_org, incident_stream, notification_queue, mailbox
):
    admin, responder, viewer = new_account(), new_account(), new_account()
    org = new_org(admin)
    for member, role in [(responder, "user"), (viewer, "viewer")]:
        api.post(
            f"/v1/orgs/{org['id']}/members", {"email": member.email, "role": role}, token=admin.access_token
        )
    policies.create_policy(
        org["id"],
        {
            "name": "Users",
            "default": True,
            "steps": [{"delay_minutes": 0, "targets": [{"type": "role", "role": "user"}]}],
        },
    )
    create(api, org["id"], admin, title="role paging")
    incident_stream.deliver()
    notification_queue.run_sender()
    assert any("role paging" in m["subject"] for m in mailbox.messages_to(responder.email))
    assert not any("role paging" in m["subject"] for m in mailbox.messages_to(viewer.email))
    assert not any("role paging" in m["subject"] for m in mailbox.messages_to(admin.email))


def test_resolving_tells_the_people_already_paged(
    api, org_with_policy, incident_stream, notification_queue, mailbox
):
    org_id, admin, oncall, _ = org_with_policy
    incident = create(api, org_id, admin, title="resolve notice")
    incident_stream.deliver()
    notification_queue.run_sender()
    api.post(
        f"/v1/orgs/{org_id}/incidents/{incident['id']}/resolve", {"note": "fixed"}, token=admin.access_token
    )
    incident_stream.deliver()
    notification_queue.run_sender()
    subjects = [m["subject"] for m in mailbox.messages_to(oncall)]
    assert len(subjects) == 2
    assert "resolved" in subjects[-1].lower()


def test_the_webhook_signing_secret_is_for_admins(api, org_with_policy, new_account):
    from chalicelib.usecases.notifications import webhook_signing_secret

    org_id, admin, _, _ = org_with_policy
    reply = api.get(f"/v1/orgs/{org_id}/webhook-signing-secret", token=admin.access_token)
    assert reply.status == 200
    assert reply.body["secret"] == webhook_signing_secret(org_id)
    member = new_account()
    api.post(f"/v1/orgs/{org_id}/members", {"email": member.email, "role": "user"}, token=admin.access_token)
    assert api.get(f"/v1/orgs/{org_id}/webhook-signing-secret", token=member.access_token).status == 403


def test_each_acknowledgement_tells_the_paged_people_once_even_after_a_snooze_and_replays(
    api, org_with_policy, incident_stream, notification_queue, mailbox
):
    """Acknowledge → snooze → the snooze ends → acknowledge: two notices, one per acknowledgement,
    although the route and the stream's MODIFY both tell, and the stream replays every record."""
    org_id, admin, oncall, _ = org_with_policy
    incident = create(api, org_id, admin, title="Checkout flaky")
    base = f"/v1/orgs/{org_id}/incidents/{incident['id']}"
    records = incident_stream.deliver()
    notification_queue.run_sender()

    assert api.post(f"{base}/acknowledge", token=admin.access_token).status == 200
    records += incident_stream.deliver()
    assert api.post(f"{base}/snooze", {"minutes": 1}, token=admin.access_token).status == 200
    escalation.fire_due(now=int(time.time()) + 61)  # the snooze ends: open again
    assert Incident.get(org_id, incident["id"]).status == "open"
    records += incident_stream.deliver()
    assert api.post(f"{base}/acknowledge", token=admin.access_token).status == 200
    records += incident_stream.deliver()
    incident_stream.deliver(records)  # every record handed over again
    notification_queue.run_sender()

    subjects = [m["subject"].lower() for m in mailbox.messages_to(oncall)]
    assert len(subjects) == 3, subjects
    assert ["acknowledged" in s for s in subjects] == [False, True, True]
