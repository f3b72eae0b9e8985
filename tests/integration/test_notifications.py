"""The notification pipeline against moto: queue records, drain the queue through the sender,
read what SES, SNS and a local webhook receiver got; retries, final failures, idempotency."""

import dataclasses
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest

from chalicelib.adapters import mailer
from chalicelib.adapters import notification_queue as notification_queue_adapter
from chalicelib.domain.clock import now_seconds
from chalicelib.domain.ids import new_id
from chalicelib.domain.notifications import verify_webhook_signature
from chalicelib.events.notifications import MAX_RECEIVES, backoff_seconds, notification_batch
from chalicelib.models.incidents import Incident
from chalicelib.models.notifications import Notification, incident_key
from chalicelib.settings import settings
from chalicelib.usecases import notifications
from chalicelib.usecases.notifications import (
    DeliveryInProgress,
    Recipient,
    deliver,
    notification_to_api,
    notifications_for,
    queue_notifications,
    webhook_signing_secret,
)
from tests.integration.conftest import unique_email

ACCOUNT, REGION = "123456789012", "us-east-1"
QUEUE, DLQ = "vigil-test-notifications", "vigil-test-notifications-dlq"


# ---- the world ----------------------------------------------------------------------------------


class NotificationQueue:
    """The notifications queue of the deployed stack, drained by calling the sender as Lambda would."""

    def __init__(self, url: str, dlq_url: str) -> None:
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.url = url
        self.dlq_url = dlq_url
        self.arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

    def receive(self, url: str | None = None) -> list[dict]:
        response = self.sqs.receive_message(
            QueueUrl=url or self.url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return response.get("Messages", [])

    def event(self, messages: list[dict]) -> dict:
        from infra.local.pump import sqs_event_record

        return {"Records": [sqs_event_record(m, queue_arn=self.arn, region=REGION) for m in messages]}

    def empty(self) -> None:
        for url in (self.url, self.dlq_url):
            while messages := self.receive(url):
                self.delete(messages, url)

    def delete(self, messages: list[dict], url: str | None = None) -> None:
        self.sqs.delete_message_batch(
            QueueUrl=url or self.url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )

    def hand_over(self, messages: list[dict]) -> set[str]:
        """One invocation of the sender; deletes what it handled, returns the ids it reported failed."""
        response = notification_batch(self.event(messages), None)
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.delete(done)
        return failed

    def drain(self, *, rounds: int = 10, time_passes: bool = True) -> list[set[str]]:
        """Hand over what is visible, round after round. ``time_passes``: a message the sender failed
        (and delayed) is made visible again at once, as if its backoff had run out."""
        reported = []
        for _ in range(rounds):
            messages = self.receive()
            if not messages:
                break
            failed = self.hand_over(messages)
            reported.append(failed)
            if time_passes:
                for message in messages:
                    if message["MessageId"] in failed:
                        self.sqs.change_message_visibility(
                            QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                        )
        return reported

    def seconds_until_visible(self, message_id: str) -> float:
        from moto.backends import get_backend

        queue = get_backend("sqs")[ACCOUNT][REGION].queues[QUEUE]
        (message,) = [m for m in queue._messages if m.id == message_id]
        return (message.visible_at - time.time() * 1000) / 1000


class WebhookReceiver:
    """A local HTTP server that records every POST and answers with the statuses it is given."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.statuses: list[int] = []  # answered in order; 200 once they run out
        self.delay = 0.0  # seconds before answering
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                time.sleep(receiver.delay)
                answer = b"ok" if status < 300 else b"invalid_payload"
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:  # the sender gave up waiting (a timeout test)
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hooks/vigil") -> str:
        return self.base + path

    def received(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["path"] == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def notification_queue(stack) -> NotificationQueue:
    return NotificationQueue(stack.queue_urls[QUEUE], stack.queue_urls[DLQ])


@pytest.fixture(autouse=True)
def empty_queues(notification_queue):
    notification_queue.empty()


@pytest.fixture
def receiver():
    server = WebhookReceiver()
    yield server
    server.close()


@pytest.fixture
def incident(stack) -> Incident:
    org_id, incident_id = new_id(), new_id()
    item = Incident(
        org_id,
        incident_id,
        title="Checkout API is down",
        description="https://shop.example.com/health failed its checks: status 503",
        severity="critical",
        status="open",
        org_status=Incident.status_key(org_id, "open"),
        category="server",
        source="manual",
        created_at=now_seconds(),
        version=0,
    )
    item.save()
    return item


def sms_sent_to(number: str) -> list[tuple[str, str]]:
    """(message id, text) of every SMS the embedded SNS took for this number."""
    from moto.backends import get_backend

    sent = get_backend("sns")[ACCOUNT][REGION].sms_messages
    return [(message_id, text) for message_id, (to, text) in list(sent.items()) if to == number]


def record(incident: Incident, channel: str) -> Notification:
    (found,) = [n for n in notifications_for(incident.org_id, incident.incident_id) if n.channel == channel]
    return found


def unique_number() -> str:
    return "+1555" + str(time.time_ns())[-7:]


def escalate(incident: Incident, *recipients: Recipient, step: int = 0, loop: int = 0) -> list[Notification]:
    return queue_notifications(
        incident,
        recipients=recipients,
        kind="escalation",
        step=step,
        loop=loop,
        reason=f"escalation step {step}",
    )


# ---- every channel ------------------------------------------------------------------------------


def test_each_channel_is_delivered_once_and_recorded_as_sent(incident, notification_queue, receiver, mailbox):
    email, number = unique_email("oncall"), unique_number()
    created = escalate(
        incident,
        Recipient("email", email, user_id="u1"),
        Recipient("sms", number, user_id="u1"),
        Recipient("webhook", receiver.url("/hook")),
        Recipient("slack", receiver.url("/slack")),
    )
    assert sorted(n.channel for n in created) == ["email", "slack", "sms", "webhook"]
    assert all(n.status == "queued" and n.attempts == 0 for n in created)

    assert notification_queue.drain() == [set()]

    records = {n.channel: n for n in notifications_for(incident.org_id, incident.incident_id)}
    for channel, n in records.items():
        assert (channel, n.status, n.attempts, n.error) == (channel, "sent", 1, None)
        assert n.provider_id and n.sent_at and n.claimed_until is None

    (mail,) = mailbox.messages_to(email)
    assert mail["subject"] == "[CRITICAL] Checkout API is down"
    assert "escalation step 0" in mail["body"] and incident.incident_id in mail["body"]

    ((sms_id, text),) = sms_sent_to(number)
    assert records["sms"].provider_id == sms_id
    assert text.startswith("CRITICAL: Checkout API is down (escalation step 0)") and len(text) <= 160

    (hook,) = receiver.received("/hook")
    body = hook["body"]
    document = json.loads(body)
    assert document["event"] == "incident.triggered"
    assert document["id"] == records["webhook"].provider_id == hook["headers"]["X-Vigil-Delivery"]
    assert document["incident"]["id"] == incident.incident_id
    assert document["incident"]["severity"] == "critical"
    assert hook["headers"]["X-Vigil-Event"] == "incident.triggered"
    assert hook["headers"]["Content-Type"] == "application/json"
    signature = hook["headers"]["X-Vigil-Signature"]
    secret = webhook_signing_secret(incident.org_id)
    assert verify_webhook_signature(signature, body, secret=secret, now=now_seconds())
    assert not verify_webhook_signature(
        signature, body.replace(b"critical", b"low"), secret=secret, now=now_seconds()
    )
    assert not verify_webhook_signature(
        signature, body, secret=webhook_signing_secret(new_id()), now=now_seconds()
    )

    (slack,) = receiver.received("/slack")
    message = json.loads(slack["body"])
    assert "Checkout API is down" in message["text"]
    assert message["attachments"][0]["color"] == "#D92D20"
    assert "X-Vigil-Signature" not in slack["headers"]


def test_lifecycle_notices_reach_webhooks_as_their_own_events(incident, notification_queue, receiver):
    queue_notifications(
        incident,
        recipients=[Recipient("webhook", receiver.url())],
        kind="acknowledged",
        step=1,
        loop=0,
        reason="acknowledged by Ada",
    )
    escalate(incident, Recipient("webhook", receiver.url()), step=1)
    notification_queue.drain()
    assert sorted(r["headers"]["X-Vigil-Event"] for r in receiver.requests) == [
        "incident.acknowledged",
        "incident.escalated",
    ]


# ---- sent once ----------------------------------------------------------------------------------


def test_queueing_the_same_step_twice_sends_once(incident, notification_queue, receiver, mailbox):
    email = unique_email("oncall")
    recipients = (Recipient("email", email), Recipient("webhook", receiver.url()))
    assert len(escalate(incident, *recipients)) == 2
    assert escalate(incident, *recipients) == []  # a replayed stream record, before the sender ran
    notification_queue.drain()
    assert escalate(incident, *recipients) == []  # ... and after it
    assert notification_queue.receive() == []  # sent records are not put on the queue again
    notification_queue.drain()

    assert len(mailbox.messages_to(email)) == 1
    assert len(receiver.requests) == 1
    assert [(n.status, n.attempts) for n in notifications_for(incident.org_id, incident.incident_id)] == [
        ("sent", 1),
        ("sent", 1),
    ]


def test_one_address_named_twice_in_a_step_is_notified_once(incident, notification_queue, mailbox):
    email = unique_email("oncall")
    created = escalate(incident, Recipient("email", email), Recipient("email", email.upper()))
    assert len(created) == 1
    notification_queue.drain()
    assert len(mailbox.messages_to(email)) == 1


def test_the_next_step_or_loop_notifies_again(incident, notification_queue, mailbox):
    email = unique_email("oncall")
    for step, loop in ((0, 0), (1, 0), (0, 1)):
        assert len(escalate(incident, Recipient("email", email), step=step, loop=loop)) == 1
    notification_queue.drain()
    assert len(mailbox.messages_to(email)) == 3


def test_a_message_delivered_twice_sends_once(incident, notification_queue, receiver):
    escalate(incident, Recipient("webhook", receiver.url()))
    messages = notification_queue.receive()
    event = notification_queue.event(messages)
    assert notification_batch(event, None) == {"batchItemFailures": []}
    assert notification_batch(event, None) == {"batchItemFailures": []}  # SQS at-least-once
    assert len(receiver.requests) == 1
    assert record(incident, "webhook").attempts == 1
    notification_queue.delete(messages)  # as Lambda would; in flight, it would come back in 2 minutes


def test_a_notification_another_delivery_is_sending_is_left_to_it(incident, notification_queue, receiver):
    (created,) = escalate(incident, Recipient("webhook", receiver.url()))
    created.update(actions=[Notification.claimed_until.set(now_seconds() + 60), Notification.version.add(1)])
    with pytest.raises(DeliveryInProgress):
        deliver(created.incident_key, created.notification_id, receive_count=1, max_receives=MAX_RECEIVES)
    assert receiver.requests == []
    assert record(incident, "webhook").status == "queued"


def test_a_record_whose_message_was_lost_is_queued_again_by_the_retry(
    incident, notification_queue, mailbox, monkeypatch
):
    email = unique_email("oncall")

    def sqs_is_down(keys):
        raise RuntimeError("SQS is down")

    with monkeypatch.context() as patch:
        patch.setattr(notification_queue_adapter, "send", sqs_is_down)
        with pytest.raises(RuntimeError):
            escalate(incident, Recipient("email", email))
    assert notification_queue.receive() == []
    assert escalate(incident, Recipient("email", email)) == []  # the stream record, retried
    notification_queue.drain()
    assert len(mailbox.messages_to(email)) == 1
    assert record(incident, "email").status == "sent"


# ---- failures -----------------------------------------------------------------------------------


def test_a_webhook_answering_500_is_retried_with_backoff_then_marked_failed(
    incident, notification_queue, receiver
):
    receiver.statuses = [500] * 10
    escalate(incident, Recipient("webhook", receiver.url()))
    (message,) = notification_queue.receive()
    assert notification_queue.hand_over([message]) == {message["MessageId"]}
    assert 0.8 * backoff_seconds(1) < notification_queue.seconds_until_visible(message["MessageId"]) <= 10
    first = record(incident, "webhook")
    assert (first.status, first.attempts, first.error) == ("queued", 1, "status 500: invalid_payload")
    notification_queue.sqs.change_message_visibility(
        QueueUrl=notification_queue.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )

    reported = notification_queue.drain()

    assert reported == [{message["MessageId"]}] * 3 + [set()]  # receives 2-4 fail, the 5th records it
    final = record(incident, "webhook")
    assert (final.status, final.attempts, final.error) == (
        "failed",
        MAX_RECEIVES,
        "status 500: invalid_payload",
    )
    assert final.sent_at is None
    assert len(receiver.requests) == MAX_RECEIVES
    assert notification_queue.receive() == []
    assert notification_queue.receive(notification_queue.dlq_url) == []  # failed, recorded, not dead-lettered


def test_a_webhook_that_recovers_is_sent_on_a_retry(incident, notification_queue, receiver):
    receiver.statuses = [503, 429]
    escalate(incident, Recipient("webhook", receiver.url()))
    notification_queue.drain()
    sent = record(incident, "webhook")
    assert (sent.status, sent.attempts, sent.error) == ("sent", 3, None)
    ids = {r["headers"]["X-Vigil-Delivery"] for r in receiver.requests}
    assert len(ids) == 1  # one delivery id on every retry, for receivers to drop repeats


def test_a_webhook_refusing_with_404_fails_at_once(incident, notification_queue, receiver):
    receiver.statuses = [404]
    escalate(incident, Recipient("webhook", receiver.url()))
    assert notification_queue.drain() == [set()]
    failed = record(incident, "webhook")
    assert (failed.status, failed.attempts, failed.error) == ("failed", 1, "status 404: invalid_payload")


def test_an_unreachable_webhook_is_retried(incident, notification_queue, receiver):
    url = receiver.url()
    receiver.close()  # nothing listens there any more
    escalate(incident, Recipient("webhook", url))
    notification_queue.drain()
    failed = record(incident, "webhook")
    assert (failed.status, failed.attempts, failed.error) == ("failed", MAX_RECEIVES, "connection refused")


def test_a_webhook_that_does_not_answer_in_time_is_retried(
    incident, notification_queue, receiver, monkeypatch
):
    monkeypatch.setattr(notifications, "WEBHOOK_TIMEOUT_SECONDS", 0.3)
    receiver.delay = 1.0
    escalate(incident, Recipient("webhook", receiver.url()))
    started = time.monotonic()
    (reported,) = notification_queue.drain(rounds=1)
    assert time.monotonic() - started < 0.9
    assert len(reported) == 1
    waiting = record(incident, "webhook")
    assert (waiting.status, waiting.attempts, waiting.error) == ("queued", 1, "timeout after 0.3s")


def test_an_ses_rejection_is_retried_then_marked_failed_with_the_reason(
    incident, notification_queue, mailbox, monkeypatch
):
    monkeypatch.setattr(
        mailer, "settings", dataclasses.replace(settings, email_from="alerts@unverified.invalid")
    )
    email = unique_email("oncall")
    escalate(incident, Recipient("email", email))
    reported = notification_queue.drain()
    assert len(reported) == MAX_RECEIVES and all(reported[:-1]) and reported[-1] == set()
    failed = record(incident, "email")
    assert (failed.status, failed.attempts) == ("failed", MAX_RECEIVES)
    assert failed.error.startswith("ses: MessageRejected")
    assert "alerts@unverified.invalid" in failed.error
    assert mailbox.messages_to(email) == []


def test_an_invalid_phone_number_fails_at_once_without_sending(incident, notification_queue):
    escalate(incident, Recipient("sms", "555-0100"))
    assert notification_queue.drain() == [set()]
    failed = record(incident, "sms")
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert "E.164" in failed.error
    assert sms_sent_to("555-0100") == [] and sms_sent_to("5550100") == []


def test_a_private_webhook_url_is_refused_unless_private_targets_are_allowed(
    incident, notification_queue, receiver, monkeypatch
):
    monkeypatch.setattr(notifications, "settings", dataclasses.replace(settings, allow_private_targets=False))
    escalate(incident, Recipient("webhook", receiver.url()), Recipient("slack", receiver.url("/slack")))
    assert notification_queue.drain() == [set()]
    for channel in ("webhook", "slack"):
        refused = record(incident, channel)
        assert (refused.status, refused.attempts, refused.error) == ("failed", 1, "blocked address 127.0.0.1")
    assert receiver.requests == []


def test_one_bad_record_does_not_fail_its_neighbours(incident, notification_queue, receiver, mailbox):
    receiver.statuses = [500]
    email = unique_email("oncall")
    escalate(incident, Recipient("email", email), Recipient("webhook", receiver.url()))
    notification_queue.sqs.send_message(QueueUrl=notification_queue.url, MessageBody="not json")
    messages = notification_queue.receive()
    assert len(messages) == 3
    by_body = {m["Body"]: m["MessageId"] for m in messages}
    webhook_id = record(incident, "webhook").notification_id
    webhook_message = next(mid for body, mid in by_body.items() if webhook_id in body)

    failed = notification_queue.hand_over(messages)

    assert failed == {webhook_message, by_body["not json"]}
    assert record(incident, "email").status == "sent"
    assert len(mailbox.messages_to(email)) == 1
    assert record(incident, "webhook").status == "queued"


def test_backoff_doubles_from_ten_seconds_up_to_fifteen_minutes():
    assert [backoff_seconds(n) for n in (1, 2, 3, 4, 8, 20)] == [10, 20, 40, 80, 900, 900]


# ---- the log ------------------------------------------------------------------------------------


def test_the_log_lists_an_incidents_notifications_oldest_first_in_the_api_shape(
    incident, notification_queue, receiver, monkeypatch
):
    receiver.statuses = [404]
    email = unique_email("oncall")
    start = now_seconds()
    # Created first, yet its id ("acknowledged#...") sorts after the later step's ("001#...").
    monkeypatch.setattr(notifications, "now_seconds", lambda: start)
    queue_notifications(
        incident,
        recipients=[Recipient("webhook", receiver.url())],
        kind="acknowledged",
        step=2,
        loop=0,
        reason="acknowledged by Ada",
    )
    monkeypatch.setattr(notifications, "now_seconds", lambda: start + 5)
    escalate(incident, Recipient("email", email), step=1)
    notification_queue.drain()

    log = [notification_to_api(n) for n in notifications_for(incident.org_id, incident.incident_id)]

    assert [(n["kind"], n["channel"], n["status"]) for n in log] == [
        ("acknowledged", "webhook", "failed"),
        ("escalation", "email", "sent"),
    ]
    webhook, mail = log
    assert set(webhook) == {
        "id",
        "channel",
        "target",
        "status",
        "attempts",
        "error",
        "sent_at",
        "kind",
        "step",
        "loop",
        "created_at",
    }
    assert webhook["target"] == receiver.url()
    assert (webhook["attempts"], webhook["error"], webhook["sent_at"]) == (
        1,
        "status 404: invalid_payload",
        None,
    )
    assert (webhook["step"], webhook["loop"]) == (2, 0)
    assert mail["target"] == email and mail["error"] is None and mail["step"] == 1
    assert mail["created_at"] <= mail["sent_at"] and mail["sent_at"].endswith("Z")
    assert notifications_for(incident.org_id, new_id()) == []
    assert incident_key(incident.org_id, incident.incident_id) == f"{incident.org_id}#{incident.incident_id}"
