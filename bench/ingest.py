"""Alert ingest on the local stack (`make run`'s moto server, API and event pump, in this process):
the AWS requests and the time of the request path (what a sender waits for) for Alertmanager
notifications of 1, 100 and 1,500 alerts; then, for 1 and 100 alerts, how long the consumers take to
open every incident (on moto; a transaction there copies whole tables, so 1,500 would take long).

The request path makes the same requests whatever the payload holds: one read of the integration
key and one SendMessageBatch of the compressed notification. Claims and incidents come after the
answer, in the intake queue's router and the alerts queue's handler.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import requests

from bench.common import free_port, row

COUNTS = (1, 100, 1500)
CONSUMERS_TIMED_UP_TO = 100
CONSUMERS_WAIT_SECONDS = 300.0


def alertmanager_group(count: int, status: str, *, first: int = 0) -> dict[str, Any]:
    """A webhook v4 notification with alerts as Alertmanager sends them (1,500 are about 115 KB)."""
    return {
        "version": "4",
        "groupKey": '{}:{alertname="HostHighCpuLoad"}',
        "status": status,
        "receiver": "vigil",
        "groupLabels": {"alertname": "HostHighCpuLoad"},
        "commonLabels": {"alertname": "HostHighCpuLoad", "severity": "warning"},
        "externalURL": "http://alertmanager:9093",
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": "HostHighCpuLoad", "instance": f"web-{n}:9100"},
                "startsAt": "2026-11-23T04:00:00Z",
                "fingerprint": f"{n:016x}",
            }
            for n in range(first, first + count)
        ],
    }


def main() -> dict[str, float]:
    os.environ.update({"VIGIL_LOG_LEVEL": "ERROR", "VIGIL_BCRYPT_ROUNDS": "4"})
    from infra.local.stack import LocalConfig, LocalStack

    config = LocalConfig(
        host="127.0.0.1", aws_port=free_port(), api_port=free_port(), web_port=free_port(), tick_seconds=None
    )
    stack = LocalStack(config)
    stack.start()
    try:
        return _measure(stack)
    finally:
        stack.stop()


def _measure(stack: Any) -> dict[str, float]:
    from chalicelib.models.incidents import Incident
    from chalicelib.usecases import alert_taking, integrations
    from infra.local.metering import dynamodb_reads, metered

    created = integrations.create_integration(
        "org-bench", actor_id="bench", name="Prometheus", type="alertmanager", service_id=None, severity=None
    )
    url = f"{stack.config.api_url}/v1/alerts/{created.key}"
    session = requests.Session()
    # Warm: the queue URLs are looked up once per process, as once per Lambda container.
    warm = alertmanager_group(1, "firing", first=10**6)
    alert_taking.take_native(alert_taking.authenticate(created.key), warm)

    figures: dict[str, float] = {}
    print("Alert ingest on the local stack: one Alertmanager notification, request path then consumers")
    first = 0
    for count in COUNTS:
        body = alertmanager_group(count, "firing", first=first)
        first += count
        payload = json.dumps(body)
        before = _incidents(Incident, "org-bench")
        started = time.perf_counter()
        answer = session.post(url, data=payload, headers={"content-type": "application/json"}, timeout=60)
        answered = time.perf_counter() - started
        assert answer.status_code == 202, answer.text
        # The same notification again, in this thread, to count its requests (the pump's are not).
        with metered(this_thread_only=True) as request:
            alert_taking.take_native(alert_taking.authenticate(created.key), body)
        consumers = ""
        if count <= CONSUMERS_TIMED_UP_TO:
            # The metered call and the HTTP request carry the same alerts: `count` incidents, two alerts each.
            opened_after = _wait_for(Incident, "org-bench", before + count, started)
            consumers = f"; all incidents open after {opened_after:.1f} s"
            figures[f"consumers_s_{count}"] = round(opened_after, 1)
        print(
            row(
                f"  {count:>5} alerts ({len(payload) / 1024:.0f} KB)",
                f"request path {request.count()} AWS requests ({dynamodb_reads(request)} read, "
                f"{request.count('sqs.')} SQS), answered in {answered * 1000:.0f} ms{consumers}",
            ),
            flush=True,
        )
        figures[f"requests_{count}"] = request.count()
        figures[f"answer_ms_{count}"] = round(answered * 1000, 1)
    constant = len({figures[f"requests_{count}"] for count in COUNTS}) == 1
    print(row("request path constant in the number of alerts", "yes" if constant else "NO"))
    return figures


def _incidents(model: Any, org_id: str) -> int:
    return sum(1 for _ in model.query(org_id, attributes_to_get=["incident_id"]))


def _wait_for(model: Any, org_id: str, incidents: int, started: float) -> float:
    while _incidents(model, org_id) < incidents:
        if time.perf_counter() - started > CONSUMERS_WAIT_SECONDS:
            return float("inf")
        time.sleep(0.5)
    return time.perf_counter() - started


if __name__ == "__main__":
    result = main()
    if "--json" in sys.argv:
        print(json.dumps(result))
