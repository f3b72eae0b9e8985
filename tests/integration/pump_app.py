"""A small Chalice app for the event pump's tests: every handler records what Lambda would have sent it.

Built by a factory because `on_dynamodb_record` needs a literal stream ARN when it is declared, so
the table must exist first; the real stack passes its ARN the same way, by environment variable.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from chalice import Chalice, Cron
from chalice.app import CloudWatchEvent, DynamoDBEvent, SQSEvent

# Bodies and attributes the handlers react to, so tests can stage failures.
POISON_BODY_PREFIX = "poison"  # an SQS message the handler reports in batchItemFailures
FAIL_ONCE_ATTRIBUTE = "fail_once"  # a stream record whose first delivery raises
ALWAYS_FAIL_ATTRIBUTE = "always_fail"  # a stream record whose every delivery raises


@dataclass
class Invocation:
    handler: str
    event: dict[str, Any]
    context: Any
    remaining_millis: int
    raised: bool = False

    @property
    def records(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = self.event.get("Records", [])
        return records


@dataclass
class Recorder:
    """Every invocation of every handler, appended from the pump's threads."""

    _invocations: list[Invocation] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stream_records_failed_once: set[str] = field(default_factory=set)

    def add(self, invocation: Invocation) -> None:
        with self._lock:
            self._invocations.append(invocation)

    def of(self, handler: str) -> list[Invocation]:
        with self._lock:
            return [i for i in self._invocations if i.handler == handler]

    def first_delivery(self, key: str) -> bool:
        """True the first time `key` is seen (thread-safe), for handlers that fail once."""
        with self._lock:
            if key in self._stream_records_failed_once:
                return False
            self._stream_records_failed_once.add(key)
            return True


@dataclass
class PumpTestApp:
    app: Chalice
    received: Recorder


class StagedFailure(RuntimeError):
    """Raised by a handler on purpose."""


def build_app(
    *,
    with_schedules: bool = False,
    queue_name: str | None = None,
    crashing_queue_name: str | None = None,
    stream_arn: str | None = None,
) -> PumpTestApp:
    """The app with only the handlers whose resources are given, so each test pumps what it tests."""
    app = Chalice(app_name="pump-test")
    received = Recorder()

    def remember(handler: str, event: CloudWatchEvent | SQSEvent | DynamoDBEvent) -> Invocation:
        invocation = Invocation(
            handler=handler,
            event=event.to_dict(),
            context=event.context,
            remaining_millis=event.context.get_remaining_time_in_millis(),
        )
        received.add(invocation)
        return invocation

    if with_schedules:

        @app.schedule("rate(5 minutes)")
        def every_five_minutes(event: CloudWatchEvent) -> None:
            remember("every_five_minutes", event)

        @app.schedule(Cron(0, 9, "?", "*", "MON-FRI", "*"))
        def weekday_mornings(event: CloudWatchEvent) -> None:
            remember("weekday_mornings", event)

        @app.schedule("rate(5 minute)")  # EventBridge refuses the singular here
        def misspelled_rate(event: CloudWatchEvent) -> None:
            remember("misspelled_rate", event)

        @app.schedule("rate(1 hour)")
        def always_raises(event: CloudWatchEvent) -> None:
            remember("always_raises", event).raised = True
            raise StagedFailure("scheduled handler failure")

        @app.on_sns_message(topic="not-pumped-locally")
        def sns_alarm(event: Any) -> None:
            remember("sns_alarm", event)

    if queue_name:

        @app.on_sqs_message(queue=queue_name, batch_size=10)
        def work(event: SQSEvent) -> dict[str, Any]:
            invocation = remember("work", event)
            failures = [
                {"itemIdentifier": record["messageId"]}
                for record in invocation.records
                if record["body"].startswith(POISON_BODY_PREFIX)
            ]
            return {"batchItemFailures": failures}

    if crashing_queue_name:

        @app.on_sqs_message(queue=crashing_queue_name, batch_size=10)
        def crash_on_first_delivery(event: SQSEvent) -> None:
            invocation = remember("crash_on_first_delivery", event)
            if any(r["attributes"]["ApproximateReceiveCount"] == "1" for r in invocation.records):
                invocation.raised = True
                raise StagedFailure("first delivery of this batch")

    if stream_arn:

        @app.on_dynamodb_record(stream_arn=stream_arn, batch_size=10)
        def changes(event: DynamoDBEvent) -> None:
            invocation = remember("changes", event)
            for record in invocation.records:
                image = record["dynamodb"].get("NewImage", {})
                fails_now = ALWAYS_FAIL_ATTRIBUTE in image or (
                    FAIL_ONCE_ATTRIBUTE in image and received.first_delivery(record["eventID"])
                )
                if fails_now:
                    invocation.raised = True
                    raise StagedFailure(f"record {record['dynamodb']['SequenceNumber']}")

    return PumpTestApp(app=app, received=received)
