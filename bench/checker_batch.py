"""The checker's batch against its slowest probe, the CPU of a probe and the checker's peak memory.

For 100 and 500 probes of a local server answering in 200 ms, in one checker invocation:
- probe phase: ``probe_all`` of the requests / the slowest probe;
- reads + probes: ``checker.run_checks`` (the services' BatchGets, the probes) / the slowest probe;
- whole batch: the Lambda handler (``probe_batch``: reads, probes, every result recorded) / the
  slowest probe, steady state (nothing changes state: a message's results are one UpdateItem per
  result shard).
The jobs are what the scheduler sends for one second: services whose phase puts them in that second
(every 30 s, so two result shards), packed into messages of 25 by ``pack_messages``.
The target server and AWS each run in a process of their own, so that neither shares the checker's
GIL, as the probed sites and DynamoDB do not. AWS is a moto server behind a stand-in that answers
as DynamoDB does, in DYNAMODB_MS and in parallel: the first batches go through to moto (creating the
services, moving them from pending to up) and their answers are kept; the measured batches get
those answers again (the same BatchGetItem, an UpdateItem of the same table) after DYNAMODB_MS.
moto itself spends 100-300 ms serializing one BatchGetItem of 25 services and answers one request
at a time, which would measure moto, not the checker. Everything on the checker's side (pynamodb,
botocore, signing, HTTP, parsing) runs for real.

CPU per probe: the process's CPU time (user + system) over a batch of probes of a server that
answers at once, divided by their number; peak RSS: the process that ran a batch of 500 probes at
200 ms, the app imported. "old" is the threaded requests prober this one replaced (commit 5ac7121),
measured the same way in a process of its own. Each figure is the median of RUNS runs.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
import types
from typing import Any

from bench.common import SlowTarget, environment, free_port, row, services_in_phases

SIZES = (100, 500)
LATENCY = 0.2
RUNS = 5
OLD_COMMIT = "5ac7121"  # the last commit with the threaded prober
TARGETS = {100: (1.1, 1.25), 500: (1.2, 1.25)}  # probe phase, whole batch
LAMBDA_MB = 256
DYNAMODB_MS = 10
INTERVAL = 30  # the services' check interval


def main() -> dict[str, Any]:
    figures: dict[str, Any] = {}
    print(f"Checker batches of probes of a local server answering in {LATENCY * 1000:.0f} ms")
    print(f"(medians of {RUNS} runs; target server and moto in processes of their own)")
    for size in SIZES:
        batch = _in_process("--batch", str(size))
        new, old = _in_process("--probes", "new", str(size)), _in_process("--probes", "old", str(size))
        probe_target, batch_target = TARGETS[size]
        figures[str(size)] = {"batch": batch, "new": new, "old": old}
        print(f"\n{size} probes in one invocation")
        print(_row("probe phase / slowest probe", new["probe_ratio"], probe_target, old["probe_ratio"]))
        print(_row("reads + probes (run_checks) / slowest probe", batch["reads_ratio"], batch_target))
        print(_row("whole batch (reads, probes, writes) / slowest", batch["batch_ratio"], batch_target))
        print(row("  of which after the last probe ended (ms)", f"{batch['tail_ms']:.0f}"))
        print(row("  checker CPU per check: read, probe, record (ms)", f"{batch['cpu_ms']:.2f}"))
        print(row("CPU per probe, ms (old threaded prober)", f"{new['cpu_ms']:.2f} ({old['cpu_ms']:.2f})"))
        rss = max(new["rss_mb"], batch["rss_mb"])
        verdict = "OK" if rss <= LAMBDA_MB else "MISS"
        print(row("peak RSS, MB (old)", f"{rss:.0f} ({old['rss_mb']:.0f})", f"<= {LAMBDA_MB}", verdict))
    return figures


def _row(label: str, value: float, target: float, old: float | None = None) -> str:
    shown = f"{value:.2f}" if old is None else f"{value:.2f} ({old:.2f})"
    label = label if old is None else f"{label} (old)"
    return row(label, shown, f"target <= {target}", "OK" if value <= target else "MISS")


def _in_process(*args: str) -> dict[str, Any]:
    """A measure in a fresh process: its memory and its imports are its own."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.checker_batch", *args], check=True, capture_output=True, text=True
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


# ---- the probe phase alone, old or new -----------------------------------------------------------


def probes(variant: str, size: int) -> dict[str, float]:
    environment()
    import app  # noqa: F401  (as in the checker's Lambda: the app's imports count in its memory)

    prober: Any = (
        _old_prober() if variant == "old" else __import__("chalicelib.adapters.prober").adapters.prober
    )
    target, fast = SlowTarget(delay=LATENCY), SlowTarget(delay=0.0)
    try:
        slow_batch = [prober.ProbeRequest(url=target.url, allow_private=True) for _ in range(size)]
        fast_batch = [prober.ProbeRequest(url=fast.url, allow_private=True) for _ in range(size)]
        prober.probe_all(slow_batch[:20])  # warm: imports, the first connections
        ratios, cpu = [], []
        for _ in range(RUNS):
            started = time.perf_counter()
            results = prober.probe_all(slow_batch)
            elapsed = time.perf_counter() - started
            assert all(r.up for r in results), {r.error for r in results}
            ratios.append(elapsed / (max(r.response_time_ms for r in results) / 1000))
            used = _cpu_seconds()
            prober.probe_all(fast_batch)
            cpu.append((_cpu_seconds() - used) * 1000 / size)
    finally:
        target.close()
        fast.close()
    return {
        "probe_ratio": statistics.median(ratios),
        "cpu_ms": statistics.median(cpu),
        "rss_mb": _peak_rss_mb(),
    }


def _old_prober() -> types.ModuleType:
    source = subprocess.run(
        ["git", "show", f"{OLD_COMMIT}:chalicelib/adapters/prober.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType("old_prober")
    sys.modules["old_prober"] = module  # dataclasses look their module up
    exec(compile(source, "old_prober.py", "exec"), module.__dict__)
    return module


# ---- the checker's whole batch -------------------------------------------------------------------

_MOTO = """
import sys, time
from infra.local.moto_locks import serialize_dynamodb
serialize_dynamodb()
from moto.server import ThreadedMotoServer
ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False).start()
while True:
    time.sleep(3600)
"""

# DynamoDB's latency, in parallel, with moto's answers: forwards to moto and keeps the answers until
# told to replay (POST /replay), then answers BatchGetItem by its request and UpdateItem by its table.
_STAND_IN = """
import json, sys, threading, time, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
port, upstream, delay = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]) / 1000
kept, replaying = {}, threading.Event()
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/replay":
            replaying.set()
            return self.answer(200, b"{}", {})
        action = (self.headers.get("X-Amz-Target") or "").rpartition(".")[2]
        key = None
        if action == "BatchGetItem":
            key = (action, body)
        elif action == "UpdateItem":
            key = (action, json.loads(body)["TableName"])
        if replaying.is_set() and key in kept:
            time.sleep(delay)
            return self.answer(*kept[key])
        request = urllib.request.Request(upstream + self.path, data=body, method="POST")
        for name, value in self.headers.items():
            if name.lower() not in ("host", "content-length", "connection"):
                request.add_header(name, value)
        try:
            with urllib.request.urlopen(request) as response:
                answer = (response.status, response.read(), dict(response.headers))
        except urllib.error.HTTPError as error:
            answer = (error.code, error.read(), dict(error.headers))
        if answer[0] == 200 and key is not None:
            kept[key] = answer
        self.answer(*answer)
    do_GET = do_POST
    def answer(self, status, body, headers):
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection", "date", "server", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
Server(("127.0.0.1", port), Handler).serve_forever()
"""


def batch(size: int) -> dict[str, float]:
    moto_port, port = free_port(), free_port()
    moto = _start(_MOTO, str(moto_port))
    stand_in = _start(_STAND_IN, str(port), f"http://127.0.0.1:{moto_port}", str(DYNAMODB_MS))
    endpoint = f"http://127.0.0.1:{port}"
    target = SlowTarget(delay=LATENCY)
    try:
        _wait_for(f"http://127.0.0.1:{moto_port}")
        _wait_for(endpoint)
        environment("vigil-bench-batch-")
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        from infra.local.resources import deploy

        deploy(  # on moto itself: the stand-in answers DynamoDB's and SQS's POSTs only
            endpoint_url=f"http://127.0.0.1:{moto_port}",
            region="us-east-1",
            name_prefix="vigil-bench-batch-",
            email_sender="b@example.com",
        )
        return _batches(size, target.url, endpoint)
    finally:
        target.close()
        for process in (stand_in, moto):
            process.terminate()
            process.wait(timeout=10)


def _start(script: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.DEVNULL)


def _batches(size: int, url: str, endpoint: str) -> dict[str, float]:
    import urllib.request

    from chalicelib.adapters.probe_queue import ProbeJob, ProbeMessage, pack_messages
    from chalicelib.domain.service_config import ServiceConfig
    from chalicelib.events import probes as handler
    from chalicelib.settings import settings
    from chalicelib.usecases import checker, services

    with services_in_phases(INTERVAL, {0}):  # services that fire in the same second of every 30
        created = [
            services.create_service(
                "org-bench", "bench", ServiceConfig(name=f"s{i}", url=url, interval_seconds=INTERVAL)
            )
            for i in range(size)
        ]
    ran: list[list[Any]] = []
    run_checks = checker.run_checks

    def watched(jobs: Any, **options: Any) -> Any:
        checked = run_checks(jobs, **options)
        ran.append([checked, time.perf_counter()])
        return checked

    def messages_at(second: int) -> list[ProbeMessage]:
        jobs = [ProbeJob(s.org_id, s.service_id, second) for s in created]
        return pack_messages(jobs, now=second, jobs_per_message=settings.jobs_per_message)

    def jobs_at(second: int) -> list[ProbeJob]:  # in the handler's order: its reads are the same
        return [job for message in messages_at(second) for job in message.jobs]

    def event(second: int) -> dict[str, Any]:
        return {"Records": [_record(n, m.body()) for n, m in enumerate(messages_at(second))]}

    def slowest(checked: list[Any]) -> float:
        return max(c.record.response_time_ms for c in checked if c.record) / 1000

    second = int(time.time())
    handler.checker.run_checks = watched
    handler.probe_batch(event(second), None)  # the first check of each moves it from pending to up
    handler.probe_batch(event(second + 1), None)  # a steady check: the answers the stand-in keeps
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/replay", data=b"", method="POST")).close()
    second += 1
    reads, whole, tails, cpu = [], [], [], []
    for _ in range(RUNS):
        second = max(second + 1, int(time.time()))
        started = time.perf_counter()
        checked = run_checks(jobs_at(second))
        reads.append((time.perf_counter() - started) / slowest(checked))
        second += 1
        started, used = time.perf_counter(), _cpu_seconds()
        response = handler.probe_batch(event(second), None)
        ended = time.perf_counter()
        cpu.append((_cpu_seconds() - used) * 1000 / size)
        assert response == {"batchItemFailures": []}, response
        checked, probes_ended = ran[-1]
        whole.append((ended - started) / slowest(checked))
        tails.append((ended - probes_ended) * 1000)
    return {
        "reads_ratio": statistics.median(reads),
        "batch_ratio": statistics.median(whole),
        "tail_ms": statistics.median(tails),
        "cpu_ms": statistics.median(cpu),
        "rss_mb": _peak_rss_mb(),
    }


def _record(n: int, body: str) -> dict[str, Any]:
    return {
        "messageId": f"m{n}",
        "receiptHandle": f"r{n}",
        "body": body,
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:probes",
        "awsRegion": "us-east-1",
    }


def _wait_for(endpoint: str) -> None:
    import urllib.request

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("moto did not start")


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


if __name__ == "__main__":
    if sys.argv[1:2] == ["--probes"]:
        print(json.dumps(probes(sys.argv[2], int(sys.argv[3]))))
    elif sys.argv[1:2] == ["--batch"]:
        print(json.dumps(batch(int(sys.argv[2]))))
    else:
        result = main()
        if "--json" in sys.argv:
            print(json.dumps(result))
