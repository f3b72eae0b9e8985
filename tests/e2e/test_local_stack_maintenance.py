"""A maintenance window opened from CI with curl keeps an outage from paging (`make run`'s stack)."""

import json
import subprocess
import time

import pytest
import requests

from tests.e2e.conftest import wait_for
from tests.e2e.test_local_stack_monitoring import Target

pytestmark = pytest.mark.e2e


@pytest.fixture
def target():
    server = Target()
    yield server
    server.server.shutdown()


def curl(*args: str) -> dict:
    """What a CI job runs: curl -fsS, failing on any HTTP error."""
    done = subprocess.run(["curl", "-fsS", "-m", "10", *args], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_a_window_started_by_curl_keeps_an_outage_from_paging(local_stack, target):
    me = local_stack.account()
    base = local_stack.url(f"/v1/orgs/{me['org_id']}")
    policy = {
        "name": "Page me",
        "default": True,
        "steps": [{"delay_minutes": 0, "targets": [{"type": "email", "address": me["email"]}]}],
    }
    requests.post(
        f"{base}/escalation-policies", json=policy, headers=me["auth"], timeout=10
    ).raise_for_status()
    service = requests.post(
        f"{base}/services",
        json={
            "name": "Deployed API",
            "url": target.url,
            "interval_seconds": 2,
            "timeout_seconds": 1,
            "failure_threshold": 1,
        },
        headers=me["auth"],
        timeout=10,
    ).json()
    path = f"{base}/services/{service['id']}"

    def status():
        return requests.get(path, headers=me["auth"], timeout=10).json()["status"]

    def pages():
        return [m for m in local_stack.emails_to(me["email"]) if "Deployed API" in m["subject"] + m["body"]]

    wait_for(lambda: status() == "up", seconds=60, what="the service to come up")
    authorization = f"Authorization: {me['auth']['Authorization']}"
    window = curl(
        "-X",
        "POST",
        f"{base}/maintenance-windows",
        "-H",
        authorization,
        "-H",
        "Content-Type: application/json",
        "-d",
        json.dumps({"title": "Deploy", "service_ids": [service["id"]], "duration_minutes": 30}),
    )
    assert window["state"] == "active"
    assert status() == "maintenance"

    target.status = 503  # the deploy takes the service down for a while
    checked_from = time.time()
    wait_for(
        lambda: any(
            c["status"] == "down"
            for c in requests.get(f"{path}/checks?hours=1", headers=me["auth"], timeout=10).json()["items"]
        ),
        seconds=30,
        what="failed checks to be recorded",
    )
    time.sleep(max(0.0, 6 - (time.time() - checked_from)))  # three intervals of failures
    assert status() == "maintenance"
    incidents = requests.get(
        f"{base}/incidents?service_id={service['id']}", headers=me["auth"], timeout=10
    ).json()
    assert incidents["items"] == []
    assert pages() == []

    target.status = 200
    time.sleep(3)
    ended = curl("-X", "POST", f"{base}/maintenance-windows/{window['id']}/end", "-H", authorization)
    assert ended["state"] == "ended"
    wait_for(lambda: status() == "up", seconds=30, what="the service to leave maintenance")
    metrics = requests.get(f"{path}/metrics?days=2", headers=me["auth"], timeout=10).json()
    assert metrics["maintenance_seconds"] > 0
    assert metrics["failed_checks"] == 0  # the failures were in the window
    assert metrics["total_downtime_seconds"] == 0

    # Outside the window the same outage pages at once.
    target.status = 503
    wait_for(lambda: status() == "down", seconds=30, what="the service to go down")
    wait_for(pages, seconds=60, what="the page for the outage")
