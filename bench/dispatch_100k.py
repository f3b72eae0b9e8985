"""AWS requests to dispatch 100,000 services due in one minute, simulated at full size on moto."""

from __future__ import annotations

import json
import math
import sys
import time

from bench.common import embedded_aws, row

SERVICES = 100_000
TARGET_REQUESTS = 1_200


def main() -> dict[str, float]:
    with embedded_aws():
        from chalicelib.domain.schedule import phase_offset
        from chalicelib.models.services import SCHEDULER_PARTITION, SchedulerState, Service
        from chalicelib.usecases import scheduler
        from infra.local.metering import metered

        started = time.perf_counter()
        now = int(time.time())
        with Service.batch_write() as batch:
            for i in range(SERVICES):
                service_id = f"svc{i:07d}"
                batch.save(
                    Service(
                        f"org{i % 500:04d}",
                        service_id,
                        name=f"service {i}",
                        url="https://example.com/",
                        interval_seconds=60,
                        timeout_seconds=10,
                        created_at=now,
                        updated_at=now,
                        created_by="bench",
                        status="up",
                        sched_interval=60,
                        sched_offset=phase_offset(service_id, 60),
                    )
                )
        SchedulerState(SCHEDULER_PARTITION, "state", intervals={60}, dispatched_until=0).save()
        setup_seconds = time.perf_counter() - started

        with metered() as meter:
            dispatch = scheduler.dispatch_due(now=now)
        total = sum(meter.calls.values())
        # Real DynamoDB pages a Query at 1 MB of the items it reads; a keys-only index entry of ours
        # is about 90 bytes, so 100,000 of them are about 9 pages.
        real_query_pages = math.ceil(SERVICES * 90 / (1024 * 1024))
        verdict = "OK" if total <= TARGET_REQUESTS and "dynamodb.Scan" not in meter.calls else "MISS"
        print(f"Dispatching {SERVICES:,} services due in one minute (setup {setup_seconds:.0f} s)")
        for operation, count in sorted(meter.calls.items()):
            print(row(f"  {operation}", f"{count}"))
        print(row("jobs dispatched", f"{dispatch.jobs:,}"))
        print(row("probe messages (25 jobs each at most)", f"{dispatch.messages:,}"))
        print(row("Query pages real DynamoDB would need (about)", f"{real_query_pages}"))
        print(row("AWS requests for the whole minute", f"{total}", f"target <= {TARGET_REQUESTS}", verdict))
        print(row("Scan requests", f"{meter.calls['dynamodb.Scan']}", "target 0"))
        return {"requests": total, "jobs": dispatch.jobs, "messages": dispatch.messages}


if __name__ == "__main__":
    result = main()
    if "--json" in sys.argv:
        print(json.dumps(result))
