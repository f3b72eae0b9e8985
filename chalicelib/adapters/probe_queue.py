"""Probe jobs on SQS: the scheduler and `POST .../check` send them, the checker consumes them.

A message carries several jobs that are due in the same second and is
delayed until then (DelaySeconds), which spreads the minute's checks.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.config import Config

from chalicelib.domain.checks import result_shard
from chalicelib.settings import settings

MAX_DELAY_SECONDS = 900  # SQS's limit
MAX_BATCH_ENTRIES = 10  # SendMessageBatch's limit
_RETRIES = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)


@dataclass(frozen=True)
class ProbeJob:
    org_id: str
    service_id: str
    scheduled_at: int  # epoch second the check is due

    def to_json(self) -> dict[str, Any]:
        return {"org": self.org_id, "svc": self.service_id, "at": self.scheduled_at}


@dataclass(frozen=True)
class ProbeMessage:
    jobs: tuple[ProbeJob, ...]
    delay_seconds: int

    def body(self) -> str:
        return json.dumps({"v": 1, "jobs": [job.to_json() for job in self.jobs]}, separators=(",", ":"))


def parse_jobs(body: str) -> list[ProbeJob]:
    """The jobs of a message body; raises ValueError for anything malformed (a poison message)."""
    document = json.loads(body)
    if not isinstance(document, dict) or not isinstance(document.get("jobs"), list):
        raise ValueError("probe message without a jobs list")
    jobs = []
    for raw in document["jobs"]:
        if not (
            isinstance(raw, dict)
            and isinstance(raw.get("org"), str)
            and isinstance(raw.get("svc"), str)
            and isinstance(raw.get("at"), int)
        ):
            raise ValueError(f"malformed probe job: {raw!r}")
        jobs.append(ProbeJob(org_id=raw["org"], service_id=raw["svc"], scheduled_at=raw["at"]))
    return jobs


def pack_messages(jobs: Iterable[ProbeJob], *, now: int, jobs_per_message: int) -> list[ProbeMessage]:
    """Jobs due in the same second share messages of up to ``jobs_per_message`` jobs, ordered by
    result shard so that a message's results are recorded in as few items as can be."""
    by_second: dict[int, list[ProbeJob]] = {}
    for job in jobs:
        by_second.setdefault(job.scheduled_at, []).append(job)
    messages = []
    for second in sorted(by_second):
        delay = min(max(second - now, 0), MAX_DELAY_SECONDS)
        due = sorted(
            by_second[second], key=lambda j: result_shard(j.service_id, settings.result_shards_per_second)
        )
        for start in range(0, len(due), jobs_per_message):
            messages.append(
                ProbeMessage(jobs=tuple(due[start : start + jobs_per_message]), delay_seconds=delay)
            )
    return messages


@functools.cache
def _sqs() -> Any:
    import boto3  # on the first call: boto3 (and s3transfer) is ~80 ms of a cold start

    return boto3.client("sqs", region_name=settings.region, config=_RETRIES)


@functools.cache
def queue_url() -> str:
    return str(_sqs().get_queue_url(QueueName=settings.queue("probes"))["QueueUrl"])


def send(messages: Sequence[ProbeMessage]) -> int:
    """Sends in batches of ten; raises if SQS refuses any entry (the scheduler's run is retried)."""
    sent = 0
    for start in range(0, len(messages), MAX_BATCH_ENTRIES):
        chunk = messages[start : start + MAX_BATCH_ENTRIES]
        response = _sqs().send_message_batch(
            QueueUrl=queue_url(),
            Entries=[
                {"Id": str(i), "MessageBody": m.body(), "DelaySeconds": m.delay_seconds}
                for i, m in enumerate(chunk)
            ],
        )
        failed = response.get("Failed") or []
        if failed:
            raise RuntimeError(f"SQS refused {len(failed)} probe messages: {failed[0].get('Message')}")
        sent += len(chunk)
    return sent
