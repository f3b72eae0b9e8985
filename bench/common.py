"""What every benchmark shares: an in-process AWS (moto) with Vigil's template, prices, sizes.

Each benchmark runs in its own process (``python -m bench`` starts them), because the
environment must be set before the app and PynamoDB are imported.
"""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Container, Iterator
from contextlib import contextmanager
from typing import Any

# Public list prices, us-east-1, on-demand, as published in 2025.
PRICE_DYNAMODB_WRITE_UNIT = 0.625 / 1e6  # per write request unit (1 KB)
PRICE_DYNAMODB_READ_UNIT = 0.125 / 1e6  # per read request unit (4 KB strongly consistent)
PRICE_SQS_REQUEST = 0.40 / 1e6  # standard queue, per 64 KB chunk of a request
PRICE_LAMBDA_REQUEST = 0.20 / 1e6
PRICE_LAMBDA_GB_SECOND = 0.0000166667  # x86_64
CHECKER_MEMORY_GB = 256 / 1024
# Provisioned capacity, per unit-hour; auto scaling holds utilization at its target (70%), so a unit
# consumed costs the unit-second price / 0.70.
PRICE_DYNAMODB_WCU_HOUR = 0.00065
PRICE_DYNAMODB_RCU_HOUR = 0.00013
PROVISIONED_UTILIZATION = 0.70
PRICE_PROVISIONED_WRITE_UNIT = PRICE_DYNAMODB_WCU_HOUR / 3600 / PROVISIONED_UTILIZATION
PRICE_PROVISIONED_READ_UNIT = PRICE_DYNAMODB_RCU_HOUR / 3600 / PROVISIONED_UTILIZATION

ROUTE53_PER_MILLION = (11.0, 17.0)  # $0.50-0.75 a month per health check at 30 s (86,400 checks a month)


def environment(prefix: str = "vigil-bench-") -> None:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "VIGIL_STAGE": "bench",
            "VIGIL_NAME_PREFIX": prefix,
            "VIGIL_JWT_SECRET": "b" * 48,
            "VIGIL_BCRYPT_ROUNDS": "4",
            "VIGIL_LOG_LEVEL": "ERROR",
            "VIGIL_ALLOW_PRIVATE_TARGETS": "1",
            "VIGIL_MIN_INTERVAL_SECONDS": "1",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)


@contextmanager
def embedded_aws(prefix: str = "vigil-bench-") -> Iterator[None]:
    """moto in this process, with infra/template.yaml deployed through its CloudFormation."""
    environment(prefix)
    from moto import mock_aws

    with mock_aws():
        from infra.local.resources import deploy

        deploy(endpoint_url=None, region="us-east-1", name_prefix=prefix, email_sender="bench@example.com")
        yield


class SlowTarget:
    """A local HTTP server, in a process of its own (so it does not share our GIL), that answers 200
    after ``delay`` seconds to many connections at once."""

    def __init__(self, delay: float = 0.0) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/"
        self.process = subprocess.Popen(
            [sys.executable, "-c", _SERVER, str(port), str(delay)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("the target server did not start")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


_SERVER = """
import sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
port, delay = int(sys.argv[1]), float(sys.argv[2])
class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(delay)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
Server(("127.0.0.1", port), Handler).serve_forever()
"""


@contextmanager
def services_in_phases(interval: int, phases: Container[int]) -> Iterator[None]:
    """Services created meanwhile get ids whose phase in ``interval`` (the second they fire in) is
    one of ``phases``: a bench chooses which seconds of the minute, hence which result shards, its
    services fill, as a deployment's many services do."""
    from chalicelib.domain.ids import new_id
    from chalicelib.domain.schedule import phase_offset
    from chalicelib.usecases import services

    def in_phases(now_ms: int | None = None) -> str:
        while True:
            candidate = new_id(now_ms)
            if phase_offset(candidate, interval) in phases:
                return candidate

    real = services.new_id
    services.new_id = in_phases
    try:
        yield
    finally:
        services.new_id = real


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's size of an item in bytes (attribute names + values), from its wire form."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        digits = inner.lstrip("-").replace(".", "").lstrip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(inner)
    if kind == "BOOL" or kind == "NULL":
        return 1
    if kind == "NS":
        return sum(_value_size({"N": n}) for n in inner)
    if kind == "SS":
        return sum(len(s.encode()) for s in inner)
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(v) for k, v in inner.items())
    raise ValueError(kind)


def write_units(size: int) -> int:
    """Write units of a write of an item of ``size`` bytes (an update: the larger of before/after)."""
    return max(1, math.ceil(size / 1024))


def read_units(size: int, *, consistent: bool) -> float:
    """Read units of a read returning ``size`` bytes (a Query: its items' sizes summed)."""
    return max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def row(label: str, value: str, target: str = "", verdict: str = "") -> str:
    return f"  {label:<58} {value:>14}  {target:<14} {verdict}"
