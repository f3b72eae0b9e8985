"""python -m bench: every benchmark, each in its own process, figures printed (see README "Performance").

`python -m bench quick` skips the 100,000-service dispatch (several minutes on moto) and times each cold
start 3 times rather than 7.
"""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = [
    "bench.cold_start",
    "bench.cost_per_check",
    "bench.checker_batch",
    "bench.metrics_reads",
    "bench.classifier",
    "bench.ingest",
    "bench.realtime",
    "bench.dispatch_100k",
]


def main() -> int:
    chosen = [b for b in BENCHMARKS if not ("quick" in sys.argv and b.endswith("dispatch_100k"))]
    failed = 0
    for module in chosen:
        print(f"\n== {module} ==", flush=True)
        quick = ["quick"] if "quick" in sys.argv and module == "bench.cold_start" else []
        failed += subprocess.call([sys.executable, "-m", module, *quick]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
