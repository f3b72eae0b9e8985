"""Incident response against `make run`'s stack, over HTTP: email at once, SMS on escalate, ack stops."""

import time
import uuid

import pytest
import requests

from tests.e2e.conftest import wait_for

pytestmark = pytest.mark.e2e

ONCALL_SMS = "+15555550123"


def test_email_at_once_exactly_once_sms_on_escalate_ack_stops(local_stack):
    me = local_stack.account()
    base = local_stack.url(f"/v1/orgs/{me['org_id']}")
    oncall = f"oncall-{uuid.uuid4().hex[:8]}@example.com"
    policy = requests.post(
        f"{base}/escalation-policies",
        json={
            "name": "Primary",
            "default": True,
            "steps": [
                {"delay_minutes": 0, "targets": [{"type": "email", "address": oncall}]},
                {"delay_minutes": 15, "targets": [{"type": "sms", "number": ONCALL_SMS}]},
            ],
        },
        headers=me["auth"],
        timeout=10,
    )
    assert policy.status_code == 201, policy.text

    created = requests.post(
        f"{base}/incidents",
        json={"title": "Payments failing", "severity": "critical"},
        headers=me["auth"],
        timeout=10,
    )
    assert created.status_code == 201, created.text
    incident = created.json()
    path = f"{base}/incidents/{incident['id']}"

    wait_for(lambda: local_stack.emails_to(oncall), seconds=60, what="the step 0 email")
    time.sleep(3)  # and no second one arrives
    assert len(local_stack.emails_to(oncall)) == 1

    escalated = requests.post(f"{path}/escalate", headers=me["auth"], timeout=10)
    assert escalated.status_code == 200, escalated.text

    def sms_sent():
        log = requests.get(f"{path}/notifications", headers=me["auth"], timeout=10).json()["items"]
        return [n for n in log if n["channel"] == "sms" and n["status"] == "sent"]

    [sms] = wait_for(sms_sent, seconds=60, what="the SMS step")
    assert sms["target"] == ONCALL_SMS

    acked = requests.post(f"{path}/acknowledge", headers=me["auth"], timeout=10)
    assert acked.json()["status"] == "acknowledged"
    wait_for(lambda: len(local_stack.emails_to(oncall)) == 2, seconds=60, what="the acknowledgement notice")

    timeline = requests.get(f"{path}/timeline", headers=me["auth"], timeout=10).json()["items"]
    types = [e["type"] for e in timeline]
    assert [t for t in types if t != "notified"] == ["created", "escalated", "escalated", "acknowledged"]
    assert "notified" in types
    log = requests.get(f"{path}/notifications", headers=me["auth"], timeout=10).json()["items"]
    assert {(n["channel"], n["status"]) for n in log} >= {("email", "sent"), ("sms", "sent")}


def test_a_snoozed_incident_returns_to_open_when_the_time_is_up(local_stack):
    me = local_stack.account()
    base = local_stack.url(f"/v1/orgs/{me['org_id']}")
    incident = requests.post(
        f"{base}/incidents", json={"title": "Disk 90%"}, headers=me["auth"], timeout=10
    ).json()
    path = f"{base}/incidents/{incident['id']}"
    snoozed = requests.post(f"{path}/snooze", json={"minutes": 1}, headers=me["auth"], timeout=10).json()
    assert snoozed["status"] == "snoozed"

    def status():
        return requests.get(path, headers=me["auth"], timeout=10).json()["status"]

    wait_for(lambda: status() == "open", seconds=150, what="the snooze to end")
    types = [
        e["type"] for e in requests.get(f"{path}/timeline", headers=me["auth"], timeout=10).json()["items"]
    ]
    assert types[-2:] == ["snoozed", "reopened"]
