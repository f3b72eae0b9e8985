"""Cost of a steady-state check: AWS requests by operation, item sizes, and $ per million checks.

Runs the real handlers (scheduler, checker through its SQS entry point, hourly fold) on moto,
counting every AWS request through botocore, for SERVICES services checked every minute: 25 due
each second, so the scheduler's messages are full (25 jobs) as in any deployment of that size or
more. Smaller deployments send fuller messages less often; see README ("Performance").
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections import Counter

from bench.common import (
    CHECKER_MEMORY_GB,
    PRICE_DYNAMODB_READ_UNIT,
    PRICE_DYNAMODB_WRITE_UNIT,
    PRICE_LAMBDA_GB_SECOND,
    PRICE_LAMBDA_REQUEST,
    PRICE_SQS_REQUEST,
    ROUTE53_PER_MILLION,
    SlowTarget,
    embedded_aws,
    item_size,
    row,
)

SERVICES = 500
ROUNDS = 2
SECONDS_SPREAD = 20  # 25 services due each second: full 25-job messages
MESSAGES_PER_INVOCATION = 4  # the checker's batch size


def main() -> dict[str, float]:
    with embedded_aws():
        import boto3

        from chalicelib.adapters import probe_queue
        from chalicelib.adapters.probe_queue import ProbeJob, pack_messages
        from chalicelib.domain.service_config import ServiceConfig
        from chalicelib.events.probes import probe_batch
        from chalicelib.models.checks import HourBucket
        from chalicelib.settings import settings
        from chalicelib.usecases import checker, history, scheduler, services
        from infra.local.metering import dynamodb_reads, dynamodb_writes, metered
        from infra.local.pump import sqs_event_record

        def checker_status(packed: object) -> str:
            return "up" if isinstance(packed, int | float) else str(packed).split("|")[1]

        target = SlowTarget(delay=0.0)
        created = [
            services.create_service("org-bench", "user-bench", ServiceConfig(name=f"s{i}", url=target.url))
            for i in range(SERVICES)
        ]
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue_url = probe_queue.queue_url()
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

        def drain() -> tuple[int, float]:
            """Hand the queue to the checker as the Lambda event source does: (invocations, seconds)."""
            invocations, seconds = 0, 0.0
            while True:
                response = sqs.receive_message(
                    QueueUrl=queue_url, MaxNumberOfMessages=MESSAGES_PER_INVOCATION
                )
                messages = response.get("Messages", [])
                if not messages:
                    return invocations, seconds
                event = {
                    "Records": [
                        sqs_event_record(m, queue_arn=queue_arn, region="us-east-1") for m in messages
                    ]
                }
                started = time.perf_counter()
                result = probe_batch(event, None)
                seconds += time.perf_counter() - started
                invocations += 1
                failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
                done = [m for m in messages if m["MessageId"] not in failed]
                sqs.delete_message_batch(
                    QueueUrl=queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
                )

        drain()  # the first checks: pending -> up
        now = int(time.time())
        hour_start = now - now % 3600 + 3600  # a fresh hour, so buckets start empty

        # The scheduler's share: one dispatch of a minute for all services, per job it sends.
        with metered() as dispatch_meter:
            dispatched = scheduler.dispatch_due(now=now)
        drain_started_jobs = dispatched.jobs
        sqs.purge_queue(QueueUrl=queue_url)

        # Steady state: ROUNDS minutes of checks, each sent as the scheduler would pack them.
        invocations, lambda_seconds = 0, 0.0
        with metered() as meter:
            for minute in range(ROUNDS):
                jobs = [
                    ProbeJob(s.org_id, s.service_id, hour_start + 60 * minute + i % SECONDS_SPREAD)
                    for i, s in enumerate(created)
                ]
                probe_queue.send(
                    pack_messages(jobs, now=hour_start + 3600, jobs_per_message=settings.jobs_per_message)
                )
                n, secs = drain()
                invocations += n
                lambda_seconds += secs
        checks = SERVICES * ROUNDS
        outcomes = Counter()
        for s in created:
            bucket_key = f"{s.org_id}#{s.service_id}"
            for item in HourBucket.query(bucket_key, HourBucket.hour == hour_start):
                outcomes.update(checker_status(p) for p in item.checks)

        # Item size of an hour bucket as it fills with a minute's checks for an hour.
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        key = f"{created[0].org_id}#{created[0].service_id}"
        for minute in range(ROUNDS, 60):
            at = hour_start + 60 * minute
            record = checker.CheckRecord(at, "up", 87, 200, None)
            checker.store_check(ProbeJob(created[0].org_id, created[0].service_id, at), record)
        bucket = dynamodb.get_item(
            TableName=settings.table("checks"),
            Key={"service_key": {"S": key}, "hour": {"N": str(hour_start)}},
        )["Item"]
        full_size = item_size(bucket)
        # Billed units of the 60 updates of an hour: the bigger of before/after, rounded up to 1 KB.
        per_check_bytes = full_size / 60
        write_units_hour = sum(math.ceil((k + 1) * per_check_bytes / 1024) for k in range(60))
        write_units_per_check = write_units_hour / 60

        # The hourly fold's share, per check of the hour.
        with metered() as fold_meter:
            folded = history.fold_complete_hours(now=hour_start + 3600 + 3600 + 301)
        fold_writes = dynamodb_writes(fold_meter) / max(folded, 1) / 60
        fold_reads = dynamodb_reads(fold_meter) / max(folded, 1) / 60

        writes = dynamodb_writes(meter) / checks
        reads = dynamodb_reads(meter) / checks
        # BatchGetItem, eventually consistent: half a unit per service item (under 4 KB) per check;
        # consistent GetItems (state changes only): one unit each.
        read_units = (0.5 * checks + meter.calls["dynamodb.GetItem"]) / checks
        sqs_requests = meter.count("sqs.") / checks  # send, and the event source's receive and delete
        dispatch_requests = sum(dispatch_meter.calls.values()) / max(drain_started_jobs, 1)
        batch_ms = lambda_seconds / max(invocations, 1) * 1000

        cost = {
            "dynamodb writes": (writes * write_units_per_check + fold_writes)
            * PRICE_DYNAMODB_WRITE_UNIT
            * 1e6,
            "dynamodb reads": (read_units + fold_reads + dispatch_requests) * PRICE_DYNAMODB_READ_UNIT * 1e6,
            "sqs": (sqs_requests + dispatch_requests) * PRICE_SQS_REQUEST * 1e6,
            "lambda requests": (invocations / checks) * PRICE_LAMBDA_REQUEST * 1e6,
            "lambda duration": (lambda_seconds / checks) * CHECKER_MEMORY_GB * PRICE_LAMBDA_GB_SECOND * 1e6,
        }
        # Real targets answer slower than a local server: the same with a 500 ms slowest probe per batch.
        slow_duration = (invocations * 0.5 / checks) * CHECKER_MEMORY_GB * PRICE_LAMBDA_GB_SECOND * 1e6
        total = sum(cost.values())
        total_slow = total - cost["lambda duration"] + max(cost["lambda duration"], slow_duration)

        print(
            f"Steady-state checks: {SERVICES} services x {ROUNDS} rounds = {checks} checks {dict(outcomes)}"
        )
        print(
            row(
                "DynamoDB write requests per steady-state check",
                f"{writes:.3f}",
                "target 1.0",
                "OK" if writes <= 1.0 else "MISS",
            )
        )
        print(row("DynamoDB read requests per check (BatchGet of the batch)", f"{reads:.3f}"))
        print(row("DynamoDB read units per check", f"{read_units:.3f}"))
        print(row("hour bucket size after 60 checks (bytes)", f"{full_size}"))
        print(
            row(
                "write units per check (1 KB rounding, averaged over the hour)",
                f"{write_units_per_check:.3f}",
            )
        )
        print(row("hourly fold: writes / reads per check", f"{fold_writes:.4f} / {fold_reads:.4f}"))
        print(row("scheduler: AWS requests per job dispatched", f"{dispatch_requests:.4f}"))
        print(row("SQS requests per check (send, receive, delete)", f"{sqs_requests:.4f}"))
        print(row("Lambda invocations per check", f"{invocations / checks:.4f}"))
        print(row("measured checker time per invocation (ms, local target)", f"{batch_ms:.0f}"))
        for name, dollars in cost.items():
            print(row(f"  $ per million checks: {name}", f"{dollars:.4f}"))
        print(
            row(
                "ALL-IN $ per million checks (measured duration)",
                f"{total:.3f}",
                "target <= 0.80",
                "OK" if total <= 0.80 else "MISS",
            )
        )
        print(
            row(
                "ALL-IN $ per million checks (500 ms probes)",
                f"{total_slow:.3f}",
                "target <= 0.80",
                "OK" if total_slow <= 0.80 else "MISS",
            )
        )
        print(
            row(
                "Route 53 health checks, $ per million checks",
                f"{ROUTE53_PER_MILLION[0]:.0f}-{ROUTE53_PER_MILLION[1]:.0f}",
            )
        )
        target.close()
        return {
            "writes_per_check": writes,
            "read_units_per_check": read_units,
            "usd_per_million": total,
            "usd_per_million_500ms": total_slow,
            "bucket_bytes": full_size,
        }


if __name__ == "__main__":
    result = main()
    if "--json" in sys.argv:
        print(json.dumps(result))
