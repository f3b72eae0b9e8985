"""DynamoDB reads of the metrics endpoint for 1 day vs 365 days of history."""

from __future__ import annotations

import json
import sys
import time

from bench.common import embedded_aws, row

DAY = 86_400


def main() -> dict[str, float]:
    with embedded_aws():
        from chalicelib.domain.service_config import ServiceConfig
        from chalicelib.models.checks import DailyRollup, service_key
        from chalicelib.usecases import history, services
        from infra.local.metering import dynamodb_reads, metered

        service = services.create_service(
            "org-bench", "bench", ServiceConfig(name="s", url="https://example.com/", enabled=False)
        )
        key = service_key(service.org_id, service.service_id)
        now = int(time.time())
        with DailyRollup.batch_write() as batch:
            for day in range(now // DAY - 364, now // DAY + 1):
                batch.save(
                    DailyRollup(
                        key,
                        day,
                        total_checks=1440,
                        failed_checks=2,
                        response_time_sum_ms=115_200,
                        response_time_count=1440,
                        h2=1440,
                        folded_hours=set(range(24)),
                    )
                )
        results = {}
        for days in (1, 30, 365):
            with metered() as meter:
                metrics = history.metrics_for(service, days=days, now=now)
            results[days] = (dynamodb_reads(meter), meter.request_bytes)
            assert metrics.total_checks == 1440 * days
        print("Metrics endpoint, DynamoDB read requests by length of history")
        for days, (reads, _) in results.items():
            print(row(f"  days={days}", f"{reads}"))
        equal = results[1][0] == results[365][0]
        print(
            row(
                "365 days vs 1 day",
                f"{results[365][0]} vs {results[1][0]}",
                "target equal",
                "OK" if equal else "MISS",
            )
        )
        print(row("  (a year of daily rollups is ~150 KB: one Query page, ~19 read units)", ""))
        return {"reads_1_day": results[1][0], "reads_365_days": results[365][0]}


if __name__ == "__main__":
    result = main()
    if "--json" in sys.argv:
        print(json.dumps(result))
