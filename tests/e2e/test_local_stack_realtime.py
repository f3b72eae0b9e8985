"""Real-time events against `make run`'s stack with a real WebSocket client: each org's socket sees
its own changes, in order (latency: bench.realtime), and nothing of another org's; tickets are single
use; a socket opened later catches up through GET .../events?after=."""

import hashlib
import json
import time

import boto3
import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.e2e.conftest import running_stack
from tests.e2e.test_local_stack_monitoring import Target

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def local_stack():
    """A stack of its own: the services earlier e2e tests leave probing every second keep the shared
    stack's event pump busy enough to delay a frame past any sensible bound on a 2-core machine."""
    yield from running_stack()


# The 2-second latency target is measured by bench.realtime (p50/p95 over 100 events); a test on a
# shared 2-core machine only asserts delivery and order, with room for a loaded machine.
WITHIN_SECONDS = 10.0


def ticket(local_stack, me) -> dict:
    reply = requests.post(
        local_stack.url(f"/v1/orgs/{me['org_id']}/realtime/tickets"), headers=me["auth"], timeout=10
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["url"].startswith(local_stack.ws_url)
    return reply.json()


def open_socket(local_stack, me) -> ClientConnection:
    return connect(ticket(local_stack, me)["url"], open_timeout=10)


def next_frame(socket: ClientConnection, *, of_type: str, within: float) -> dict:
    """The next frame of `of_type` within `within` seconds (TimeoutError otherwise)."""
    deadline = time.monotonic() + within
    while True:
        frame = json.loads(socket.recv(timeout=max(0.01, deadline - time.monotonic())))
        if frame["type"] == of_type:
            return frame


def test_an_incident_opened_acknowledged_and_resolved_reaches_its_org_only_in_order(local_stack):
    acme, other = local_stack.account(), local_stack.account()
    base = local_stack.url(f"/v1/orgs/{acme['org_id']}/incidents")
    with open_socket(local_stack, acme) as watching, open_socket(local_stack, other) as elsewhere:
        created = requests.post(
            base, json={"title": "Checkout down"}, headers=acme["auth"], timeout=10
        ).json()
        seen = [next_frame(watching, of_type="incident.created", within=WITHIN_SECONDS)]
        for action, status in (("acknowledge", "acknowledged"), ("resolve", "resolved")):
            changed = requests.post(f"{base}/{created['id']}/{action}", headers=acme["auth"], timeout=10)
            assert changed.status_code == 200, changed.text
            frame = next_frame(watching, of_type="incident.updated", within=WITHIN_SECONDS)
            while frame["data"]["status"] != status:  # an escalation step may land in between
                frame = next_frame(watching, of_type="incident.updated", within=WITHIN_SECONDS)
            seen.append(frame)
        with pytest.raises(TimeoutError):
            elsewhere.recv(timeout=1.0)

    assert [f["data"]["status"] for f in seen] == ["open", "acknowledged", "resolved"]
    assert all(f["org_id"] == acme["org_id"] and f["data"]["id"] == created["id"] for f in seen)
    assert [f["seq"] for f in seen] == sorted(f["seq"] for f in seen)


def test_a_service_going_down_is_pushed(local_stack):
    me = local_stack.account()
    target = Target()
    try:
        with open_socket(local_stack, me) as socket:
            created = requests.post(
                local_stack.url(f"/v1/orgs/{me['org_id']}/services"),
                json={
                    "name": "Local target",
                    "url": target.url,
                    "interval_seconds": 2,
                    "timeout_seconds": 1,
                    "failure_threshold": 1,
                },
                headers=me["auth"],
                timeout=10,
            )
            assert created.status_code == 201, created.text
            up = next_frame(socket, of_type="service.status_changed", within=30)
            assert up["data"]["status"] == "up"
            target.status = 500
            down = next_frame(socket, of_type="service.status_changed", within=30)
            assert down["data"]["status"] == "down" and down["data"]["id"] == created.json()["id"]
    finally:
        target.server.shutdown()


def test_a_used_or_expired_ticket_is_refused_at_the_handshake(local_stack):
    me = local_stack.account()
    url = ticket(local_stack, me)["url"]
    with connect(url, open_timeout=10):
        pass
    with pytest.raises(InvalidStatus) as used:
        connect(url, open_timeout=10)
    assert used.value.response.status_code == 401

    # An expired ticket, written as the API writes them (hashed) but a minute old.
    auth = boto3.resource(
        "dynamodb",
        endpoint_url=local_stack.aws_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    ).Table("vigil-local-auth")
    stale = "expired-ticket-" + me["org_id"]
    auth.put_item(
        Item={
            "pk": "ticket#" + hashlib.sha256(stale.encode()).hexdigest(),
            "org_id": me["org_id"],
            "user_id": "someone",
            "expires_at": int(time.time()) - 1,
        }
    )
    with pytest.raises(InvalidStatus) as expired:
        connect(f"{local_stack.ws_url}?org_id={me['org_id']}&ticket={stale}", open_timeout=10)
    assert expired.value.response.status_code == 401


def test_a_socket_opened_after_the_changes_catches_up_through_events_after(local_stack):
    me = local_stack.account()
    base = local_stack.url(f"/v1/orgs/{me['org_id']}")
    with open_socket(local_stack, me) as first:
        created = requests.post(
            f"{base}/incidents", json={"title": "Disk full"}, headers=me["auth"], timeout=10
        ).json()
        last_seen = next_frame(first, of_type="incident.created", within=WITHIN_SECONDS)
    # Away: these happen with no socket open.
    requests.post(f"{base}/incidents/{created['id']}/acknowledge", headers=me["auth"], timeout=10)
    requests.post(
        f"{base}/incidents/{created['id']}/comments",
        json={"body": "cleaning /var/log"},
        headers=me["auth"],
        timeout=10,
    )

    def missed() -> list[dict]:
        reply = requests.get(
            f"{base}/events", params={"after": last_seen["seq"]}, headers=me["auth"], timeout=10
        )
        items = reply.json()["items"]
        return items if {"incident.updated", "incident.comment"} <= {e["type"] for e in items} else []

    deadline = time.monotonic() + 10
    while not (caught_up := missed()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert caught_up, "the missed events were not listed"
    assert all(e["seq"] > last_seen["seq"] for e in caught_up)
    assert any(e["type"] == "incident.updated" and e["data"]["status"] == "acknowledged" for e in caught_up)
    comment = next(e for e in caught_up if e["type"] == "incident.comment")
    assert (
        comment["data"]["data"]["body"] == "cleaning /var/log"
        and comment["data"]["incident_id"] == created["id"]
    )
    with open_socket(local_stack, me) as second:  # and the socket is live again
        requests.post(f"{base}/incidents/{created['id']}/resolve", headers=me["auth"], timeout=10)
        resolved = next_frame(second, of_type="incident.updated", within=WITHIN_SECONDS)
        while resolved["data"]["status"] != "resolved":
            resolved = next_frame(second, of_type="incident.updated", within=WITHIN_SECONDS)
    # seq orders the changes of one table (here the incident's); a comment's seq comes from another
    # stream and may sort either side of a change made in the same second (README: Order).
    last_update = [e for e in caught_up if e["type"] == "incident.updated"][-1]
    assert resolved["seq"] > last_update["seq"]
