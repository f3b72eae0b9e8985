"""Real-time events on the local stack: event -> client latency, AWS requests per pushed event, cost.

The whole local stack (moto, the API, the event pump, the WebSocket gateway) runs in this process, so
botocore's requests can be counted: only those the publishers make count (the event log, the
connections table, PostToConnection); Lambda's own reads of the streams are free on AWS.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack
from typing import Any

from bench.common import (
    PRICE_DYNAMODB_READ_UNIT,
    PRICE_DYNAMODB_WRITE_UNIT,
    PRICE_LAMBDA_GB_SECOND,
    PRICE_LAMBDA_REQUEST,
    free_port,
    row,
)

EVENTS = 100
PRICE_WEBSOCKET_MESSAGE = 1.00 / 1e6  # API Gateway WebSocket, per message (32 KB increments)
PRICE_CONNECTION_MINUTE = 0.25 / 1e6
PUBLISHER_MEMORY_GB = 512 / 1024
MINUTES_PER_MONTH = 30 * 24 * 60


class PublisherRequests:
    """Counts the requests of the publishing path, by kind, and the bytes each event item writes."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.event_item_bytes: list[int] = []
        self._lock = threading.Lock()

    def record(self, service: str, operation: str, params: dict[str, Any]) -> None:
        table = str(params.get("TableName", ""))
        if service == "apigatewaymanagementapi":
            key = operation
        elif service == "dynamodb" and table.endswith(("-events", "-connections")):
            key = f"{table.rsplit('-', 1)[-1]}.{operation}"
        else:
            return
        with self._lock:
            self.calls[key] += 1
            if key == "events.PutItem":
                self.event_item_bytes.append(len(json.dumps(params.get("Item", {}))))

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.event_item_bytes.clear()


def main() -> dict[str, float]:
    from botocore.client import BaseClient

    os.environ.update({"VIGIL_API_PORT": str(free_port()), "VIGIL_AWS_PORT": str(free_port())})
    os.environ.update(
        {"VIGIL_WS_PORT": str(free_port()), "VIGIL_BCRYPT_ROUNDS": "4", "VIGIL_LOG_LEVEL": "ERROR"}
    )
    import logging

    logging.basicConfig(level=logging.ERROR)
    from infra.local.stack import LocalStack, read_config

    stack = LocalStack(read_config(os.environ))
    stack.start()
    counter = PublisherRequests()
    original = BaseClient._make_api_call

    def counting(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        counter.record(client.meta.service_model.service_name, operation_name, api_params)
        return original(client, operation_name, api_params)

    BaseClient._make_api_call = counting
    import chalicelib.events.realtime as publishers

    handler_seconds: list[float] = []
    real_publish = publishers.publish

    def timed_publish(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return real_publish(*args, **kwargs)
        finally:
            handler_seconds.append(time.perf_counter() - started)

    publishers.publish = timed_publish  # type: ignore[assignment]
    try:
        return _measure(stack, counter, handler_seconds)
    finally:
        BaseClient._make_api_call = original
        stack.stop()


def _measure(stack: Any, counter: PublisherRequests, handler_seconds: list[float]) -> dict[str, float]:
    from websockets.sync.client import connect

    from chalicelib.domain.clock import now_seconds
    from chalicelib.usecases import realtime

    # Tickets are minted through the use case (the route only adds the membership check).
    owner, org_id = "bench-user", f"org-bench-{now_seconds()}"

    def socket() -> Any:
        issued = realtime.issue_ticket(org_id, owner, now=now_seconds())
        return connect(issued.url, open_timeout=10)

    from chalicelib.usecases import incidents

    print(f"Real-time events on the local stack: {EVENTS} incidents opened, one socket watching")
    latencies: list[float] = []
    with socket() as watching:
        counter.reset()
        handler_seconds.clear()
        for n in range(EVENTS):
            incidents.create_incident(
                org_id,
                actor_id=owner,
                title=f"bench {n}",
                description="",
                severity="low",
                service_id=None,
                dedup_key=None,
            )
            written = time.monotonic()
            while True:
                frame = json.loads(watching.recv(timeout=10))
                if frame["type"] == "incident.created" and frame["data"]["title"] == f"bench {n}":
                    break
            latencies.append((time.monotonic() - written) * 1000)
        one = Counter(counter.calls)
        item_bytes = statistics.mean(counter.event_item_bytes or [0])
    p50 = statistics.median(latencies)
    p95 = sorted(latencies)[math.ceil(0.95 * len(latencies)) - 1]
    print(
        row(
            "event -> client latency p50 / p95 (ms)",
            f"{p50:.0f} / {p95:.0f}",
            "< 2,000",
            "ok" if p95 < 2000 else "SLOW",
        )
    )

    watchers = 5
    print(f"The same with {watchers} sockets of the org open")
    with ExitStack() as open_sockets:
        sockets = [open_sockets.enter_context(socket()) for _ in range(watchers)]
        counter.reset()
        for n in range(20):
            incidents.create_incident(
                org_id,
                actor_id=owner,
                title=f"fan {n}",
                description="",
                severity="low",
                service_id=None,
                dedup_key=None,
            )
        for watcher in sockets:
            got = 0
            while got < 20:
                if json.loads(watcher.recv(timeout=10))["type"] == "incident.created":
                    got += 1
        many = Counter(counter.calls)

    per_event_one = {k: v / EVENTS for k, v in one.items()}
    per_event_many = {k: v / 20 for k, v in many.items()}
    print(row("requests per event, 1 socket", json.dumps(per_event_one, sort_keys=True)))
    print(row(f"requests per event, {watchers} sockets", json.dumps(per_event_many, sort_keys=True)))
    fixed = per_event_many.get("events.PutItem", 0) + per_event_many.get("connections.Query", 0)
    per_connection = per_event_many.get("PostToConnection", 0) / watchers
    print(row("AWS requests per event", f"{fixed:.0f} + {per_connection:.0f} per connection"))

    # Cost of one million events, each pushed to one connection, from list prices.
    write_units = max(1, math.ceil(item_bytes / 1024))
    handler_ms = statistics.mean(handler_seconds) * 1000 if handler_seconds else 50.0
    dynamodb = 1e6 * (write_units * PRICE_DYNAMODB_WRITE_UNIT + 0.5 * PRICE_DYNAMODB_READ_UNIT)
    messages = 1e6 * PRICE_WEBSOCKET_MESSAGE
    # Worst case for Lambda: one invocation per event (a busy stream batches up to 100).
    lambda_cost = 1e6 * (
        PRICE_LAMBDA_REQUEST + handler_ms / 1000 * PUBLISHER_MEMORY_GB * PRICE_LAMBDA_GB_SECOND
    )
    total = dynamodb + messages + lambda_cost
    print(row("event item written (bytes, WRU)", f"{item_bytes:.0f}, {write_units}"))
    print(row("publisher handler time per batch, local (ms)", f"{handler_ms:.0f}"))
    print(row("$ per million events pushed to 1 connection", f"{total:.2f}"))
    print(
        row(
            "  API Gateway messages / DynamoDB / Lambda",
            f"{messages:.2f} / {dynamodb:.2f} / {lambda_cost:.2f}",
        )
    )
    print(row("  each further connection, per million events", f"{messages:.2f}"))
    print(
        row(
            "$ per connection open all month (connection-minutes)",
            f"{MINUTES_PER_MONTH * PRICE_CONNECTION_MINUTE:.4f}",
        )
    )
    return {"latency_p50_ms": p50, "latency_p95_ms": p95, "cost_per_million": total, "requests_fixed": fixed}


if __name__ == "__main__":
    result = main()
    if "--json" in sys.argv:
        print(json.dumps(result))
