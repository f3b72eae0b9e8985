"""The status page publisher against moto: real stream records of the four tables handed to their
consumers, the real FIFO queue, files in the embedded S3. Publishing on each kind of change, the
5-minute republish, coalescing, removal on delete and slug change, retries of a failed upload, and
the privacy guarantee over every published file and every live answer."""

import json
import uuid
from datetime import UTC, datetime

import boto3
import pytest

from chalicelib.adapters import status_files
from chalicelib.adapters.status_files import FILE_NAMES
from chalicelib.models.services import Service
from infra.local.pump import scheduled_event
from tests.integration.conftest import ProbeQueue, TableStream

STREAM_HANDLERS = {
    "services": "status_on_service_change",
    "status-pages": "status_on_page_change",
    "status-page-posts": "status_on_post_change",
    "maintenance-windows": "status_on_window_change",
}
SECRET_URL = "https://zq-secret-backend-4471.internal.example/health?token=hunter2"
SECRET_SERVICE_NAME = "payments-db-primary-zq4471"
SECRET_INCIDENT_TITLE = "Split brain on pg-primary-zq4471 after failover"


class Publisher:
    """The publisher as Lambda runs it: stream consumers, the queue's consumer, the schedule."""

    def __init__(self, stack) -> None:
        from app import app

        self.app = app
        self.streams = {t: TableStream(stack.stream_arns[f"vigil-test-{t}"]) for t in STREAM_HANDLERS}
        self.queue = ProbeQueue(stack.queue_urls["vigil-test-status-publish.fifo"])
        self.dlq = ProbeQueue(stack.queue_urls["vigil-test-status-publish-dlq.fifo"])
        self.s3 = boto3.client("s3", region_name="us-east-1")
        self.bucket = stack.web_bucket
        self.puts: list[str] = []
        status_files._s3().meta.events.register("before-parameter-build.s3.PutObject", self._count)

    def _count(self, params, **_):
        self.puts.append(params["Key"])

    def close(self) -> None:
        status_files._s3().meta.events.unregister("before-parameter-build.s3.PutObject", self._count)

    def deliver(self, *tables: str) -> int:
        """Hand each table's new stream records to its consumer, as one batch per table."""
        count = 0
        for table in tables or tuple(STREAM_HANDLERS):
            records = self.streams[table].new_records()
            if records:
                response = self.app.handler_map[STREAM_HANDLERS[table]]({"Records": records}, None)
                assert response == {"batchItemFailures": []}, response
                count += len(records)
        return count

    def run(self, *, rounds: int = 10) -> list[str]:
        """The queue's consumer over what is visible: successes deleted, failures made visible again
        at once (as if the visibility timeout had passed). Returns the failed message ids."""
        failed_all = []
        for _ in range(rounds):
            messages = self.queue.receive()
            if not messages:
                break
            response = self.app.handler_map["publish_status_pages"](self.queue.event(messages), None)
            failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
            failed_all += sorted(failed)
            for m in messages:
                if m["MessageId"] in failed:
                    self.queue.sqs.change_message_visibility(
                        QueueUrl=self.queue.url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
                    )
                else:
                    self.queue.sqs.delete_message(QueueUrl=self.queue.url, ReceiptHandle=m["ReceiptHandle"])
        return failed_all

    def publish(self, *tables: str) -> None:
        self.deliver(*tables)
        self.run()

    def file(self, slug: str, name: str) -> bytes | None:
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=f"status/{slug}/{name}")["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None

    def head(self, slug: str, name: str) -> dict:
        return self.s3.head_object(Bucket=self.bucket, Key=f"status/{slug}/{name}")

    def status(self, slug: str) -> dict:
        body = self.file(slug, "status.json")
        assert body is not None, f"status/{slug}/status.json was not published"
        return json.loads(body)

    def renders_of(self, slug: str) -> int:
        return sum(1 for key in self.puts if key == f"status/{slug}/status.json")


@pytest.fixture
def publisher(stack):
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = stack.queue_urls["vigil-test-status-publish.fifo"]
    # The slot delay makes a render wait for the end of its slot; the tests drive time themselves.
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "0"})
    publisher = Publisher(stack)
    publisher.queue.purge()
    yield publisher
    publisher.close()
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "5"})


def pages(org_id, *rest):
    return "/".join([f"/v1/orgs/{org_id}/status-pages", *rest])


@pytest.fixture
def page(api, new_account, new_org, publisher):
    """An org with a service on a published page: {"owner", "org_id", "service", "page", "slug"}."""
    owner = new_account()
    org_id = new_org(owner)["id"]
    service = api.post(
        f"/v1/orgs/{org_id}/services",
        {"name": SECRET_SERVICE_NAME, "url": SECRET_URL, "interval_seconds": 60, "enabled": False},
        token=owner.access_token,
    ).body
    body = {
        "slug": f"acme-{uuid.uuid4().hex[:10]}",
        "title": "Acme status",
        "components": [{"name": "Payments", "service_id": service["id"], "group": "Shop"}],
    }
    created = api.post(pages(org_id), body, token=owner.access_token)
    assert created.status == 201, created.body
    publisher.publish()
    return {"owner": owner, "org_id": org_id, "service": service, "page": created.body, "slug": body["slug"]}


def set_status(org_id: str, service_id: str, status: str) -> None:
    service = Service.get(org_id, service_id, consistent_read=True)
    service.update(actions=[Service.status.set(status), Service.version.add(1)])


def test_a_new_page_is_published_with_every_file_typed_and_cached_briefly(page, publisher):
    slug = page["slug"]
    expected = {
        "index.html": "text/html; charset=utf-8",
        "status.json": "application/json",
        "summary.json": "application/json",
        "feed.atom": "application/atom+xml",
        "badge.svg": "image/svg+xml",
    }
    for name, kind in expected.items():
        head = publisher.head(slug, name)
        assert head["ContentType"] == kind
        assert head["CacheControl"] == "public, max-age=30"
    document = publisher.status(slug)
    assert document["slug"] == slug and document["status"] == "operational"
    assert [c["name"] for c in document["components"]] == ["Payments"]
    assert b"Acme status" in publisher.file(slug, "index.html")


def test_a_service_going_down_republishes_its_pages(page, publisher):
    set_status(page["org_id"], page["service"]["id"], "down")
    publisher.publish("services")
    assert publisher.status(page["slug"])["status"] == "major_outage"
    assert b"Major outage" in publisher.file(page["slug"], "index.html")
    set_status(page["org_id"], page["service"]["id"], "up")
    publisher.publish("services")
    assert publisher.status(page["slug"])["status"] == "operational"


def test_a_service_change_that_is_not_a_status_change_renders_nothing(api, page, publisher):
    before = len(publisher.puts)
    reply = api.patch(
        f"/v1/orgs/{page['org_id']}/services/{page['service']['id']}",
        {"name": "renamed"},
        token=page["owner"].access_token,
    )
    assert reply.status == 200, reply.body
    publisher.publish("services")
    assert len(publisher.puts) == before


def test_a_post_and_its_follow_up_are_published(api, page, publisher):
    path = pages(page["org_id"], page["page"]["id"], "posts")
    post = api.post(
        path,
        {"title": "Card payments failing", "status": "investigating", "message": "We are on it."},
        token=page["owner"].access_token,
    ).body
    publisher.publish("status-page-posts")
    assert [p["title"] for p in publisher.status(page["slug"])["posts"]] == ["Card payments failing"]
    assert b"Card payments failing" in publisher.file(page["slug"], "feed.atom")
    api.post(
        f"{path}/{post['id']}/updates",
        {"status": "resolved", "message": "Fixed."},
        token=page["owner"].access_token,
    )
    publisher.publish("status-page-posts")
    assert [p["status"] for p in publisher.status(page["slug"])["posts"]] == ["resolved", "investigating"]


def test_a_maintenance_window_is_published_when_planned_and_when_it_ends(api, page, publisher):
    owner, org_id = page["owner"], page["org_id"]
    window = api.post(
        f"/v1/orgs/{org_id}/maintenance-windows",
        {"title": "Database upgrade", "service_ids": [page["service"]["id"]], "duration_minutes": 30},
        token=owner.access_token,
    ).body
    publisher.publish("maintenance-windows", "services")
    document = publisher.status(page["slug"])
    assert [(m["title"], m["state"]) for m in document["maintenances"]] == [("Database upgrade", "active")]
    assert document["components"][0]["status"] == "under_maintenance"
    ended = api.post(f"/v1/orgs/{org_id}/maintenance-windows/{window['id']}/end", token=owner.access_token)
    assert ended.status == 200, ended.body
    publisher.publish("maintenance-windows", "services")
    document = publisher.status(page["slug"])
    assert document["maintenances"] == []
    assert document["components"][0]["status"] == "operational"


def test_editing_the_page_republishes_it(api, page, publisher):
    reply = api.patch(
        pages(page["org_id"], page["page"]["id"]),
        {"title": "Acme, Inc. status"},
        token=page["owner"].access_token,
    )
    assert reply.status == 200
    publisher.publish("status-pages")
    assert publisher.status(page["slug"])["title"] == "Acme, Inc. status"


def test_a_slug_change_moves_the_files_and_a_deletion_removes_them(api, page, publisher):
    old_slug, new_slug = page["slug"], f"moved-{uuid.uuid4().hex[:10]}"
    path = pages(page["org_id"], page["page"]["id"])
    assert api.patch(path, {"slug": new_slug}, token=page["owner"].access_token).status == 200
    publisher.publish("status-pages")
    assert all(publisher.file(old_slug, name) is None for name in FILE_NAMES)
    assert publisher.status(new_slug)["slug"] == new_slug

    assert api.delete(path, token=page["owner"].access_token).status == 204
    publisher.publish("status-pages", "status-page-posts")
    assert all(publisher.file(new_slug, name) is None for name in FILE_NAMES)


def test_a_freed_slug_taken_by_another_page_keeps_the_new_pages_files(
    api, page, publisher, new_account, new_org
):
    slug = page["slug"]
    assert (
        api.delete(pages(page["org_id"], page["page"]["id"]), token=page["owner"].access_token).status == 204
    )
    other = new_account()
    other_org = new_org(other)["id"]
    taken = api.post(pages(other_org), {"slug": slug, "title": "Someone else"}, token=other.access_token)
    assert taken.status == 201
    publisher.publish("status-pages")
    assert publisher.status(slug)["title"] == "Someone else"


def test_the_five_minute_schedule_republishes_every_page(page, publisher):
    for name in FILE_NAMES:
        publisher.s3.delete_object(Bucket=publisher.bucket, Key=f"status/{page['slug']}/{name}")
    event = scheduled_event(
        rule_arn="arn:aws:events:us-east-1:123456789012:rule/republish",
        region="us-east-1",
        account_id="123456789012",
        fired_at=datetime.now(UTC),
    )
    publisher.app.handler_map["republish_status_pages"](event, None)
    publisher.run(rounds=50)
    assert publisher.status(page["slug"])["slug"] == page["slug"]
    assert all(publisher.file(page["slug"], name) is not None for name in FILE_NAMES)


def test_a_burst_of_twenty_changes_is_one_render(api, page, publisher, monkeypatch):
    import chalicelib.events.status_pages as events

    monkeypatch.setattr(events, "now_seconds", lambda: 1_800_000_000)  # one 5-second slot
    path = pages(page["org_id"], page["page"]["id"], "posts")
    for i in range(20):
        reply = api.post(
            path,
            {"title": f"Update {i}", "status": "monitoring", "message": "Watching."},
            token=page["owner"].access_token,
        )
        assert reply.status == 201
        # each change reaches its consumer in a batch of its own, as separate Lambda invocations would
        assert publisher.deliver("status-page-posts") == 1
    before = publisher.renders_of(page["slug"])
    publisher.run()
    assert publisher.renders_of(page["slug"]) - before == 1
    assert len(publisher.status(page["slug"])["posts"]) == 20


def test_a_failed_upload_is_retried_and_never_fails_the_stream_batch(api, page, publisher):
    failures = []

    def fail_once(params, **_):
        if not failures:
            failures.append(params["Key"])
            raise ConnectionError("S3 is having a moment")

    status_files._s3().meta.events.register("before-parameter-build.s3.PutObject", fail_once)
    try:
        api.post(
            pages(page["org_id"], page["page"]["id"], "posts"),
            {"title": "Retry me", "status": "identified", "message": "Cause found."},
            token=page["owner"].access_token,
        )
        publisher.deliver("status-page-posts")  # asserts the batch reports no failure
        failed = publisher.run()
    finally:
        status_files._s3().meta.events.unregister("before-parameter-build.s3.PutObject", fail_once)
    assert len(failed) == 1 and failures
    assert [p["title"] for p in publisher.status(page["slug"])["posts"]] == ["Retry me"]


def test_a_page_that_keeps_failing_lands_in_the_dead_letter_queue(api, page, publisher):
    def always_fail(params, **_):
        raise ConnectionError("S3 is down")

    publisher.dlq.purge()
    status_files._s3().meta.events.register("before-parameter-build.s3.PutObject", always_fail)
    try:
        api.patch(
            pages(page["org_id"], page["page"]["id"]), {"title": "Doomed"}, token=page["owner"].access_token
        )
        publisher.deliver("status-pages")
        publisher.run(rounds=10)
    finally:
        status_files._s3().meta.events.unregister("before-parameter-build.s3.PutObject", always_fail)
    dead = publisher.dlq.receive()
    assert [json.loads(m["Body"])["page_id"] for m in dead] == [page["page"]["id"]]
    assert publisher.queue.receive() == []


def test_nothing_private_is_published_or_answered(api, page, publisher):
    owner, org_id = page["owner"], page["org_id"]
    incident = api.post(
        f"/v1/orgs/{org_id}/incidents",
        {"title": SECRET_INCIDENT_TITLE, "description": SECRET_URL, "service_id": page["service"]["id"]},
        token=owner.access_token,
    ).body
    api.post(
        pages(org_id, page["page"]["id"], "posts"),
        {
            "title": "Payments are slow",
            "status": "investigating",
            "message": "Some card payments time out.",
            "incident_id": incident["id"],
            "component_ids": [page["page"]["components"][0]["id"]],
        },
        token=owner.access_token,
    )
    set_status(org_id, page["service"]["id"], "down")
    publisher.publish("status-page-posts", "services")
    published = {name: publisher.file(page["slug"], name) for name in FILE_NAMES}
    assert all(published.values())
    answered = {
        suffix: api.get(f"/v1/status/{page['slug']}{suffix}").body
        for suffix in ("", "/summary", "/feed", "/badge")
    }
    texts = [body.decode() for body in published.values()] + [
        body if isinstance(body, str) else json.dumps(body) for body in answered.values()
    ]
    assert "Payments are slow" in texts[0]  # the post itself is public
    for secret in (
        SECRET_URL,
        "zq-secret-backend-4471",
        SECRET_SERVICE_NAME,
        SECRET_INCIDENT_TITLE,
        incident["id"],
        page["service"]["id"],
        owner.email,
        owner.user_id,
    ):
        assert not any(secret in text for text in texts), secret
