"""The notifications queue: one message per notification record, consumed by the sender.

A message only names its record: ``{"incident_key", "notification_id"}`` for an incident's
notification, ``{"page_key", "notice_batch"}`` for a batch of a status page's subscribers. The record
says what to send and whether it was sent already, so a repeated message sends nothing twice.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botocore.config import Config

from chalicelib.settings import settings

MAX_BATCH_ENTRIES = 10  # SendMessageBatch's limit
MAX_VISIBILITY_SECONDS = 43_200  # SQS's limit for ChangeMessageVisibility
_RETRIES = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)


@dataclass(frozen=True)
class NotificationKey:
    incident_key: str
    notification_id: str

    def body(self) -> str:
        return json.dumps(
            {"incident_key": self.incident_key, "notification_id": self.notification_id},
            separators=(",", ":"),
        )


@dataclass(frozen=True)
class NoticeBatchKey:
    page_key: str
    notice_batch: str

    def body(self) -> str:
        document = {"page_key": self.page_key, "notice_batch": self.notice_batch}
        return json.dumps(document, separators=(",", ":"))


def parse_body(body: str) -> NotificationKey | NoticeBatchKey:
    """The key a message names; ValueError for anything malformed (a poison message)."""
    document = json.loads(body)
    if isinstance(document, dict) and "notice_batch" in document:
        page_key, batch = document.get("page_key"), document.get("notice_batch")
        if not (isinstance(page_key, str) and isinstance(batch, str) and page_key and batch):
            raise ValueError("notice message without page_key and notice_batch")
        return NoticeBatchKey(page_key, batch)
    if not (
        isinstance(document, dict)
        and isinstance(document.get("incident_key"), str)
        and isinstance(document.get("notification_id"), str)
        and document["incident_key"]
        and document["notification_id"]
    ):
        raise ValueError("notification message without incident_key and notification_id")
    return NotificationKey(document["incident_key"], document["notification_id"])


@functools.cache
def _sqs() -> Any:
    import boto3  # on the first call: boto3 (and s3transfer) is ~80 ms of a cold start

    return boto3.client("sqs", region_name=settings.region, config=_RETRIES)


@functools.cache
def queue_url() -> str:
    return str(_sqs().get_queue_url(QueueName=settings.queue("notifications"))["QueueUrl"])


def send(keys: Sequence[NotificationKey | NoticeBatchKey]) -> int:
    """Sends in batches of ten; raises if SQS refuses any entry (the caller's run is retried)."""
    sent = 0
    for start in range(0, len(keys), MAX_BATCH_ENTRIES):
        chunk = keys[start : start + MAX_BATCH_ENTRIES]
        response = _sqs().send_message_batch(
            QueueUrl=queue_url(),
            Entries=[{"Id": str(i), "MessageBody": key.body()} for i, key in enumerate(chunk)],
        )
        failed = response.get("Failed") or []
        if failed:
            raise RuntimeError(f"SQS refused {len(failed)} notification messages: {failed[0].get('Message')}")
        sent += len(chunk)
    return sent


def delay_redelivery(receipt_handle: str, seconds: int) -> None:
    """Keep a received message hidden for ``seconds`` from now: the backoff before it comes back."""
    _sqs().change_message_visibility(
        QueueUrl=queue_url(),
        ReceiptHandle=receipt_handle,
        VisibilityTimeout=max(0, min(int(seconds), MAX_VISIBILITY_SECONDS)),
    )
