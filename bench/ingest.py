"""AWS requests of alert ingest: on the request path (what a sender waits for) and in the consumer.

The request path must stay a handful of requests whatever the payload holds: one read of the key,
one batched read of dedup claims, one of their incidents, a write only for a new claim, and one
SendMessageBatch per ten alerts.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from bench.common import embedded_aws, row


def alertmanager_group(count: int, status: str) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="HostHighCpuLoad"}',
        "status": status,
        "receiver": "vigil",
        "groupLabels": {"alertname": "HostHighCpuLoad"},
        "commonLabels": {"alertname": "HostHighCpuLoad", "severity": "warning"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [
            {
                "status": status,
                "labels": {
                    "alertname": "HostHighCpuLoad",
                    "instance": f"web-{n}:9100",
                    "severity": "warning",
                },
                "annotations": {"summary": f"CPU load on web-{n} above 90%"},
                "startsAt": "2026-11-23T04:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph",
                "fingerprint": f"{n:016x}",
            }
            for n in range(count)
        ],
    }


def main() -> dict[str, float]:
    with embedded_aws():
        import boto3

        from chalicelib.adapters import alert_queue
        from chalicelib.usecases import alert_handling, alert_taking, integrations
        from infra.local.metering import dynamodb_reads, dynamodb_writes, metered

        created = integrations.create_integration(
            "org-bench",
            actor_id="bench",
            name="Prometheus",
            type="alertmanager",
            service_id=None,
            severity=None,
        )
        sqs = boto3.client("sqs", region_name="us-east-1")

        def consume() -> int:
            handled = 0
            while True:
                messages = sqs.receive_message(QueueUrl=alert_queue.queue_url(), MaxNumberOfMessages=10).get(
                    "Messages", []
                )
                if not messages:
                    return handled
                for message in messages:
                    alert_handling.handle(alert_taking.QueuedAlert.from_json(message["Body"]))
                    handled += 1
                sqs.delete_message_batch(
                    QueueUrl=alert_queue.queue_url(),
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
                    ],
                )

        figures: dict[str, float] = {}
        print("Alert ingest, AWS requests (Alertmanager notifications of 1 and 10 alerts)")
        for label, count, status in [
            ("new alert", 1, "firing"),
            ("same alert again (groups)", 1, "firing"),
            ("it resolves", 1, "resolved"),
            ("10 new alerts in one notification", 10, "firing"),
            ("the 10 again", 10, "firing"),
        ]:
            body = alertmanager_group(count, status)
            if count == 10:
                body["alerts"] = [{**a, "fingerprint": f"a{a['fingerprint'][1:]}"} for a in body["alerts"]]
            with metered() as request:
                source = alert_taking.authenticate(created.key)
                alert_taking.take_native(source, body)
            with metered() as consumer:
                handled = consume()
            assert handled == count, (label, handled)
            # The consumer's own ReceiveMessage/DeleteMessageBatch are Lambda's event source on AWS.
            consumer_requests = consumer.count() - consumer.count("sqs.")
            print(
                row(
                    f"  {label}",
                    f"request path {request.count()} ({dynamodb_reads(request)} reads, "
                    f"{dynamodb_writes(request)} writes, {request.count('sqs.')} SQS); "
                    f"consumer {consumer_requests / count:.1f} per alert",
                )
            )
            figures[f"request_{count}_{label.split()[0]}"] = request.count()
        ten, one = figures["request_10_10"], figures["request_1_new"]
        print(row("request path for 10 new alerts vs 1", f"{ten} vs {one}"))
        return figures


if __name__ == "__main__":
    result = main()
    if "--json" in sys.argv:
        print(json.dumps(result))
