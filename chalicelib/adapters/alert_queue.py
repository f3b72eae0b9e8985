"""The two FIFO queues of alert ingest.

``alert-intake.fifo``: what an ingest request took, as few messages as SQS's size limit allows (one
for a whole notification unless it passes 256 KiB). The message group is the integration, so one
integration's notifications are routed in the order they arrived; the deduplication id is the
request's (SNS's message id for an SNS delivery, so a delivery SNS repeats is taken once).

``alerts.fifo``: one message per alert, for the consumer that opens and closes incidents. The
message group is the alert's dedup key, so alerts about one thing are handled one at a time and in
the order they arrived (a resolve never overtakes its trigger), while different things proceed in
parallel. Each message carries its own event id as deduplication id.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botocore.config import Config

from chalicelib.settings import settings

MAX_BATCH_ENTRIES = 10  # SendMessageBatch's limits: ten entries...
MAX_BATCH_BYTES = 256 * 1024  # ...and 256 KiB for all of them together
MAX_MESSAGE_BYTES = 256 * 1024  # one message, body included
QUEUE_NAME = "alerts.fifo"
INTAKE_QUEUE_NAME = "alert-intake.fifo"
# Ingest answers while the sender waits: a couple of quick retries, then 503 and the tool retries.
_RETRIES = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)


@dataclass(frozen=True)
class AlertMessage:
    body: str
    group_id: str
    deduplication_id: str

    @property
    def size(self) -> int:
        return len(self.body.encode())


class NotQueued(Exception):
    """SQS refused some messages; the caller answers 503 so the sender retries."""


@functools.cache
def _sqs() -> Any:
    import boto3  # on the first call: boto3 (and s3transfer) is ~80 ms of a cold start

    return boto3.client("sqs", region_name=settings.region, config=_RETRIES)


@functools.cache
def queue_url() -> str:
    return str(_sqs().get_queue_url(QueueName=settings.queue(QUEUE_NAME))["QueueUrl"])


@functools.cache
def intake_queue_url() -> str:
    return str(_sqs().get_queue_url(QueueName=settings.queue(INTAKE_QUEUE_NAME))["QueueUrl"])


def send(messages: Sequence[AlertMessage]) -> None:
    """One message per alert on the alerts queue."""
    _send(queue_url(), messages)


def send_intake(messages: Sequence[AlertMessage]) -> None:
    """What one request took, on the intake queue."""
    _send(intake_queue_url(), messages)


def _send(url: str, messages: Sequence[AlertMessage]) -> None:
    """Sends in as few SendMessageBatch calls as the limits allow, in order."""
    for chunk in _chunks(messages):
        response = _sqs().send_message_batch(
            QueueUrl=url,
            Entries=[
                {
                    "Id": str(i),
                    "MessageBody": m.body,
                    "MessageGroupId": m.group_id,
                    "MessageDeduplicationId": m.deduplication_id,
                }
                for i, m in enumerate(chunk)
            ],
        )
        failed = response.get("Failed") or []
        if failed:
            raise NotQueued(f"SQS refused {len(failed)} messages: {failed[0].get('Message')}")


def _chunks(messages: Sequence[AlertMessage]) -> list[list[AlertMessage]]:
    chunks: list[list[AlertMessage]] = []
    current: list[AlertMessage] = []
    size = 0
    for message in messages:
        if current and (len(current) == MAX_BATCH_ENTRIES or size + message.size > MAX_BATCH_BYTES):
            chunks.append(current)
            current, size = [], 0
        current.append(message)
        size += message.size
    if current:
        chunks.append(current)
    return chunks
