"""Checker batch wall time / slowest probe, for 100 probes of a local server answering in 200 ms."""

from __future__ import annotations

import json
import sys
import time

from bench.common import SlowTarget, embedded_aws, row

PROBES = 100
LATENCY = 0.2
TARGET_RATIO = 1.3


def main() -> dict[str, float]:
    with embedded_aws():
        from chalicelib.adapters.probe_queue import ProbeJob
        from chalicelib.adapters.prober import ProbeRequest, probe_all
        from chalicelib.domain.service_config import ServiceConfig
        from chalicelib.usecases import checker, services

        target = SlowTarget(delay=LATENCY)
        created = [
            services.create_service("org-bench", "bench", ServiceConfig(name=f"s{i}", url=target.url))
            for i in range(PROBES)
        ]
        at = int(time.time())
        jobs = [ProbeJob(s.org_id, s.service_id, at) for s in created]
        batch_ratios, probe_ratios = [], []
        for _ in range(3):
            started = time.perf_counter()
            checked = checker.run_checks(jobs)
            elapsed = time.perf_counter() - started
            slowest = max(c.record.response_time_ms for c in checked if c.record) / 1000
            batch_ratios.append(elapsed / slowest)

            requests = [ProbeRequest(url=target.url, allow_private=True) for _ in range(PROBES)]
            started = time.perf_counter()
            results = probe_all(requests)
            elapsed = time.perf_counter() - started
            probe_ratios.append(elapsed / (max(r.response_time_ms for r in results) / 1000))

        fast = SlowTarget(delay=0.0)
        single = [ProbeRequest(url=fast.url, allow_private=True)]
        probe_all(single)
        cpu_started = time.process_time()
        for _ in range(PROBES):
            probe_all(single)
        cpu_ms = (time.process_time() - cpu_started) * 1000 / PROBES
        fast.close()

        print(f"{PROBES} probes of a local server answering in {LATENCY * 1000:.0f} ms, one checker batch")
        best_batch, best_probe = min(batch_ratios), min(probe_ratios)
        print(
            row(
                "checker batch (BatchGet + probes) / slowest probe",
                f"{best_batch:.2f}",
                f"target <= {TARGET_RATIO}",
                "OK" if best_batch <= TARGET_RATIO else "MISS",
            )
        )
        print(
            row(
                "probe phase alone / slowest probe",
                f"{best_probe:.2f}",
                f"target <= {TARGET_RATIO}",
                "OK" if best_probe <= TARGET_RATIO else "MISS",
            )
        )
        print(row("CPU per probe (ms; 100 of them share the GIL)", f"{cpu_ms:.2f}"))
        print(row("probing one by one would take (s)", f"{PROBES * LATENCY:.0f}"))
        target.close()
        return {"batch_ratio": best_batch, "probe_ratio": best_probe, "cpu_ms_per_probe": cpu_ms}


if __name__ == "__main__":
    result = main()
    if "--json" in sys.argv:
        print(json.dumps(result))
