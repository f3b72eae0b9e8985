"""Cost of a steady-state check: AWS requests by operation, item sizes, and $ per million checks,
on demand and with provisioned capacity (auto scaling at 70%) for the check history tables.

Runs the real handlers (scheduler packing, checker through its SQS entry point, hourly fold) on
moto, counting every AWS request through botocore and the size of every item written, for SERVICES
services checked every minute. Their ids are chosen so that they fire in SECONDS_SPREAD seconds of
the minute, 25 in each (one result shard each second): the scheduler's messages are full and each
is one result item, as in any deployment of 1,500 services or more. Smaller deployments send
fuller messages less often; see README ("Performance").
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from typing import Any

from bench.common import (
    CHECKER_MEMORY_GB,
    PRICE_DYNAMODB_READ_UNIT,
    PRICE_DYNAMODB_WRITE_UNIT,
    PRICE_LAMBDA_GB_SECOND,
    PRICE_LAMBDA_REQUEST,
    PRICE_PROVISIONED_READ_UNIT,
    PRICE_PROVISIONED_WRITE_UNIT,
    PRICE_SQS_REQUEST,
    ROUTE53_PER_MILLION,
    SlowTarget,
    embedded_aws,
    item_size,
    read_units,
    row,
    services_in_phases,
    write_units,
)

SERVICES = 500
ROUNDS = 2
SECONDS_SPREAD = 20  # 25 services due each second, all of one result shard: full 25-job messages
MESSAGES_PER_INVOCATION = 4  # the checker's batch size
TARGET = 0.25  # $ per million checks, all-in
SLOWEST_PROBE_SECONDS = 0.5
MODELED_BATCH_RATIO = 1.25  # whole batch / slowest probe: the checker's target (issue 14)
HOUR = 3600


def main() -> dict[str, float]:
    with embedded_aws():
        import boto3

        from chalicelib.adapters import probe_queue
        from chalicelib.adapters.probe_queue import ProbeJob, pack_messages
        from chalicelib.domain.checks import CheckRecord, result_shard
        from chalicelib.domain.schedule import phase_offset
        from chalicelib.domain.service_config import ServiceConfig
        from chalicelib.events.probes import probe_batch
        from chalicelib.models.services import SCHEDULER_PARTITION, SchedulerState
        from chalicelib.settings import settings
        from chalicelib.usecases import checker, history, scheduler, services
        from infra.local.metering import DYNAMODB_WRITES, dynamodb_reads, dynamodb_writes, metered
        from infra.local.pump import sqs_event_record

        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        results_table, checks_table = settings.table("results"), settings.table("checks")
        rollups_table = settings.table("rollups")

        target = SlowTarget(delay=0.0)
        with services_in_phases(60, range(SECONDS_SPREAD)):
            created = [
                services.create_service(
                    "org-bench", "user-bench", ServiceConfig(name=f"s{i}", url=target.url)
                )
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

        def jobs_of_minute(minute_start: int) -> list[Any]:
            return [
                ProbeJob(s.org_id, s.service_id, minute_start + phase_offset(s.service_id, 60))
                for s in created
            ]

        now = int(time.time())
        hour_start = now - now % HOUR + HOUR  # a fresh hour
        drain()  # the first checks: pending -> up
        # A minute of checks before the measured ones: any service still pending (a first check
        # that a loaded machine answered late) is up before the steady state is measured.
        probe_queue.send(
            pack_messages(
                jobs_of_minute(hour_start - 120), now=hour_start, jobs_per_message=settings.jobs_per_message
            )
        )
        drain()

        # The scheduler's share: one dispatch of a minute for all services, per job it sends.
        with metered() as dispatch_meter:
            dispatched = scheduler.dispatch_due(now=now)
        dispatched_jobs = dispatched.jobs
        sqs.purge_queue(QueueUrl=queue_url)

        # Steady state: ROUNDS minutes of checks, packed as the scheduler packs them.
        invocations, lambda_seconds, messages_sent = 0, 0.0, 0
        with metered() as meter:
            for minute in range(ROUNDS):
                messages = pack_messages(
                    jobs_of_minute(hour_start + 60 * minute),
                    now=hour_start + HOUR,
                    jobs_per_message=settings.jobs_per_message,
                )
                messages_sent += len(messages)
                probe_queue.send(messages)
                n, secs = drain()
                invocations += n
                lambda_seconds += secs
        checks = SERVICES * ROUNDS

        def items(table: str, key: str, value: str) -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = []
            kwargs: dict[str, Any] = {
                "TableName": table,
                "KeyConditionExpression": "#k = :v",
                "ExpressionAttributeNames": {"#k": key},
                "ExpressionAttributeValues": {":v": {"S": value}},
            }
            while True:
                page = dynamodb.query(**kwargs)
                found += page["Items"]
                if "LastEvaluatedKey" not in page:
                    return found
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

        shards = sorted({result_shard(s.service_id, settings.result_shards_per_second) for s in created})
        steady = (f"{hour_start:010d}", f"{hour_start + 60 * ROUNDS:010d}")
        result_items = [
            item
            for shard in shards
            for item in items(results_table, "shard", shard)
            if steady[0] <= item["slot"]["S"] < steady[1]
        ]
        outcomes: Counter[str] = Counter()
        for item in result_items:
            for name, value in item.items():
                if "#" in name:
                    outcomes["up" if "N" in value else value["S"].split("|")[1]] += 1
        result_sizes = [item_size(item) for item in result_items]
        result_write_units = sum(write_units(size) for size in result_sizes) / checks
        results_per_item = checks / max(len(result_items), 1)
        service_writes = sum(
            n
            for key, n in meter.tables.items()
            if key.endswith(f":{settings.table('services')}")
            and key.split(":")[0].split(".")[1] in DYNAMODB_WRITES
        )

        # The rest of the hour's results (recorded directly: no need to probe), then the hourly fold.
        for minute in range(ROUNDS, 60):
            checker.store_results(
                [
                    (job, CheckRecord(job.scheduled_at, "up", 87, 200, None))
                    for job in jobs_of_minute(hour_start + 60 * minute)
                ]
            )
        SchedulerState(SCHEDULER_PARTITION, "state").update(
            actions=[SchedulerState.folded_through.set(hour_start - HOUR)]
        )
        hour_results = [
            item
            for shard in shards
            for item in items(results_table, "shard", shard)
            if item["slot"]["S"] >= steady[0]
        ]
        with metered() as fold_meter:
            folded = history.fold_complete_hours(now=hour_start + HOUR + 301)
        hour_checks = SERVICES * 60
        keys = [f"{s.org_id}#{s.service_id}" for s in created]
        bucket_sizes = [item_size(items(checks_table, "service_key", key)[0]) for key in keys]
        rollup_sizes = [item_size(items(rollups_table, "service_key", key)[0]) for key in keys]
        # Writes: each bucket (billed on its size after the update), its by-hour index entry (keys only,
        # written once), its day's rollup; reads: each shard's Query of the hour (consistent), each
        # bucket's consistent GetItem, the by-hour index's Query.
        fold_history_writes = (
            sum(write_units(size) for size in bucket_sizes) + len(bucket_sizes)
        ) / hour_checks
        fold_rollup_writes = (sum(write_units(size) for size in rollup_sizes) + 1) / hour_checks
        by_shard: Counter[str] = Counter()
        for item in hour_results:
            by_shard[item["shard"]["S"]] += item_size(item)
        fold_reads = (
            sum(read_units(by_shard.get(str(s), 0), consistent=True) for s in range(60))
            + sum(read_units(size, consistent=True) for size in bucket_sizes)
            + read_units(len(keys) * 70, consistent=False)
        ) / hour_checks

        # A service's last hour, as the dashboard reads it: one Query of its shard.
        shard_hour_bytes = max(by_shard.values())
        shard_hour_units = read_units(shard_hour_bytes, consistent=False)

        writes = dynamodb_writes(meter) / checks
        reads = dynamodb_reads(meter) / checks
        # BatchGetItem, eventually consistent: half a unit per service item (under 4 KB) per check;
        # consistent GetItems (state changes only): one unit each.
        service_read_units = (0.5 * checks + meter.calls["dynamodb.GetItem"]) / checks
        sqs_requests = meter.count("sqs.") / checks  # send, and the event source's receive and delete
        dispatch_requests = sum(dispatch_meter.calls.values()) / max(dispatched_jobs, 1)
        batch_ms = lambda_seconds / max(invocations, 1) * 1000

        def costs(write_price: float, read_price: float) -> dict[str, float]:
            """$ per million checks; the check history tables (results, checks) at the given prices."""
            return {
                "dynamodb writes": (
                    (result_write_units + fold_history_writes) * write_price
                    + fold_rollup_writes * PRICE_DYNAMODB_WRITE_UNIT
                )
                * 1e6,
                "dynamodb reads": (
                    fold_reads * read_price
                    + (service_read_units + dispatch_requests) * PRICE_DYNAMODB_READ_UNIT
                )
                * 1e6,
                "sqs": (sqs_requests + dispatch_requests) * PRICE_SQS_REQUEST * 1e6,
                "lambda requests": (invocations / checks) * PRICE_LAMBDA_REQUEST * 1e6,
                "lambda GB-s": (lambda_seconds / checks) * CHECKER_MEMORY_GB * PRICE_LAMBDA_GB_SECOND * 1e6,
                "stream reads": 0.0,  # Lambda reads DynamoDB streams for free; a steady check writes none
            }

        # Modeled: real targets answer slower than a local server, and this machine's load is no
        # Lambda's: each invocation as long as the checker's target allows for a 500 ms slowest probe.
        modeled_seconds = MODELED_BATCH_RATIO * SLOWEST_PROBE_SECONDS
        slow_duration = (
            (invocations * modeled_seconds / checks) * CHECKER_MEMORY_GB * PRICE_LAMBDA_GB_SECOND * 1e6
        )
        modes = {
            "on-demand": costs(PRICE_DYNAMODB_WRITE_UNIT, PRICE_DYNAMODB_READ_UNIT),
            "provisioned at 70%": costs(PRICE_PROVISIONED_WRITE_UNIT, PRICE_PROVISIONED_READ_UNIT),
        }

        print(
            f"Steady-state checks: {SERVICES} services x {ROUNDS} rounds = {checks} checks {dict(outcomes)}, "
            f"{messages_sent} messages, {invocations} checker invocations"
        )
        print(row("DynamoDB write requests per steady-state check", f"{writes:.4f}"))
        print(row("  of them to the services table (stream records)", f"{service_writes / checks:.4f}"))
        print(row("results per result item (one item per message)", f"{results_per_item:.1f}"))
        print(
            row(
                "result item size (bytes, mean / max)",
                f"{sum(result_sizes) // max(len(result_sizes), 1)} / {max(result_sizes)}",
            )
        )
        print(row("result write units per check", f"{result_write_units:.4f}"))
        print(row("DynamoDB read requests per check (BatchGet of the batch)", f"{reads:.3f}"))
        print(row("service read units per check", f"{service_read_units:.3f}"))
        print(row("hourly fold: buckets folded", f"{folded}"))
        print(row("hourly fold: hour bucket size (bytes, max)", f"{max(bucket_sizes)}"))
        print(
            row(
                "hourly fold: write units per check (buckets+index / rollups)",
                f"{fold_history_writes:.4f} / {fold_rollup_writes:.4f}",
            )
        )
        print(row("hourly fold: read units per check", f"{fold_reads:.4f}"))
        print(
            row(
                "hourly fold: AWS requests per service-hour",
                f"{dynamodb_writes(fold_meter) / SERVICES:.2f} writes, "
                f"{dynamodb_reads(fold_meter) / SERVICES:.2f} reads",
            )
        )
        print(
            row(
                "a service's last hour: one Query of its shard (KB / units)",
                f"{shard_hour_bytes / 1024:.1f} / {shard_hour_units}",
            )
        )
        print(row("scheduler: AWS requests per job dispatched", f"{dispatch_requests:.4f}"))
        print(row("SQS requests per check (send, receive, delete)", f"{sqs_requests:.4f}"))
        print(row("Lambda invocations per check", f"{invocations / checks:.4f}"))
        print(row("measured checker time per invocation (ms, local target)", f"{batch_ms:.0f}"))
        figures: dict[str, float] = {
            "writes_per_check": writes,
            "result_write_units_per_check": result_write_units,
            "read_units_per_check": service_read_units + fold_reads,
        }
        for mode, cost in modes.items():
            total = sum(cost.values())
            total_slow = total - cost["lambda GB-s"] + slow_duration
            print(f"  -- {mode} (results and checks tables) --")
            for name, dollars in cost.items():
                print(row(f"  $ per million checks: {name}", f"{dollars:.4f}"))
            for label, value in (("measured duration", total), ("modeled 625 ms batches", total_slow)):
                verdict = "OK" if value <= TARGET else f"MISS by ${value - TARGET:.3f}"
                print(
                    row(
                        f"ALL-IN $ per million checks ({label})",
                        f"{value:.3f}",
                        f"target <= {TARGET}",
                        verdict,
                    )
                )
            slug = "on_demand" if mode == "on-demand" else "provisioned"
            figures[f"usd_per_million_{slug}"] = total
            figures[f"usd_per_million_{slug}_500ms"] = total_slow
        print(
            row(
                "Route 53 health checks, $ per million checks",
                f"{ROUTE53_PER_MILLION[0]:.0f}-{ROUTE53_PER_MILLION[1]:.0f}",
            )
        )
        target.close()
        return figures


if __name__ == "__main__":
    result = main()
    if "--json" in sys.argv:
        print(json.dumps(result))
