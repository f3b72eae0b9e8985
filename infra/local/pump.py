"""The event pump of the local stack: what Lambda's event sources do on AWS, done against moto.

moto stores queues and stream records but invokes nothing, and `chalice local` serves HTTP only. The
pump reads the event sources registered on the Chalice app (`app.event_sources`) and calls their
handlers (`app.handler_map`) with events shaped like the ones Lambda sends, so a new handler needs no
local wiring:

- each `@app.schedule` fires on its rate or cron expression, or every `tick_seconds` when given;
- each `@app.on_sqs_message` queue is long-polled by a few pollers; a handled batch is deleted except
  the messages named in a returned `batchItemFailures`, and a batch whose handler raised is left for
  redelivery after the visibility timeout (and, past maxReceiveCount, the queue's DLQ);
- each `@app.on_dynamodb_record` stream is read shard by shard from when the pump starts (LATEST) or
  from the oldest record (TRIM_HORIZON); a failing batch is retried a few times and then skipped, as
  an on-failure destination would take it, so one bad record cannot stall a shard.

Nothing here is packaged into a Lambda.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError
from chalice import Chalice
from chalice.app import (
    BaseEventSourceConfig,
    DynamoDBEventConfig,
    ScheduledEventConfig,
    SQSEventConfig,
)

from infra.local.schedule_expressions import (
    CronSchedule,
    RateSchedule,
    Schedule,
    ScheduleExpressionError,
    parse_schedule_expression,
)

LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account
# Lambda polls a queue with five pollers unless MaximumConcurrency says fewer.
MAX_SQS_POLLERS = 5
MIN_SQS_POLLERS = 2
# Short long-polls keep stop() prompt; Lambda itself uses up to 20 s.
SQS_WAIT_SECONDS = 1
SQS_MAX_MESSAGES_PER_RECEIVE = 10
STREAM_MAX_RECORDS_PER_READ = 1000
STREAM_RETRY_ATTEMPTS = 3
STREAM_RETRY_BACKOFF_SECONDS = 0.2
SHARD_DISCOVERY_SECONDS = 5.0
RETRY_AFTER_AWS_ERROR_SECONDS = 1.0
STOP_JOIN_SECONDS = 5.0

LambdaEvent = dict[str, Any]


# --- Events and context shaped like Lambda's --------------------------------------------------------


@dataclass
class LambdaContext:
    """The attributes and method of the context object the Python Lambda runtime passes to a handler."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    # The runtime reads it from AWS_LAMBDA_FUNCTION_MEMORY_SIZE and passes the string on unconverted.
    memory_limit_in_mb: str
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline_monotonic: float
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline_monotonic - time.monotonic()) * 1000))


def scheduled_event(*, rule_arn: str, region: str, account_id: str, fired_at: datetime) -> LambdaEvent:
    """The event EventBridge sends a Lambda for a scheduled rule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": fired_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


def sqs_event_record(message: dict[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """One record of Lambda's SQS event, built from one message of a boto3 receive_message response.

    Lambda spells the keys in lower camel case where ReceiveMessage uses upper camel case, and sends
    binary attribute values base64-encoded where boto3 has already decoded them to bytes.
    """
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _lambda_message_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    record.update({"eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": region})
    return record


def _lambda_message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    shaped: dict[str, Any] = {}
    if "StringValue" in value:
        shaped["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        shaped["binaryValue"] = _base64(value["BinaryValue"])
    shaped["stringListValues"] = list(value.get("StringListValues", []))
    shaped["binaryListValues"] = [_base64(item) for item in value.get("BinaryListValues", [])]
    shaped["dataType"] = value["DataType"]
    return shaped


def dynamodb_event_record(raw: dict[str, Any], *, stream_arn: str, region: str) -> dict[str, Any]:
    """One record of Lambda's DynamoDB stream event, built from one boto3 get_records record.

    boto3 turns ApproximateCreationDateTime into a datetime and binary attribute values into bytes;
    Lambda sends epoch seconds (rounded down, as DynamoDB Streams documents) and base64 strings.
    """
    change = raw["dynamodb"]
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": _epoch_seconds(change["ApproximateCreationDateTime"])
    }
    for image in ("Keys", "NewImage", "OldImage"):
        if image in change:
            dynamodb[image] = _base64_binaries(change[image])
    for detail in ("SequenceNumber", "SizeBytes", "StreamViewType"):
        if detail in change:
            dynamodb[detail] = change[detail]
    record: dict[str, Any] = {
        "eventID": raw["eventID"],
        "eventName": raw["eventName"],
        "eventVersion": raw.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        # moto writes us-east-1 into every record whatever the table's region.
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in raw:  # present on deletions made by TTL
        record["userIdentity"] = raw["userIdentity"]
    return record


def _epoch_seconds(value: datetime | float) -> int:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(moment.timestamp())
    return int(value)


def _base64(value: bytes | str) -> str:
    return base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value


def _base64_binaries(value: Any) -> Any:
    """DynamoDB JSON with every B / BS value base64-encoded again, as it travels on the wire."""
    if isinstance(value, bytes):
        return _base64(value)
    if isinstance(value, dict):
        return {key: _base64_binaries(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_base64_binaries(item) for item in value]
    return value


def failed_item_identifiers(response: Any, batch_identifiers: Sequence[str]) -> set[str] | None:
    """The item identifiers a handler reported in `batchItemFailures`, under Lambda's rules.

    An empty set means the whole batch succeeded (no dict, no or empty batchItemFailures); None means
    the response is malformed (missing, empty or unknown itemIdentifier), which Lambda treats as the
    whole batch failing.
    """
    if not isinstance(response, dict) or not response.get("batchItemFailures"):
        return set()
    failures = response["batchItemFailures"]
    if not isinstance(failures, list):
        return None
    known = set(batch_identifiers)
    reported: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in known:
            return None
        reported.add(identifier)
    return reported


# --- Calling handlers ------------------------------------------------------------------------------


class _HandlerInvoker:
    """Calls a handler of the app as the Lambda runtime would: `handler(event, context)`."""

    def __init__(
        self,
        app: Chalice,
        *,
        stage: str,
        region: str,
        account_id: str,
        function_timeout_seconds: float,
        memory_size_mb: int,
    ) -> None:
        self._app = app
        self._stage = stage
        self._region = region
        self._account_id = account_id
        self._timeout_seconds = function_timeout_seconds
        self._memory_size_mb = memory_size_mb

    def function_name(self, handler_name: str) -> str:
        # The name `chalice deploy` gives the handler's Lambda function.
        return f"{self._app.app_name}-{self._stage}-{handler_name}"

    def invoke(self, handler_name: str, event: LambdaEvent) -> Any:
        handler: Callable[[LambdaEvent, LambdaContext], Any] = self._app.handler_map[handler_name]
        return handler(event, self._context(handler_name))

    def _context(self, handler_name: str) -> LambdaContext:
        function_name = self.function_name(handler_name)
        return LambdaContext(
            function_name=function_name,
            function_version="$LATEST",
            invoked_function_arn=f"arn:aws:lambda:{self._region}:{self._account_id}:function:{function_name}",
            memory_limit_in_mb=str(self._memory_size_mb),
            aws_request_id=str(uuid.uuid4()),
            log_group_name=f"/aws/lambda/{function_name}",
            log_stream_name=f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}",
            deadline_monotonic=time.monotonic() + self._timeout_seconds,
        )


class _EventSourceRunner(ABC):
    """One event source of the app: prepared synchronously in start(), then run by its threads."""

    def prepare(self) -> None:  # noqa: B027 - most sources have nothing to prepare
        """Work that must be done before start() returns (e.g. taking a stream's LATEST position)."""

    @abstractmethod
    def thread_targets(self) -> list[tuple[str, Callable[[], None]]]:
        """(thread name, loop) for each thread the source runs."""


# --- Schedules -------------------------------------------------------------------------------------


class _ScheduleRunner(_EventSourceRunner):
    def __init__(
        self,
        config: ScheduledEventConfig,
        schedule: Schedule,
        *,
        invoker: _HandlerInvoker,
        tick_seconds: float | None,
        region: str,
        account_id: str,
        stopping: threading.Event,
        logger: logging.Logger,
    ) -> None:
        self._config = config
        self._schedule = schedule
        self._invoker = invoker
        self._tick = timedelta(seconds=tick_seconds) if tick_seconds else None
        self._region = region
        self._account_id = account_id
        self._stopping = stopping
        self._logger = logger
        # The rule name `chalice deploy` creates for the handler.
        rule_name = f"{invoker.function_name(config.name)}-event"
        self._rule_arn = f"arn:aws:events:{region}:{account_id}:rule/{rule_name}"

    def thread_targets(self) -> list[tuple[str, Callable[[], None]]]:
        return [(f"schedule-{self._config.name}", self._fire_until_stopped)]

    def _fire_until_stopped(self) -> None:
        due = self._first_due(now=datetime.now(UTC))
        while due is not None:
            if not self._wait_until(due):
                return
            self._fire(due)
            due = self._following_due(due, now=datetime.now(UTC))
        self._logger.info(
            "schedule %s (%s) has no future fire time", self._config.name, self._schedule.expression
        )

    def _period(self) -> timedelta | None:
        if self._tick is not None:
            return self._tick
        if isinstance(self._schedule, RateSchedule):
            return self._schedule.interval
        return None

    def _first_due(self, *, now: datetime) -> datetime | None:
        # A rate rule first fires one period after it is created, as on AWS.
        period = self._period()
        if period is not None:
            return now + period
        assert isinstance(self._schedule, CronSchedule)
        return self._schedule.next_fire_after(now)

    def _following_due(self, due: datetime, *, now: datetime) -> datetime | None:
        # A handler slower than its period makes the next fire late, not a burst of missed ones.
        period = self._period()
        if period is not None:
            return max(due + period, now)
        assert isinstance(self._schedule, CronSchedule)
        return self._schedule.next_fire_after(max(due, now))

    def _wait_until(self, due: datetime) -> bool:
        """Sleep until `due` by the wall clock (cron is wall-clock time); False if the pump stops first."""
        while not self._stopping.is_set():
            remaining = (due - datetime.now(UTC)).total_seconds()
            if remaining <= 0:
                return True
            # Re-read the clock at least every 30 s so a laptop waking from sleep does not lag.
            self._stopping.wait(min(remaining, 30.0))
        return False

    def _fire(self, due: datetime) -> None:
        event = scheduled_event(
            rule_arn=self._rule_arn, region=self._region, account_id=self._account_id, fired_at=due
        )
        started = time.monotonic()
        try:
            self._invoker.invoke(self._config.name, event)
        except Exception:
            self._logger.exception("schedule %s: handler raised", self._config.name)
            return
        self._logger.debug(
            "schedule %s: invoked (%s) in %.0f ms",
            self._config.name,
            self._schedule.expression,
            (time.monotonic() - started) * 1000,
        )


# --- SQS -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ResolvedQueue:
    url: str
    arn: str


class _SqsRunner(_EventSourceRunner):
    def __init__(
        self,
        config: SQSEventConfig,
        *,
        invoker: _HandlerInvoker,
        sqs: BaseClient,
        region: str,
        stopping: threading.Event,
        logger: logging.Logger,
    ) -> None:
        self._config = config
        self._invoker = invoker
        self._sqs = sqs
        self._region = region
        self._stopping = stopping
        self._logger = logger
        self._queue: _ResolvedQueue | None = None
        self._resolve_lock = threading.Lock()
        self._resolve_failure_logged = False
        # moto's ReceiveMessage is not atomic: two concurrent receives can both take the same visible
        # message (seen here: 1 duplicate in 400 messages with 5 pollers). One receive at a time per
        # queue keeps a message in one poller's hands per visibility window; handlers still overlap.
        self._receive_lock = threading.Lock()

    @property
    def _name(self) -> str:
        return self._config.name

    def prepare(self) -> None:
        self._resolved_queue()

    def thread_targets(self) -> list[tuple[str, Callable[[], None]]]:
        pollers = max(
            MIN_SQS_POLLERS, min(self._config.maximum_concurrency or MAX_SQS_POLLERS, MAX_SQS_POLLERS)
        )
        return [(f"sqs-{self._name}-{index}", self._poll_until_stopped) for index in range(pollers)]

    def _resolved_queue(self) -> _ResolvedQueue | None:
        """The queue's URL and ARN, looked up once; None (logged once) while the queue does not exist."""
        with self._resolve_lock:
            if self._queue is not None:
                return self._queue
            try:
                if self._config.queue:
                    url = self._sqs.get_queue_url(QueueName=self._config.queue)["QueueUrl"]
                else:
                    assert self._config.queue_arn is not None
                    url = self._sqs.get_queue_url(QueueName=self._config.queue_arn.rsplit(":", 1)[-1])[
                        "QueueUrl"
                    ]
                attributes = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
            except ClientError as error:
                if not self._resolve_failure_logged:
                    self._logger.warning(
                        "sqs %s: queue %s not available yet (%s); will keep trying",
                        self._name,
                        self._config.queue or self._config.queue_arn,
                        error.response.get("Error", {}).get("Code", error),
                    )
                    self._resolve_failure_logged = True
                return None
            self._queue = _ResolvedQueue(url=url, arn=attributes["Attributes"]["QueueArn"])
            return self._queue

    def _poll_until_stopped(self) -> None:
        while not self._stopping.is_set():
            # Whatever goes wrong in one round (moto restarting, a malformed response), the poller
            # lives on: a dead poller would silently stop a queue locally, which AWS never does.
            try:
                queue = self._resolved_queue()
                if queue is None:
                    self._stopping.wait(RETRY_AFTER_AWS_ERROR_SECONDS)
                    continue
                messages = self._receive_batch(queue)
                if messages and not self._stopping.is_set():
                    self._handle_batch(queue, messages)
            except Exception:
                self._logger.exception("sqs %s: poller round failed; retrying", self._name)
                self._stopping.wait(RETRY_AFTER_AWS_ERROR_SECONDS)

    def _receive_batch(self, queue: _ResolvedQueue) -> list[dict[str, Any]]:
        """Up to batch_size messages: a long poll, then more while the batching window is open.

        Without a window, only messages already waiting are added (that fills batches larger than the
        10 one ReceiveMessage returns). Received messages are in flight, their visibility timeout
        running, so topping a batch up never waits out another poller's long poll.
        """
        wanted = self._config.batch_size
        window = float(self._config.maximum_batching_window_in_seconds or 0)
        batch = self._receive(
            queue, count=wanted, wait_seconds=SQS_WAIT_SECONDS, lock_timeout=SQS_WAIT_SECONDS + 0.5
        )
        if not batch:
            return []
        window_closes = time.monotonic() + window
        while len(batch) < wanted and not self._stopping.is_set():
            remaining = window_closes - time.monotonic()
            if window > 0 and remaining <= 0:
                break
            more = self._receive(
                queue,
                count=wanted - len(batch),
                wait_seconds=SQS_WAIT_SECONDS if remaining >= 1 else 0,
                lock_timeout=max(0.0, remaining),
            )
            if more:
                batch.extend(more)
            elif window <= 0:
                break
            elif remaining < 1:
                self._stopping.wait(min(remaining, 0.1))
        return batch

    def _receive(
        self, queue: _ResolvedQueue, *, count: int, wait_seconds: int, lock_timeout: float
    ) -> list[dict[str, Any]]:
        """One ReceiveMessage call; nothing if another poller holds the queue for `lock_timeout` seconds."""
        if not self._receive_lock.acquire(timeout=lock_timeout):
            return []
        try:
            if self._stopping.is_set():
                return []
            response = self._sqs.receive_message(
                QueueUrl=queue.url,
                MaxNumberOfMessages=min(count, SQS_MAX_MESSAGES_PER_RECEIVE),
                WaitTimeSeconds=wait_seconds,
                # AttributeNames is deprecated in favour of this name; both mean the same to SQS.
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
        finally:
            self._receive_lock.release()
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def _handle_batch(self, queue: _ResolvedQueue, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [sqs_event_record(m, queue_arn=queue.arn, region=self._region) for m in messages]}
        started = time.monotonic()
        try:
            response = self._invoker.invoke(self._name, event)
        except Exception:
            self._logger.exception(
                "sqs %s: handler raised; %d messages stay for redelivery after the visibility timeout",
                self._name,
                len(messages),
            )
            return
        elapsed_ms = (time.monotonic() - started) * 1000
        failed = failed_item_identifiers(response, [m["MessageId"] for m in messages])
        if failed is None:
            self._logger.warning(
                "sqs %s: malformed batchItemFailures %r; the whole batch of %d stays for redelivery",
                self._name,
                response.get("batchItemFailures"),
                len(messages),
            )
            return
        if failed:
            self._logger.warning(
                "sqs %s: handler reported %d of %d messages failed: %s",
                self._name,
                len(failed),
                len(messages),
                sorted(failed),
            )
        self._delete(queue, [m for m in messages if m["MessageId"] not in failed])
        self._logger.debug(
            "sqs %s: invoked with %d records in %.0f ms, %d left for redelivery",
            self._name,
            len(messages),
            elapsed_ms,
            len(failed),
        )

    def _delete(self, queue: _ResolvedQueue, messages: list[dict[str, Any]]) -> None:
        for chunk in _chunks(messages, SQS_MAX_MESSAGES_PER_RECEIVE):
            entries = [
                {"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(chunk)
            ]
            response = self._sqs.delete_message_batch(QueueUrl=queue.url, Entries=entries)
            for failure in response.get("Failed", []):
                message = chunk[int(failure["Id"])]
                self._logger.warning(
                    "sqs %s: could not delete message %s (%s); it will be delivered again",
                    self._name,
                    message["MessageId"],
                    failure.get("Code"),
                )


def _chunks(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- DynamoDB streams ------------------------------------------------------------------------------


@dataclass
class _ShardCursor:
    shard_id: str
    iterator: str | None  # None once a closed shard has been read to its end
    pending: list[dict[str, Any]] = field(default_factory=list)  # read, not yet handled, in order
    last_read_sequence_number: str | None = None
    first_pending_at: float | None = None


class _StreamRunner(_EventSourceRunner):
    def __init__(
        self,
        config: DynamoDBEventConfig,
        *,
        invoker: _HandlerInvoker,
        streams: BaseClient,
        region: str,
        poll_seconds: float,
        stopping: threading.Event,
        logger: logging.Logger,
    ) -> None:
        self._config = config
        self._invoker = invoker
        self._streams = streams
        self._region = region
        self._poll_seconds = poll_seconds
        self._stopping = stopping
        self._logger = logger
        self._cursors: dict[str, _ShardCursor] = {}
        self._finished_shards: set[str] = set()
        self._positioned = False  # set once the configured starting position has been taken
        self._next_discovery = 0.0

    @property
    def _name(self) -> str:
        return self._config.name

    def prepare(self) -> None:
        # LATEST means "from now": take the positions before start() returns, so a write made right
        # after start() reaches the handler. A stream that does not exist yet is looked for again by
        # the thread; an unreachable endpoint fails start().
        self._next_discovery = time.monotonic() + SHARD_DISCOVERY_SECONDS
        try:
            self._discover_shards()
        except ClientError as error:
            self._logger.warning(
                "stream %s: cannot describe %s yet: %s", self._name, self._config.stream_arn, error
            )

    def thread_targets(self) -> list[tuple[str, Callable[[], None]]]:
        return [(f"stream-{self._name}", self._poll_until_stopped)]

    def _poll_until_stopped(self) -> None:
        while not self._stopping.is_set():
            # As with SQS pollers, one failed round (moto restarting, an odd response) never ends the
            # thread: the stream is read again after the next pause.
            if time.monotonic() >= self._next_discovery:
                self._next_discovery = time.monotonic() + SHARD_DISCOVERY_SECONDS
                try:
                    self._discover_shards()
                except Exception as error:
                    self._logger.warning(
                        "stream %s: cannot describe %s: %s", self._name, self._config.stream_arn, error
                    )
            for cursor in list(self._cursors.values()):
                if self._stopping.is_set():
                    return
                try:
                    self._advance(cursor)
                except Exception:
                    self._logger.exception(
                        "stream %s: reading shard %s failed; retrying", self._name, cursor.shard_id
                    )
                    self._stopping.wait(RETRY_AFTER_AWS_ERROR_SECONDS)
            self._stopping.wait(self._poll_seconds)

    def _discover_shards(self) -> None:
        shards = self._describe_shards()
        open_ids = set(self._cursors)
        from_now = not self._positioned and self._config.starting_position == "LATEST"
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id in self._cursors or shard_id in self._finished_shards:
                continue
            closed = "EndingSequenceNumber" in shard.get("SequenceNumberRange", {})
            if from_now and closed:
                self._finished_shards.add(shard_id)  # holds only records from before the pump started
                continue
            if shard.get("ParentShardId") in open_ids:
                continue  # a child waits until its parent is read to the end, as Lambda does
            # Shards that appear after the pump took its position hold only new records.
            position = self._config.starting_position if not self._positioned else "TRIM_HORIZON"
            iterator = self._streams.get_shard_iterator(
                StreamArn=self._config.stream_arn, ShardId=shard_id, ShardIteratorType=position
            )["ShardIterator"]
            self._cursors[shard_id] = _ShardCursor(shard_id=shard_id, iterator=iterator)
            self._logger.debug("stream %s: reading shard %s from %s", self._name, shard_id, position)
        self._positioned = True

    def _describe_shards(self) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        request: dict[str, Any] = {"StreamArn": self._config.stream_arn}
        while True:
            description = self._streams.describe_stream(**request)["StreamDescription"]
            shards.extend(description.get("Shards", []))
            last = description.get("LastEvaluatedShardId")
            if not last:
                return shards
            request["ExclusiveStartShardId"] = last

    def _advance(self, cursor: _ShardCursor) -> None:
        batch_size = self._config.batch_size
        if cursor.iterator is not None and len(cursor.pending) < batch_size:
            self._read(cursor, limit=min(batch_size - len(cursor.pending), STREAM_MAX_RECORDS_PER_READ))
        if cursor.pending and self._batch_is_ready(cursor):
            self._deliver(cursor, cursor.pending[:batch_size])
        if cursor.iterator is None and not cursor.pending:
            self._logger.debug("stream %s: shard %s is closed and fully read", self._name, cursor.shard_id)
            del self._cursors[cursor.shard_id]
            self._finished_shards.add(cursor.shard_id)

    def _read(self, cursor: _ShardCursor, *, limit: int) -> None:
        try:
            response = self._streams.get_records(ShardIterator=cursor.iterator, Limit=limit)
        except ClientError as error:
            # An expired iterator (AWS: after 15 minutes) or one moto no longer knows (after a reset):
            # carry on from the last record read, which the pending records still hold.
            self._logger.warning(
                "stream %s: shard %s: %s; taking a fresh iterator", self._name, cursor.shard_id, error
            )
            cursor.iterator = self._iterator_after(cursor)
            return
        records: list[dict[str, Any]] = response.get("Records", [])
        cursor.iterator = response.get("NextShardIterator")
        if records:
            cursor.pending.extend(records)
            cursor.last_read_sequence_number = records[-1]["dynamodb"]["SequenceNumber"]
            if cursor.first_pending_at is None:
                cursor.first_pending_at = time.monotonic()

    def _iterator_after(self, cursor: _ShardCursor) -> str:
        """A fresh iterator just after the last record read (or at the starting position if none was)."""
        if cursor.last_read_sequence_number is None:
            position: dict[str, Any] = {"ShardIteratorType": self._config.starting_position}
        else:
            position = {
                "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                "SequenceNumber": cursor.last_read_sequence_number,
            }
        response = self._streams.get_shard_iterator(
            StreamArn=self._config.stream_arn, ShardId=cursor.shard_id, **position
        )
        iterator: str = response["ShardIterator"]
        return iterator

    def _batch_is_ready(self, cursor: _ShardCursor) -> bool:
        window = float(self._config.maximum_batching_window_in_seconds or 0)
        if window <= 0 or len(cursor.pending) >= self._config.batch_size or cursor.iterator is None:
            return True
        assert cursor.first_pending_at is not None
        return time.monotonic() - cursor.first_pending_at >= window

    def _deliver(self, cursor: _ShardCursor, batch: list[dict[str, Any]]) -> None:
        """Hand `batch` (the head of cursor.pending) to the handler, retrying, then skipping, failures."""
        remaining = batch
        retries = 0
        while True:
            first_failed = self._invoke(remaining)
            # Everything before the first failure is done: the checkpoint moves past it.
            self._drop_from_pending(cursor, first_failed if first_failed is not None else len(remaining))
            if first_failed is None:
                return
            remaining = remaining[first_failed:]
            if retries == STREAM_RETRY_ATTEMPTS:
                self._logger.error(
                    "stream %s: giving up on %d records after %d retries, sent to on-failure destination: %s",
                    self._name,
                    len(remaining),
                    retries,
                    ", ".join(f"{r['eventName']} {r['dynamodb']['SequenceNumber']}" for r in remaining),
                )
                self._drop_from_pending(cursor, len(remaining))
                return
            retries += 1
            if self._stopping.wait(STREAM_RETRY_BACKOFF_SECONDS * 2 ** (retries - 1)):
                return  # the records stay pending; nothing reads them once the pump has stopped

    def _invoke(self, records: list[dict[str, Any]]) -> int | None:
        """Invoke the handler; None on success, else the index of the first record to retry from."""
        event = {
            "Records": [
                dynamodb_event_record(r, stream_arn=self._config.stream_arn, region=self._region)
                for r in records
            ]
        }
        sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
        started = time.monotonic()
        try:
            response = self._invoker.invoke(self._name, event)
        except Exception:
            self._logger.exception(
                "stream %s: handler raised on %d records from sequence number %s",
                self._name,
                len(records),
                sequence_numbers[0],
            )
            return 0
        failed = failed_item_identifiers(response, sequence_numbers)
        self._logger.debug(
            "stream %s: invoked with %d records in %.0f ms",
            self._name,
            len(records),
            (time.monotonic() - started) * 1000,
        )
        if failed is None:
            self._logger.warning(
                "stream %s: malformed batchItemFailures %r; retrying the whole batch",
                self._name,
                response.get("batchItemFailures"),
            )
            return 0
        if not failed:
            return None
        first_failed = min(sequence_numbers.index(identifier) for identifier in failed)
        self._logger.warning(
            "stream %s: handler reported failures; retrying from sequence number %s",
            self._name,
            sequence_numbers[first_failed],
        )
        return first_failed

    @staticmethod
    def _drop_from_pending(cursor: _ShardCursor, count: int) -> None:
        del cursor.pending[:count]
        cursor.first_pending_at = time.monotonic() if cursor.pending else None


# --- The pump --------------------------------------------------------------------------------------


class EventPump:
    """Drives the schedule, SQS and DynamoDB stream handlers of a Chalice app against a moto server.

    `start()` resolves queues and takes stream positions, then runs every source in daemon threads;
    `stop()` (or leaving the `with` block) stops them within about two seconds and joins them.
    """

    def __init__(
        self,
        app: Chalice,
        *,
        endpoint_url: str,
        region: str,
        tick_seconds: float | None = None,
        stage: str = "local",
        account_id: str = LOCAL_ACCOUNT_ID,
        stream_poll_seconds: float = 0.25,
        function_timeout_seconds: float = 60.0,
        memory_size_mb: int = 128,
        logger: logging.Logger | None = None,
    ) -> None:
        if tick_seconds is not None and tick_seconds <= 0:
            raise ValueError(f"tick_seconds must be positive, not {tick_seconds}")
        self._app = app
        self._endpoint_url = endpoint_url
        self._region = region
        self._tick_seconds = tick_seconds
        self._account_id = account_id
        self._stream_poll_seconds = stream_poll_seconds
        self._logger = logger or logging.getLogger("vigil.pump")
        self._invoker = _HandlerInvoker(
            app,
            stage=stage,
            region=region,
            account_id=account_id,
            function_timeout_seconds=function_timeout_seconds,
            memory_size_mb=memory_size_mb,
        )
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._started = False

    def start(self) -> None:
        if self._started:
            raise RuntimeError("an EventPump starts once; build a new one to start again")
        self._started = True
        runners = self._runners()
        for runner in runners:
            runner.prepare()
        for runner in runners:
            for name, target in runner.thread_targets():
                thread = threading.Thread(target=target, name=f"vigil-pump-{name}", daemon=True)
                self._threads.append(thread)
                thread.start()
        self._logger.info(
            "event pump started: %d event sources, %d threads", len(runners), len(self._threads)
        )

    def stop(self) -> None:
        self._stopping.set()
        deadline = time.monotonic() + STOP_JOIN_SECONDS
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        still_running = [thread.name for thread in self._threads if thread.is_alive()]
        if still_running:
            self._logger.warning("event pump stopped, but handlers are still running in %s", still_running)
        self._threads = [thread for thread in self._threads if thread.is_alive()]

    def __enter__(self) -> EventPump:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _runners(self) -> list[_EventSourceRunner]:
        session = boto3.session.Session(region_name=self._region)
        client_config = Config(
            # Every poller holds a connection during its long poll; the default pool of 10 is too small.
            max_pool_connections=50,
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=5,
            read_timeout=SQS_WAIT_SECONDS + 30,
        )
        clients: dict[str, BaseClient] = {}

        def client(service: str) -> BaseClient:
            if service not in clients:
                clients[service] = session.client(
                    service, endpoint_url=self._endpoint_url, config=client_config
                )
            return clients[service]

        runners: list[_EventSourceRunner] = []
        for config in self._app.event_sources:
            runner = self._runner_for(config, client)
            if runner is not None:
                runners.append(runner)
        return runners

    def _runner_for(
        self, config: BaseEventSourceConfig, client: Callable[[str], BaseClient]
    ) -> _EventSourceRunner | None:
        if config.name not in self._app.handler_map:
            self._logger.warning("event source %s has no handler in app.handler_map; skipped", config.name)
            return None
        if isinstance(config, ScheduledEventConfig):
            return self._schedule_runner(config)
        if isinstance(config, SQSEventConfig):
            return _SqsRunner(
                config,
                invoker=self._invoker,
                sqs=client("sqs"),
                region=self._region,
                stopping=self._stopping,
                logger=self._logger,
            )
        if isinstance(config, DynamoDBEventConfig):
            return _StreamRunner(
                config,
                invoker=self._invoker,
                streams=client("dynamodbstreams"),
                region=self._region,
                poll_seconds=self._stream_poll_seconds,
                stopping=self._stopping,
                logger=self._logger,
            )
        self._logger.warning(
            "event source %s (%s) is not pumped locally; its handler will not run",
            config.name,
            type(config).__name__,
        )
        return None

    def _schedule_runner(self, config: ScheduledEventConfig) -> _ScheduleRunner | None:
        expression = config.schedule_expression
        text = expression if isinstance(expression, str) else expression.to_string()
        try:
            schedule = parse_schedule_expression(text)
        except ScheduleExpressionError as error:
            # AWS would refuse to deploy this rule, so it never fires here either, tick or not.
            self._logger.error("schedule %s is never fired: %s", config.name, error)
            return None
        return _ScheduleRunner(
            config,
            schedule,
            invoker=self._invoker,
            tick_seconds=self._tick_seconds,
            region=self._region,
            account_id=self._account_id,
            stopping=self._stopping,
            logger=self._logger,
        )
