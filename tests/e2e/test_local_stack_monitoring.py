"""Monitoring against `make run`'s stack: a local target goes down and comes back, over HTTP only."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
import requests

from tests.e2e.conftest import wait_for

pytestmark = pytest.mark.e2e


class Target:
    def __init__(self) -> None:
        self.status = 200
        self.delay = 0.0
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                time.sleep(target.delay)
                body = b"ok" if target.status == 200 else b"broken"
                self.send_response(target.status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def target():
    server = Target()
    yield server
    server.server.shutdown()


def test_a_service_goes_pending_up_down_up_with_one_incident(local_stack, target):
    me = local_stack.account()
    base = local_stack.url(f"/v1/orgs/{me['org_id']}")
    created = requests.post(
        f"{base}/services",
        json={"name": "Local target", "url": target.url, "interval_seconds": 2, "timeout_seconds": 1},
        headers=me["auth"],
        timeout=10,
    )
    assert created.status_code == 201, created.text
    service = created.json()
    assert service["status"] == "pending"
    path = f"{base}/services/{service['id']}"

    def status():
        return requests.get(path, headers=me["auth"], timeout=10).json()["status"]

    wait_for(lambda: status() == "up", seconds=60, what="the service to come up")

    target.status = 503
    wait_for(lambda: status() == "down", seconds=60, what="the service to go down")
    time.sleep(5)  # it stays down for a while: still one incident
    incidents = requests.get(
        f"{base}/incidents?service_id={service['id']}", headers=me["auth"], timeout=10
    ).json()
    assert [(i["status"], i["source"]) for i in incidents["items"]] == [("open", "monitor")]

    target.status = 200
    wait_for(lambda: status() == "up", seconds=60, what="the service to recover")
    incidents = requests.get(
        f"{base}/incidents?service_id={service['id']}", headers=me["auth"], timeout=10
    ).json()
    assert [i["status"] for i in incidents["items"]] == ["resolved"]

    checks = requests.get(f"{path}/checks?hours=1&limit=100", headers=me["auth"], timeout=10).json()["items"]
    assert {"up", "down"} <= {c["status"] for c in checks}
    assert [c["checked_at"] for c in checks] == sorted((c["checked_at"] for c in checks), reverse=True)
    # Today and yesterday (UTC days): the outage may straddle midnight.
    metrics = requests.get(f"{path}/metrics?days=2", headers=me["auth"], timeout=10).json()
    assert metrics["incident_count"] == 1
    assert metrics["failed_checks"] >= 2
    assert metrics["total_checks"] >= 5
    assert 0 < metrics["uptime_percentage"] < 100
    assert metrics["mttr_seconds"] > 0
    assert metrics["total_downtime_seconds"] > 0


def test_twenty_slow_services_are_probed_at_once(local_stack, target):
    target.delay = 1.0
    me = local_stack.account()
    base = local_stack.url(f"/v1/orgs/{me['org_id']}")
    started = time.monotonic()
    ids = [
        requests.post(
            f"{base}/services",
            json={"name": f"slow {i}", "url": target.url, "interval_seconds": 600, "timeout_seconds": 5},
            headers=me["auth"],
            timeout=10,
        ).json()["id"]
        for i in range(20)
    ]

    def all_up():
        items = requests.get(f"{base}/services?limit=100", headers=me["auth"], timeout=10).json()["items"]
        return all(s["status"] == "up" for s in items if s["id"] in ids)

    wait_for(all_up, seconds=30, what="20 slow services to be up")
    elapsed = time.monotonic() - started
    assert elapsed < 20 * target.delay / 2, f"20 probes of 1 s took {elapsed:.1f} s"


def test_a_poison_probe_message_ends_in_the_dead_letter_queue(local_stack):
    sqs = boto3.client(
        "sqs",
        endpoint_url=local_stack.aws_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    queue = sqs.get_queue_url(QueueName="vigil-local-probes")["QueueUrl"]
    dlq = sqs.get_queue_url(QueueName="vigil-local-probes-dlq")["QueueUrl"]
    visibility = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["VisibilityTimeout"])["Attributes"]
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "1"})
    try:
        time.sleep(2)  # moto takes the timeout when a long poll starts; let the pump's current polls end
        sqs.send_message(QueueUrl=queue, MessageBody="this is not a probe job")

        def in_dlq():
            messages = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                "Messages", []
            )
            return [m for m in messages if m["Body"] == "this is not a probe job"]

        wait_for(in_dlq, seconds=30, what="the poison message to reach the DLQ")
    finally:  # the stack is shared by the session: a 1 s timeout would redeliver every slow probe batch
        sqs.set_queue_attributes(QueueUrl=queue, Attributes=visibility)
