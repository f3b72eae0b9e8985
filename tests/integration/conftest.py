"""Integration fixtures: one moto server per test process, with Vigil's stack deployed in it."""

import email
import email.policy
import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from chalice.test import Client
from moto.server import ThreadedMotoServer

from infra.local.moto_locks import serialize_dynamodb
from infra.local.resources import DeployedStack, deploy
from tests.conftest import MOTO_ENDPOINT, MOTO_PORT


@pytest.fixture(scope="session")
def moto_endpoint():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    serialize_dynamodb()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=MOTO_PORT, verbose=False)
    server.start()
    yield MOTO_ENDPOINT
    server.stop()


@pytest.fixture(scope="session")
def stack(moto_endpoint) -> DeployedStack:
    return deploy(
        endpoint_url=moto_endpoint,
        region="us-east-1",
        name_prefix="vigil-test-",
        email_sender="Vigil <vigil@example.com>",
        stack_name="vigil-test",
    )


# ---- the API through chalice's test client ------------------------------------------------------


PASSWORD = "correct horse battery"


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def message(self) -> str:
        return self.body.get("Message", "") if isinstance(self.body, dict) else ""


class Api:
    """Calls routes as a client would: JSON in, JSON out, optional bearer token."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        json_body: Any = None,
        *,
        token: str | None = None,
        raw: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = {"content-type": "application/json"}
        if token:
            all_headers["authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        body = raw if raw is not None else (json.dumps(json_body) if json_body is not None else None)
        response = getattr(self.client.http, method.lower())(path, body=body, headers=all_headers)
        text = response.body.decode() if isinstance(response.body, bytes) else response.body
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return Reply(response.status_code, parsed, {k.lower(): v for k, v in response.headers.items()})

    def get(self, path: str, **kw: Any) -> Reply:
        return self.call("GET", path, **kw)

    def post(self, path: str, json_body: Any = None, **kw: Any) -> Reply:
        return self.call("POST", path, json_body, **kw)

    def patch(self, path: str, json_body: Any = None, **kw: Any) -> Reply:
        return self.call("PATCH", path, json_body, **kw)

    def put(self, path: str, json_body: Any = None, **kw: Any) -> Reply:
        return self.call("PUT", path, json_body, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.call("DELETE", path, **kw)


class Mailbox:
    """Reads what the app sent through the embedded SES.

    The moto server runs in this process, so its SES backend is read directly: /moto-api/data.json
    would serialize every table of every test on each call (the e2e tests use it, as users do).
    """

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def messages_to(self, address: str) -> list[dict[str, Any]]:
        from moto.backends import get_backend

        sent = get_backend("ses")["123456789012"]["us-east-1"].sent_messages
        found = []
        for m in list(sent):
            if hasattr(m, "raw_data"):  # SendRawEmail: the whole MIME message, headers included
                found.append(raw_email(m.raw_data) | {"source": m.source})
            elif hasattr(m, "subject"):
                found.append(
                    {"subject": m.subject, "body": m.body, "source": m.source, "destinations": m.destinations}
                )
        wanted = address.lower()
        return [m for m in found if wanted in [a.lower() for a in m["destinations"].get("ToAddresses", [])]]

    def last_code(self, address: str) -> str:
        codes = [re.search(r"\b(\d{6})\b", m["subject"]) for m in self.messages_to(address)]
        found = [c.group(1) for c in codes if c]
        assert found, f"no verification code was emailed to {address}"
        return found[-1]

    def last_reset_token(self, address: str) -> str:
        for message in reversed(self.messages_to(address)):
            match = re.search(r"Reset token: <code>([A-Za-z0-9_-]+)</code>", message["body"])
            if match:
                return match.group(1)
        raise AssertionError(f"no reset token was emailed to {address}")


def raw_email(raw_data: str) -> dict[str, Any]:
    """A raw MIME message as ``messages_to`` shows it: ``body`` is the HTML part (as moto keeps of a
    SendEmail), ``text`` the plain one, ``headers`` every header."""
    message = email.message_from_string(raw_data, policy=email.policy.default)
    html_part = message.get_body(("html",))
    text_part = message.get_body(("plain",))
    return {
        "subject": str(message["Subject"]),
        "body": html_part.get_content() if html_part is not None else "",
        "text": text_part.get_content() if text_part is not None else "",
        "headers": {name: str(value) for name, value in message.items()},
        "destinations": {"ToAddresses": [str(message["To"])]},
    }


@dataclass
class Account:
    user_id: str
    email: str
    password: str
    access_token: str
    refresh_token: str


@pytest.fixture(scope="session")
def api(stack) -> Api:
    from app import app

    with Client(app) as client:
        yield Api(client)


@pytest.fixture(scope="session")
def mailbox(moto_endpoint) -> Mailbox:
    return Mailbox(moto_endpoint)


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


@pytest.fixture(scope="session")
def new_account(api: Api, mailbox: Mailbox):
    """Makes verified, logged-in accounts: ``new_account()`` or ``new_account(email=...)``."""

    def make(email: str | None = None, name: str = "Test User") -> Account:
        email = email or unique_email()
        signup = api.post("/v1/auth/signup", {"email": email, "password": PASSWORD, "name": name})
        assert signup.status == 201, signup.body
        verify = api.post("/v1/auth/verify-email", {"email": email, "code": mailbox.last_code(email)})
        assert verify.status == 200, verify.body
        login = api.post("/v1/auth/login", {"email": email, "password": PASSWORD})
        assert login.status == 200, login.body
        return Account(
            user_id=signup.body["id"],
            email=email,
            password=PASSWORD,
            access_token=login.body["access_token"],
            refresh_token=login.body["refresh_token"],
        )

    return make


@pytest.fixture(scope="session")
def new_org(api: Api):
    def make(owner: Account, name: str = "Acme Ops") -> dict[str, Any]:
        reply = api.post("/v1/orgs", {"name": name}, token=owner.access_token)
        assert reply.status == 201, reply.body
        return reply.body

    return make


# ---- monitoring: a target to probe and the probe queue -------------------------------------------


class Target:
    """A local HTTP server whose answer the test sets: status, body, delay."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b"all good"
        self.delay = 0.0
        self.hits = 0
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                target.hits += 1
                time.sleep(target.delay)
                self.send_response(target.status)
                self.send_header("Content-Length", str(len(target.body)))
                self.end_headers()
                self.wfile.write(target.body)

            do_HEAD = do_POST = do_GET

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/health"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def target():
    server = Target()
    yield server
    server.close()


class ProbeQueue:
    """The probe queue of the deployed stack, drained by calling the checker as Lambda would."""

    def __init__(self, url: str) -> None:
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        self.url = url
        self.arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

    def receive(self, max_messages: int = 10) -> list[dict]:
        response = self.sqs.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=max_messages,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return response.get("Messages", [])

    def event(self, messages: list[dict]) -> dict:
        from infra.local.pump import sqs_event_record

        return {"Records": [sqs_event_record(m, queue_arn=self.arn, region="us-east-1") for m in messages]}

    def purge(self) -> None:
        """Delete what is visible. Receiving alone would only hide it for the visibility timeout
        (minutes), and it would come back in the middle of a later test."""
        while messages := self.receive():
            self.sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )

    def drain(self, handler, *, rounds: int) -> list[dict]:
        """Hand what is visible to ``handler`` as Lambda's event source would: delete what succeeded,
        leave what it reported failed. Returns the events handled."""
        handled = []
        for _ in range(rounds):
            messages = self.receive()
            if not messages:
                break
            event = self.event(messages)
            response = handler(event, None)
            failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
            done = [m for m in messages if m["MessageId"] not in failed]
            if done:
                self.sqs.delete_message_batch(
                    QueueUrl=self.url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
                )
            handled.append(event)
        return handled

    def run_checker(self, *, rounds: int = 3) -> list[dict]:
        from chalicelib.events.probes import probe_batch

        return self.drain(probe_batch, rounds=rounds)


@pytest.fixture(scope="session")
def probe_queue(stack) -> ProbeQueue:
    return ProbeQueue(stack.queue_urls["vigil-test-probes"])


@pytest.fixture
def monitored_org(api, new_account, new_org):
    """An org with an admin; returns (org_id, admin account)."""
    owner = new_account()
    org = new_org(owner, name="Monitoring")
    return org["id"], owner


# ---- incident fan-out: real stream records and the notification queue ---------------------------


class TableStream:
    """Reads a table's real stream records from moto, shaped as Lambda hands them over."""

    def __init__(self, stream_arn: str) -> None:
        self.client = boto3.client("dynamodbstreams", region_name="us-east-1")
        self.arn = stream_arn
        self.iterators: dict[str, str] = {}
        self.skip_to_now()

    def skip_to_now(self) -> None:
        shards = self.client.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        self.iterators = {
            shard["ShardId"]: self.client.get_shard_iterator(
                StreamArn=self.arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]
            for shard in shards
        }

    def new_records(self) -> list[dict]:
        from infra.local.pump import dynamodb_event_record

        records = []
        for shard_id, iterator in list(self.iterators.items()):
            response = self.client.get_records(ShardIterator=iterator)
            self.iterators[shard_id] = response["NextShardIterator"]
            records += [
                dynamodb_event_record(r, stream_arn=self.arn, region="us-east-1") for r in response["Records"]
            ]
        return records


class IncidentStream(TableStream):
    """The incidents table's stream, handed to the escalation handler."""

    def deliver(self, records: list[dict] | None = None) -> list[dict]:
        """Hand the new records to the stream handler; returns them (to replay)."""
        from chalicelib.events.incidents import incident_changes

        records = self.new_records() if records is None else records
        if records:
            response = incident_changes({"Records": records}, None)
            assert response == {"batchItemFailures": []}, response
        return records


@pytest.fixture
def incident_stream(stack) -> IncidentStream:
    return IncidentStream(stack.stream_arns["vigil-test-incidents"])


class NotificationQueue(ProbeQueue):
    def run_sender(self, *, rounds: int = 5) -> None:
        from chalicelib.events.notifications import notification_batch

        self.drain(notification_batch, rounds=rounds)


@pytest.fixture(scope="session")
def notification_queue(stack) -> NotificationQueue:
    return NotificationQueue(stack.queue_urls["vigil-test-notifications"])


def sms_sent_to(number: str) -> list[str]:
    from moto.backends import get_backend

    backend = get_backend("sns")["123456789012"]["us-east-1"]
    return [message for phone, message in list(backend.sms_messages.values()) if phone == number]


class AlertQueue(ProbeQueue):
    """The FIFO alert queue behind the intake queue: ``run_router`` routes what requests took onto
    it, ``run_consumer`` routes and then hands what is waiting to the alerts consumer."""

    def __init__(self, url: str, intake_url: str) -> None:
        super().__init__(url)
        self.intake = ProbeQueue(intake_url)

    def run_router(self, *, rounds: int = 10) -> list[dict]:
        from chalicelib.events.alerts import intake_batch

        return self.intake.drain(intake_batch, rounds=rounds)

    def run_consumer(self, *, rounds: int = 10) -> list[dict]:
        from chalicelib.events.alerts import alert_batch

        self.run_router(rounds=rounds)
        return self.drain(alert_batch, rounds=rounds)


@pytest.fixture(scope="session")
def alert_queue(stack) -> AlertQueue:
    return AlertQueue(
        stack.queue_urls["vigil-test-alerts.fifo"], stack.queue_urls["vigil-test-alert-intake.fifo"]
    )
