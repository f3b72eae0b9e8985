"""Counting the AWS requests code makes, by service and operation, and what they write.

Used by tests (no Scan, constant reads) and by bench/ (cost per check). It patches
botocore's one door to AWS, which boto3 clients and PynamoDB both go through.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient


@dataclass
class Meter:
    calls: Counter[str] = field(default_factory=Counter)  # "dynamodb.UpdateItem" -> count
    request_bytes: Counter[str] = field(default_factory=Counter)
    tables: Counter[str] = field(default_factory=Counter)  # "dynamodb.UpdateItem:<table>" -> count
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, service: str, operation: str, params: dict[str, Any]) -> None:
        key = f"{service}.{operation}"
        size = len(json.dumps(params, default=str))
        tables = [params["TableName"]] if "TableName" in params else list(params.get("RequestItems", {}))
        tables += [entry[kind]["TableName"] for entry in params.get("TransactItems", []) for kind in entry]
        with self._lock:
            self.calls[key] += 1
            self.request_bytes[key] += size
            for table in tables:
                self.tables[f"{key}:{table}"] += 1

    def count(self, prefix: str = "") -> int:
        return sum(n for key, n in self.calls.items() if key.startswith(prefix))

    def operations(self, service: str) -> set[str]:
        return {key.split(".", 1)[1] for key in self.calls if key.startswith(f"{service}.")}

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.request_bytes.clear()
            self.tables.clear()


DYNAMODB_WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
DYNAMODB_READS = ("GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems")


def dynamodb_writes(meter: Meter) -> int:
    return sum(meter.calls[f"dynamodb.{op}"] for op in DYNAMODB_WRITES)


def dynamodb_reads(meter: Meter) -> int:
    return sum(meter.calls[f"dynamodb.{op}"] for op in DYNAMODB_READS)


@contextmanager
def metered(*, this_thread_only: bool = False) -> Iterator[Meter]:
    """Counts every request made meanwhile, or only this thread's (the local stack's pump and
    servers run in other threads of the same process)."""
    meter = Meter()
    original = BaseClient._make_api_call
    thread = threading.get_ident()

    def counting(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        if not this_thread_only or threading.get_ident() == thread:
            meter.record(client.meta.service_model.service_name, operation_name, api_params)
        return original(client, operation_name, api_params)

    BaseClient._make_api_call = counting
    try:
        yield meter
    finally:
        BaseClient._make_api_call = original
