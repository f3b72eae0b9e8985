"""``status-publish.fifo``: which status pages to render (or which old slug's files to remove).

Coalescing: every message of a page carries the page id as its group (one render at a time per page,
in order) and ``{page_id}:{slot}`` as its deduplication id, the slot being the current
``SLOT_SECONDS``-long span of time. SQS drops a message whose deduplication id it saw in the last
5 minutes, so a burst of changes within a slot queues one render. The queue delays every message by
``SLOT_SECONDS`` (its DelaySeconds, infra/template.yaml): the first message of a slot becomes
visible only after the slot has ended, so the render reads every change the dropped duplicates
announced.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botocore.config import Config

from chalicelib.settings import settings

QUEUE_NAME = "status-publish.fifo"
SLOT_SECONDS = 5  # must match the queue's DelaySeconds
MAX_BATCH_ENTRIES = 10
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=2, read_timeout=5)


@dataclass(frozen=True)
class PublishRequest:
    """Render a page (``slug`` None), or remove the files of ``slug`` that the page no longer holds."""

    org_id: str
    page_id: str
    slug: str | None = None

    def to_json(self) -> str:
        return json.dumps({"org_id": self.org_id, "page_id": self.page_id, "remove_slug": self.slug})

    @classmethod
    def from_json(cls, body: str) -> PublishRequest:
        data = json.loads(body)
        return cls(str(data["org_id"]), str(data["page_id"]), data.get("remove_slug"))

    def deduplication_id(self, now: int) -> str:
        what = "render" if self.slug is None else f"remove:{self.slug}"
        return f"{self.page_id}:{now // SLOT_SECONDS}:{what}"


class NotQueued(Exception):
    pass


@functools.cache
def _sqs() -> Any:
    import boto3  # on the first call: boto3 (and s3transfer) is ~80 ms of a cold start

    return boto3.client("sqs", region_name=settings.region, config=_CONFIG)


@functools.cache
def queue_url() -> str:
    return str(_sqs().get_queue_url(QueueName=settings.queue(QUEUE_NAME))["QueueUrl"])


def send(requests: Sequence[PublishRequest], *, now: int) -> None:
    """In batches of ten; SQS drops those already sent in this slot. A refusal raises (the stream
    record or the schedule is retried)."""
    unique = list(dict.fromkeys(requests))
    for start in range(0, len(unique), MAX_BATCH_ENTRIES):
        chunk = unique[start : start + MAX_BATCH_ENTRIES]
        response = _sqs().send_message_batch(
            QueueUrl=queue_url(),
            Entries=[
                {
                    "Id": str(i),
                    "MessageBody": r.to_json(),
                    "MessageGroupId": r.page_id,
                    "MessageDeduplicationId": r.deduplication_id(now),
                }
                for i, r in enumerate(chunk)
            ],
        )
        failed = response.get("Failed") or []
        if failed:
            raise NotQueued(f"SQS refused {len(failed)} messages: {failed[0].get('Message')}")
