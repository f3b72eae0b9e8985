"""The local event pump drives schedule, SQS and stream handlers against moto the way Lambda would."""

import base64
import hashlib
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from infra.local.pump import EventPump
from tests.integration.pump_app import (
    ALWAYS_FAIL_ATTRIBUTE,
    FAIL_ONCE_ATTRIBUTE,
    POISON_BODY_PREFIX,
    Invocation,
    PumpTestApp,
    build_app,
)

REGION = "us-east-1"
RUN_ID = uuid.uuid4().hex[:8]


def eventually(condition: Callable[[], Any], *, timeout: float = 8.0, what: str) -> Any:
    """Poll until `condition()` is truthy and return it; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout} s waiting for {what}")
        time.sleep(0.05)


def pump_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("vigil-pump")]


@pytest.fixture(scope="module")
def sqs(moto_endpoint):
    return boto3.client("sqs", endpoint_url=moto_endpoint, region_name=REGION)


@pytest.fixture(scope="module")
def dynamodb(moto_endpoint):
    return boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name=REGION)


@pytest.fixture
def start_pump(moto_endpoint) -> Iterator[Callable[..., EventPump]]:
    """Start a pump for a test app; stopped, and its threads checked gone, when the test ends."""
    pumps: list[EventPump] = []

    def start(test_app: PumpTestApp, **options: Any) -> EventPump:
        pump = EventPump(test_app.app, endpoint_url=moto_endpoint, region=REGION, **options)
        pumps.append(pump)
        pump.start()
        return pump

    yield start
    for pump in pumps:
        pump.stop()
    assert pump_threads() == []


@pytest.fixture
def queue_with_dlq(sqs) -> dict[str, str]:
    """A queue that moves a message to its DLQ on the third receive, and whose messages reappear after 1 s."""
    name = f"pump-work-{RUN_ID}-{uuid.uuid4().hex[:6]}"
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": "1",
            "RedrivePolicy": f'{{"deadLetterTargetArn": "{dlq_arn}", "maxReceiveCount": "2"}}',
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return {"name": name, "url": url, "arn": arn, "dlq_url": dlq_url}


@pytest.fixture(scope="module")
def table(dynamodb) -> dict[str, str]:
    """One table for all stream tests: each pump reads from LATEST, so earlier tests' writes stay unseen."""
    name = f"pump-changes-{RUN_ID}"
    description = dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    return {"name": name, "stream_arn": description["LatestStreamArn"]}


def send(sqs, queue_url: str, *bodies: str) -> dict[str, str]:
    """Send `bodies` in one batch; returns body -> message id."""
    response = sqs.send_message_batch(
        QueueUrl=queue_url,
        Entries=[
            {
                "Id": str(index),
                "MessageBody": body,
                "MessageAttributes": {
                    "kind": {"DataType": "String", "StringValue": "probe-job"},
                    "checksum": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
                },
            }
            for index, body in enumerate(bodies)
        ],
    )
    assert not response.get("Failed")
    return {bodies[int(entry["Id"])]: entry["MessageId"] for entry in response["Successful"]}


def messages_left(sqs, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def deliveries(invocations: list[Invocation]) -> dict[str, list[dict[str, Any]]]:
    """message id -> the records that carried it, in delivery order."""
    by_id: dict[str, list[dict[str, Any]]] = {}
    for invocation in invocations:
        for record in invocation.records:
            by_id.setdefault(record["messageId"], []).append(record)
    return by_id


# --- Schedules ---------------------------------------------------------------------------------------


def test_with_a_tick_every_schedule_fires_repeatedly_with_an_eventbridge_event(start_pump):
    test_app = build_app(with_schedules=True)
    start_pump(test_app, tick_seconds=0.2)
    eventually(
        lambda: (
            len(test_app.received.of("every_five_minutes")) >= 3
            and len(test_app.received.of("weekday_mornings")) >= 3
        ),
        what="both valid schedules to fire three times",
    )

    event = test_app.received.of("every_five_minutes")[0].event
    assert set(event) == {
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    }
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["region"] == REGION
    assert event["account"] == "123456789012"
    assert event["detail"] == {}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    assert event["resources"] == [
        "arn:aws:events:us-east-1:123456789012:rule/pump-test-local-every_five_minutes-event"
    ]
    ids = [i.event["id"] for i in test_app.received.of("every_five_minutes")]
    assert len(set(ids)) == len(ids)
    context = test_app.received.of("weekday_mornings")[0].context
    assert context.function_name == "pump-test-local-weekday_mornings"


def test_a_schedule_expression_aws_would_reject_never_fires_and_is_logged(start_pump, caplog):
    test_app = build_app(with_schedules=True)
    with caplog.at_level(logging.ERROR, logger="vigil.pump"):
        start_pump(test_app, tick_seconds=0.1)
        eventually(lambda: len(test_app.received.of("every_five_minutes")) >= 3, what="a valid schedule")

    assert test_app.received.of("misspelled_rate") == []
    assert any(
        "misspelled_rate" in r.getMessage() and "rate(5 minute)" in r.getMessage() for r in caplog.records
    ), caplog.text


def test_a_scheduled_handler_that_raises_is_logged_and_keeps_firing(start_pump, caplog):
    test_app = build_app(with_schedules=True)
    with caplog.at_level(logging.ERROR, logger="vigil.pump"):
        start_pump(test_app, tick_seconds=0.1)
        eventually(lambda: len(test_app.received.of("always_raises")) >= 3, what="three failing fires")

    assert any("always_raises" in r.getMessage() and r.exc_info for r in caplog.records), caplog.text


def test_event_sources_the_pump_does_not_drive_are_named_in_a_warning(start_pump, caplog):
    with caplog.at_level(logging.WARNING, logger="vigil.pump"):
        start_pump(build_app(with_schedules=True), tick_seconds=0.1)

    assert any(
        "sns_alarm" in r.getMessage() and "SNSEventConfig" in r.getMessage() for r in caplog.records
    ), caplog.text


def test_without_a_tick_schedules_keep_their_own_rate(start_pump):
    test_app = build_app(with_schedules=True)
    start_pump(test_app)
    time.sleep(0.5)
    assert test_app.received.of("every_five_minutes") == []
    assert test_app.received.of("weekday_mornings") == []
    assert test_app.received.of("always_raises") == []


# --- SQS -------------------------------------------------------------------------------------------


def test_sqs_handler_gets_lambda_shaped_batches_and_handled_messages_are_deleted(
    start_pump, sqs, queue_with_dlq
):
    queue = queue_with_dlq
    sent = send(sqs, queue["url"], *(f"job-{n}" for n in range(5)))
    test_app = build_app(queue_name=queue["name"])
    start_pump(test_app)

    invocations = eventually(
        lambda: len(deliveries(test_app.received.of("work"))) == 5 and test_app.received.of("work"),
        what="all five messages to reach the handler",
    )
    assert max(len(i.records) for i in invocations) > 1
    record = next(r for i in invocations for r in i.records if r["body"] == "job-0")
    assert record["messageId"] == sent["job-0"]
    assert list(record) == [
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "md5OfMessageAttributes",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    ]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queue["arn"]
    assert record["awsRegion"] == REGION
    assert record["md5OfBody"] == hashlib.md5(b"job-0", usedforsecurity=False).hexdigest()
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert record["messageAttributes"] == {
        "kind": {
            "stringValue": "probe-job",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        },
        "checksum": {
            "binaryValue": base64.b64encode(b"\x00\xff").decode(),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Binary",
        },
    }
    context = invocations[0].context
    assert context.function_name == "pump-test-local-work"
    assert (
        context.invoked_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:pump-test-local-work"
    )
    assert uuid.UUID(context.aws_request_id)
    assert 0 < invocations[0].remaining_millis <= 60_000
    assert context.log_group_name == "/aws/lambda/pump-test-local-work"

    eventually(lambda: messages_left(sqs, queue["url"]) == 0, what="the handled messages to be deleted")


def test_partial_batch_failure_deletes_the_good_and_sends_the_poison_to_the_dlq(
    start_pump, sqs, queue_with_dlq
):
    queue = queue_with_dlq
    sent = send(sqs, queue["url"], "good-1", f"{POISON_BODY_PREFIX}-1", "good-2", "good-3")
    test_app = build_app(queue_name=queue["name"])
    start_pump(test_app)

    def poison_in_dlq() -> list[dict[str, Any]]:
        return sqs.receive_message(QueueUrl=queue["dlq_url"], WaitTimeSeconds=1).get("Messages", [])

    dead = eventually(poison_in_dlq, timeout=10, what="the poison message to reach the DLQ")
    assert [m["Body"] for m in dead] == [f"{POISON_BODY_PREFIX}-1"]

    seen = deliveries(test_app.received.of("work"))
    poison_deliveries = seen[sent[f"{POISON_BODY_PREFIX}-1"]]
    assert [r["attributes"]["ApproximateReceiveCount"] for r in poison_deliveries] == ["1", "2"]
    for good in ("good-1", "good-2", "good-3"):
        assert len(seen[sent[good]]) == 1, f"{good} was delivered {len(seen[sent[good]])} times"
    assert messages_left(sqs, queue["url"]) == 0


def test_a_handler_that_raises_leaves_the_whole_batch_for_redelivery(start_pump, sqs, queue_with_dlq):
    queue = queue_with_dlq
    sent = send(sqs, queue["url"], "a", "b", "c")
    test_app = build_app(crashing_queue_name=queue["name"])
    start_pump(test_app)

    def each_delivered_twice() -> dict[str, list[dict[str, Any]]]:
        seen = deliveries(test_app.received.of("crash_on_first_delivery"))
        return seen if all(len(seen.get(m, [])) == 2 for m in sent.values()) else {}

    seen = eventually(each_delivered_twice, what="every message to come back after the handler raised")
    for message_id in sent.values():
        assert [r["attributes"]["ApproximateReceiveCount"] for r in seen[message_id]] == ["1", "2"]
    assert test_app.received.of("crash_on_first_delivery")[0].raised
    eventually(
        lambda: messages_left(sqs, queue["url"]) == 0, what="the second, successful delivery to delete"
    )


# --- DynamoDB streams --------------------------------------------------------------------------------


def stream_records(invocations: list[Invocation], *, successful_only: bool = True) -> list[dict[str, Any]]:
    return [r for i in invocations if not (successful_only and i.raised) for r in i.records]


def test_stream_handler_gets_changes_made_after_start_in_order_and_lambda_shaped(start_pump, dynamodb, table):
    dynamodb.put_item(TableName=table["name"], Item={"pk": {"S": f"before-{RUN_ID}"}})
    test_app = build_app(stream_arn=table["stream_arn"])
    start_pump(test_app)
    started = time.time()

    key = {"pk": {"S": f"order-{RUN_ID}"}}
    dynamodb.put_item(
        TableName=table["name"], Item={**key, "status": {"S": "up"}, "blob": {"B": b"\x01\x02"}}
    )
    dynamodb.update_item(
        TableName=table["name"],
        Key=key,
        UpdateExpression="SET #s = :down",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":down": {"S": "down"}},
    )
    dynamodb.delete_item(TableName=table["name"], Key=key)

    records = eventually(
        lambda: (
            len(stream_records(test_app.received.of("changes"))) >= 3
            and stream_records(test_app.received.of("changes"))
        ),
        what="INSERT, MODIFY and REMOVE to reach the handler",
    )
    assert [r["eventName"] for r in records] == [
        "INSERT",
        "MODIFY",
        "REMOVE",
    ]  # and nothing from before start
    sequence_numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequence_numbers == sorted(sequence_numbers)

    insert, modify, remove = records
    assert list(insert) == [
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    ]
    assert insert["eventSource"] == "aws:dynamodb"
    assert insert["eventSourceARN"] == table["stream_arn"]
    assert insert["awsRegion"] == REGION
    change = insert["dynamodb"]
    assert isinstance(change["ApproximateCreationDateTime"], int)
    assert started - 5 <= change["ApproximateCreationDateTime"] <= time.time() + 1
    assert change["Keys"] == key
    assert change["NewImage"] == {
        **key,
        "status": {"S": "up"},
        "blob": {"B": base64.b64encode(b"\x01\x02").decode()},
    }
    assert "OldImage" not in change
    assert change["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert isinstance(change["SizeBytes"], int)
    assert modify["dynamodb"]["OldImage"]["status"] == {"S": "up"}
    assert modify["dynamodb"]["NewImage"]["status"] == {"S": "down"}
    assert "NewImage" not in remove["dynamodb"]
    assert remove["dynamodb"]["OldImage"]["status"] == {"S": "down"}

    context = test_app.received.of("changes")[0].context
    assert context.function_name == "pump-test-local-changes"


def test_a_failed_stream_batch_is_retried_with_the_same_records_and_the_pump_carries_on(
    start_pump, dynamodb, table
):
    test_app = build_app(stream_arn=table["stream_arn"])
    start_pump(test_app)

    dynamodb.put_item(
        TableName=table["name"], Item={"pk": {"S": f"flaky-{RUN_ID}"}, FAIL_ONCE_ATTRIBUTE: {"BOOL": True}}
    )
    dynamodb.put_item(TableName=table["name"], Item={"pk": {"S": f"after-flaky-{RUN_ID}"}})
    eventually(
        lambda: len(stream_records(test_app.received.of("changes"))) >= 2,
        what="both records to be handled after the retry",
    )
    dynamodb.put_item(TableName=table["name"], Item={"pk": {"S": f"later-{RUN_ID}"}})
    eventually(lambda: len(stream_records(test_app.received.of("changes"))) >= 3, what="a later write")

    invocations = test_app.received.of("changes")
    failed, retried = invocations[0], invocations[1]
    assert failed.raised and not retried.raised
    assert [r["eventID"] for r in retried.records] == [r["eventID"] for r in failed.records]
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in stream_records(invocations)]
    assert keys == [f"flaky-{RUN_ID}", f"after-flaky-{RUN_ID}", f"later-{RUN_ID}"]


def test_a_record_that_always_fails_is_skipped_after_three_retries(start_pump, dynamodb, table, caplog):
    test_app = build_app(stream_arn=table["stream_arn"])
    with caplog.at_level(logging.ERROR, logger="vigil.pump"):
        start_pump(test_app)
        dynamodb.put_item(
            TableName=table["name"],
            Item={"pk": {"S": f"hopeless-{RUN_ID}"}, ALWAYS_FAIL_ATTRIBUTE: {"BOOL": True}},
        )
        eventually(
            lambda: len(test_app.received.of("changes")) >= 4, what="the first delivery and three retries"
        )
        dynamodb.put_item(TableName=table["name"], Item={"pk": {"S": f"next-{RUN_ID}"}})
        eventually(
            lambda: stream_records(test_app.received.of("changes")), what="the next record after the skip"
        )

    attempts = [i for i in test_app.received.of("changes") if i.raised]
    assert len(attempts) == 4
    assert {r["eventID"] for a in attempts for r in a.records} == {attempts[0].records[0]["eventID"]}
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in stream_records(test_app.received.of("changes"))] == [
        f"next-{RUN_ID}"
    ]
    skip_logs = [r.getMessage() for r in caplog.records if "on-failure destination" in r.getMessage()]
    assert len(skip_logs) == 1
    assert attempts[0].records[0]["dynamodb"]["SequenceNumber"] in skip_logs[0]


# --- Lifecycle ---------------------------------------------------------------------------------------


def test_stop_is_prompt_and_leaves_no_threads(moto_endpoint, sqs, queue_with_dlq, table):
    test_app = build_app(
        with_schedules=True, queue_name=queue_with_dlq["name"], stream_arn=table["stream_arn"]
    )
    with EventPump(test_app.app, endpoint_url=moto_endpoint, region=REGION, tick_seconds=0.2):
        # 5 SQS pollers, one stream reader and three schedules (the misspelled one never starts).
        assert len(pump_threads()) == 9
        time.sleep(0.5)  # let the pollers settle into their long polls
        stopping_at = time.monotonic()
    assert time.monotonic() - stopping_at < 2.5
    assert pump_threads() == []
