"""Heartbeats against `make run`'s stack, over HTTP only: a job that stops pinging goes down with one
incident, and pinging again brings it up and resolves it.

The stack runs with VIGIL_TICK_SECONDS=1 (each scheduled handler, the overdue sweep included, fires
every second) and VIGIL_MIN_HEARTBEAT_SECONDS=1 (so a 2 s period and a 2 s grace are allowed).
"""

import pytest
import requests

from tests.e2e.conftest import wait_for

pytestmark = pytest.mark.e2e


def test_a_heartbeat_goes_down_when_pings_stop_and_up_when_they_resume(local_stack):
    me = local_stack.account()
    base = local_stack.url(f"/v1/orgs/{me['org_id']}")
    created = requests.post(
        f"{base}/services",
        json={"name": "Cron job", "type": "heartbeat", "period_seconds": 2, "grace_seconds": 2},
        headers=me["auth"],
        timeout=10,
    )
    assert created.status_code == 201, created.text
    service = created.json()
    assert service["status"] == "pending"
    ping_url = service["ping_url"]  # on the web origin, which passes /ping/* to the API as CloudFront does
    path = f"{base}/services/{service['id']}"

    def status() -> str:
        return requests.get(path, headers=me["auth"], timeout=10).json()["status"]

    def open_incidents() -> list[dict]:
        reply = requests.get(
            f"{base}/incidents", params={"service_id": service["id"]}, headers=me["auth"], timeout=10
        )
        return [i for i in reply.json()["items"] if i["status"] != "resolved"]

    # The job runs and pings, as a crontab line's curl would.
    first = requests.get(ping_url, timeout=10)
    assert (first.status_code, first.text) == (200, "OK")
    assert status() == "up"
    started = requests.post(f"{ping_url}/start", params={"rid": "run-1"}, timeout=10)
    assert started.status_code == 200
    done = requests.post(f"{ping_url}/0", params={"rid": "run-1"}, data=b"42 files", timeout=10)
    assert done.status_code == 200
    assert requests.head(ping_url, timeout=10).status_code == 200

    # The job stops: after the period and the grace the sweep turns it down, with one incident.
    wait_for(lambda: status() == "down", seconds=30, what="the late heartbeat to go down")
    incidents = wait_for(open_incidents, seconds=10, what="its incident")
    assert len(incidents) == 1 and incidents[0]["source"] == "monitor"

    # The job runs again: up, and the incident resolves.
    assert requests.get(ping_url, timeout=10).status_code == 200
    assert status() == "up"
    wait_for(lambda: not open_incidents(), seconds=10, what="the incident to resolve")

    pings = requests.get(f"{path}/checks", params={"hours": 1}, headers=me["auth"], timeout=10).json()
    kinds = [c["kind"] for c in pings["items"]]
    assert {"success", "start"} <= set(kinds) and None in kinds  # None: the sweep's late check
    finished = next(c for c in pings["items"] if c["rid"] == "run-1" and c["kind"] == "success")
    assert finished["duration_ms"] is not None and finished["body"] == "42 files"

    unknown = requests.get(local_stack.url("/ping/not-a-real-token"), timeout=10)
    assert (unknown.status_code, unknown.text) == (404, "not found")
