"""Email subscribers of status pages on moto: double opt-in through SES, one-click unsubscribe,
notices through the notifications queue (once each, even when a message comes twice), budgets."""

import json
import re
import time
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from chalicelib.adapters import mailer
from chalicelib.domain import subscribers as rules
from chalicelib.domain.clock import iso
from chalicelib.domain.subscribers import maintenance_notice, post_notice
from chalicelib.events.notifications import notification_batch
from chalicelib.events.subscribers import post_notices
from chalicelib.models.subscribers import NoticeBatch
from chalicelib.security.tokens import hash_token
from chalicelib.usecases import maintenance, subscribers
from chalicelib.usecases.notifications import DeliveryFailed
from tests.integration.conftest import TableStream, unique_email

LINK = re.compile(
    r"https?://[^\s\"<>]+/v1/status/[a-z0-9-]+/subscriptions/(confirm|unsubscribe)\?token=[\w-]+"
)


@dataclass
class Page:
    org_id: str
    page_id: str
    slug: str
    title: str
    admin: object
    service_id: str


@pytest.fixture
def status_page(api, new_account, new_org):
    """A status page (one component) of a new org, with its admin."""

    def make(title="Acme Status"):
        admin = new_account()
        org_id = new_org(admin, name="Acme")["id"]
        service = api.post(
            f"/v1/orgs/{org_id}/services",
            {"name": "Checkout", "url": "https://checkout.example.com/health", "enabled": False},
            token=admin.access_token,
        )
        assert service.status == 201, service.body
        slug = f"acme-{uuid.uuid4().hex[:8]}"
        body = {
            "slug": slug,
            "title": title,
            "components": [{"name": "Checkout", "service_id": service.body["id"]}],
        }
        page = api.post(f"/v1/orgs/{org_id}/status-pages", body, token=admin.access_token)
        assert page.status == 201, page.body
        return Page(org_id, page.body["id"], slug, title, admin, service.body["id"])

    return make


@pytest.fixture
def page(status_page):
    return status_page()


@pytest.fixture
def sender(notification_queue):
    notification_queue.purge()
    yield notification_queue
    notification_queue.purge()


def subscribe(api, page, email):
    return api.post(f"/v1/status/{page.slug}/subscribe", {"email": email})


def links(message) -> dict[str, str]:
    found = {}
    for match in LINK.finditer(message.get("text") or message["body"]):
        found.setdefault(match.group(1), match.group(0))
    return found


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def subscribed(api, mailbox, page, email=None) -> str:
    """A confirmed subscriber's address."""
    email = email or unique_email("fan")
    assert subscribe(api, page, email).status == 202
    confirm = links(mailbox.messages_to(email)[-1])["confirm"]
    assert api.get(path_of(confirm)).status == 200
    return email


def notices_to(mailbox, email, page):
    return [m for m in mailbox.messages_to(email) if m["subject"].startswith(f"[{page.title}]")]


def counts(api, page, token=None):
    return api.get(
        f"/v1/orgs/{page.org_id}/status-pages/{page.page_id}/subscribers",
        token=token or page.admin.access_token,
    )


# ---- subscribe and confirm ----------------------------------------------------------------------


def test_subscribing_emails_a_confirm_link_that_confirms(api, mailbox, page):
    email = unique_email("fan")
    reply = subscribe(api, page, email)
    assert reply.status == 202
    assert reply.body["status"] == "accepted"

    [message] = mailbox.messages_to(email)
    assert message["subject"] == f"Confirm your subscription to {page.title}"
    assert message["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    found = links(message)
    assert set(found) == {"confirm", "unsubscribe"}
    assert counts(api, page).body == {"count": 1, "confirmed": 0, "pending": 1}

    confirmed = api.get(path_of(found["confirm"]))
    assert confirmed.status == 200
    assert confirmed.headers["content-type"].startswith("text/html")
    assert "Subscription confirmed" in confirmed.body
    assert counts(api, page).body == {"count": 1, "confirmed": 1, "pending": 0}
    # Opening the link again (a mail scanner, a second click) changes nothing and still says so.
    again = api.get(path_of(found["confirm"]))
    assert again.status == 200 and "Subscription confirmed" in again.body
    assert counts(api, page).body == {"count": 1, "confirmed": 1, "pending": 0}


def test_the_answer_is_the_same_for_new_pending_and_confirmed_addresses(api, mailbox, page):
    confirmed = subscribed(api, mailbox, page)
    pending = unique_email("pending")
    subscribe(api, page, pending)
    replies = [subscribe(api, page, email) for email in (unique_email("new"), pending, confirmed)]
    assert {r.status for r in replies} == {202}
    assert all(r.body == replies[0].body for r in replies)
    # The confirmed address learns it is subscribed already; it is not asked to confirm again.
    assert mailbox.messages_to(confirmed)[-1]["subject"] == f"You are subscribed to {page.title}"


def test_a_bad_email_or_an_unknown_page_is_refused(api, page):
    bad = subscribe(api, page, "not-an-address")
    assert bad.status == 400
    assert bad.message.startswith("email:")
    missing = api.post("/v1/status/no-such-page-here/subscribe", {"email": unique_email()})
    assert missing.status == 404


def test_unknown_used_or_missing_tokens_answer_a_page_not_a_500(api, page):
    unknown = api.get(f"/v1/status/{page.slug}/subscriptions/confirm?token=" + "x" * 43)
    assert unknown.status == 404 and unknown.headers["content-type"].startswith("text/html")
    assert api.get(f"/v1/status/{page.slug}/subscriptions/confirm").status == 400
    assert api.post(f"/v1/status/{page.slug}/subscriptions/unsubscribe?token=nope").status == 404


def test_tokens_are_stored_only_as_sha256(api, mailbox, page):
    email = unique_email("fan")
    subscribe(api, page, email)
    found = links(mailbox.messages_to(email)[-1])
    table = boto3.resource("dynamodb", region_name="us-east-1").Table("vigil-test-subscribers")
    items = table.scan()["Items"]
    stored = repr(items)
    for url in found.values():
        token = token_of(url)
        assert token not in stored
        assert len(token) >= 43  # 256 bits, URL-safe base64
        assert f"_token:{hash_token(token)}" in stored


# ---- budgets ------------------------------------------------------------------------------------


def test_one_address_gets_at_most_five_subscription_emails_an_hour(api, mailbox, page, status_page):
    email = unique_email("bombed")
    for _ in range(rules.EMAILS_PER_ADDRESS_PER_HOUR):
        assert subscribe(api, page, email).status == 202
    refused = subscribe(api, page, email)
    assert refused.status == 429
    assert refused.message.startswith("email: at most 5 subscription emails an hour")
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    # Across pages too: the budget is the inbox's.
    assert subscribe(api, status_page(title="Other"), email).status == 429
    assert len(mailbox.messages_to(email)) == rules.EMAILS_PER_ADDRESS_PER_HOUR


def test_one_page_sends_a_bounded_number_of_subscription_emails_an_hour(api, page, monkeypatch):
    monkeypatch.setattr(rules, "EMAILS_PER_PAGE_PER_HOUR", 3)
    for _ in range(3):
        assert subscribe(api, page, unique_email("crowd")).status == 202
    refused = subscribe(api, page, unique_email("crowd"))
    assert refused.status == 429
    assert "at most 3 subscription emails an hour for this status page" in refused.message
    assert int(refused.headers["retry-after"]) > 0


# ---- notices ------------------------------------------------------------------------------------


def announce_post(page, *, post_id=None, title="Elevated error rates", version=1):
    notice = post_notice(
        post_id=post_id or uuid.uuid4().hex,
        version=version,
        title=title,
        status="investigating",
        message="We are looking into it.",
    )
    return subscribers.announce(page.org_id, page.page_id, notice)


def test_a_notice_reaches_each_confirmed_subscriber_once_with_unsubscribe_headers(api, mailbox, page, sender):
    fans = [subscribed(api, mailbox, page) for _ in range(2)]
    pending = unique_email("pending")
    subscribe(api, page, pending)

    assert announce_post(page, post_id="post-1") == 2
    handled = sender.drain(notification_batch, rounds=3)
    assert handled, "the notice was not queued"
    # SQS delivers at least once: the same message again sends nothing.
    for event in handled:
        assert notification_batch(event, None) == {"batchItemFailures": []}
    # A replayed announce (a stream record handled twice) queues nothing new.
    assert announce_post(page, post_id="post-1") == 0
    sender.run_sender()

    for fan in fans:
        [notice] = notices_to(mailbox, fan, page)
        assert notice["subject"] == f"[{page.title}] Investigating: Elevated error rates"
        assert "We are looking into it." in notice["text"]
        unsubscribe = links(notice)["unsubscribe"]
        assert notice["headers"]["List-Unsubscribe"] == f"<{unsubscribe}>"
        assert notice["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert notices_to(mailbox, pending, page) == []


def test_a_later_version_of_a_post_is_a_new_notice(api, mailbox, page, sender):
    fan = subscribed(api, mailbox, page)
    announce_post(page, post_id="post-2", version=1)
    announce_post(page, post_id="post-2", version=2, title="Fixed")
    sender.run_sender()
    assert len(notices_to(mailbox, fan, page)) == 2


def test_maintenance_notices_say_when(api, mailbox, page, sender):
    fan = subscribed(api, mailbox, page)
    notice = maintenance_notice(
        window_id="w1",
        title="Database upgrade",
        starts_at=1_800_000_000,
        ends_at=1_800_003_600,
        started=False,
    )
    subscribers.announce(page.org_id, page.page_id, notice)
    sender.run_sender()
    [email] = notices_to(mailbox, fan, page)
    assert email["subject"] == f"[{page.title}] Maintenance scheduled: Database upgrade"
    assert "From 2027-01-15 08:00 UTC to 2027-01-15 09:00 UTC." in email["text"]


def test_one_click_unsubscribe_stops_the_next_notice(api, mailbox, page, sender):
    fan = subscribed(api, mailbox, page)
    announce_post(page)
    sender.run_sender()
    [notice] = notices_to(mailbox, fan, page)
    unsubscribe = path_of(links(notice)["unsubscribe"])

    shown = api.get(unsubscribe)  # a GET (a mail scanner) only shows the button
    assert shown.status == 200 and "<button" in shown.body
    assert counts(api, page).body["confirmed"] == 1

    one_click = {"content-type": "application/x-www-form-urlencoded"}
    done = api.call("POST", unsubscribe, raw="List-Unsubscribe=One-Click", headers=one_click)
    assert done.status == 200 and "Unsubscribed" in done.body
    assert api.call("POST", unsubscribe, raw="List-Unsubscribe=One-Click", headers=one_click).status == 200
    assert "Unsubscribed" in api.get(unsubscribe).body
    assert counts(api, page).body == {"count": 0, "confirmed": 0, "pending": 0}

    announce_post(page, title="Second")
    sender.run_sender()
    assert len(notices_to(mailbox, fan, page)) == 1


def test_an_unsubscribe_between_queueing_and_sending_is_honoured(api, mailbox, page, sender):
    fan = subscribed(api, mailbox, page)
    unsubscribe = path_of(links(mailbox.messages_to(fan)[0])["unsubscribe"])
    announce_post(page)
    assert api.post(unsubscribe, raw="List-Unsubscribe=One-Click").status == 200
    sender.run_sender()
    assert notices_to(mailbox, fan, page) == []


def test_resubscribing_starts_a_new_subscription_that_old_links_do_not_end(api, mailbox, page):
    fan = subscribed(api, mailbox, page)
    old_unsubscribe = path_of(links(mailbox.messages_to(fan)[0])["unsubscribe"])
    assert api.post(old_unsubscribe).status == 200
    subscribed(api, mailbox, page, fan)
    assert api.post(old_unsubscribe).status == 200
    assert counts(api, page).body["confirmed"] == 1


# ---- the count ----------------------------------------------------------------------------------


def test_only_the_pages_org_admins_read_the_count(api, mailbox, page, new_account, new_org):
    stranger = new_account()
    new_org(stranger, name="Elsewhere")
    assert counts(api, page, token=stranger.access_token).status == 404
    foreign_page = api.get(
        f"/v1/orgs/{page.org_id}/status-pages/{uuid.uuid4().hex[:26]}/subscribers",
        token=page.admin.access_token,
    )
    assert foreign_page.status == 404


# ---- wired: posts and maintenance windows tell subscribers --------------------------------------


@pytest.fixture
def post_stream(stack):
    """The posts table's stream, handed to the subscribers' consumer as Lambda would."""
    stream = TableStream(stack.stream_arns["vigil-test-status-page-posts"])

    def deliver(records=None):
        records = stream.new_records() if records is None else records
        assert post_notices({"Records": records}, None) == {"batchItemFailures": []}
        return records

    return deliver


def test_a_post_and_its_update_reach_subscribers_with_nothing_private(
    api, mailbox, page, sender, post_stream
):
    fan = subscribed(api, mailbox, page)
    token = page.admin.access_token
    incident = api.post(
        f"/v1/orgs/{page.org_id}/incidents",
        {"title": "Primary DB OOM on db-7.internal", "service_id": page.service_id},
        token=token,
    )
    assert incident.status == 201, incident.body
    posts = f"/v1/orgs/{page.org_id}/status-pages/{page.page_id}/posts"
    post = api.post(
        posts,
        {
            "title": "Checkout is slow",
            "status": "investigating",
            "message": "Some payments take minutes.",
            "incident_id": incident.body["id"],
        },
        token=token,
    )
    assert post.status == 201, post.body
    update = api.post(
        f"{posts}/{post.body['id']}/updates", {"status": "resolved", "message": "All good now."}, token=token
    )
    assert update.status == 201, update.body
    records = post_stream()
    assert len(records) == 2
    sender.run_sender()
    post_stream(records)  # the stream hands the records over again (a retried batch)
    sender.run_sender()

    notices = notices_to(mailbox, fan, page)
    assert [n["subject"] for n in notices] == [
        f"[{page.title}] Investigating: Checkout is slow",
        f"[{page.title}] Resolved: Checkout is slow",
    ]
    for notice in notices:
        for private in ("db-7.internal", "Primary DB OOM", "checkout.example.com", page.admin.email):
            assert private not in notice["text"] and private not in notice["body"]


def test_a_maintenance_window_is_told_when_scheduled_and_when_it_starts(api, mailbox, page, sender):
    fan = subscribed(api, mailbox, page)
    starts = int(time.time()) + 3600
    window = api.post(
        f"/v1/orgs/{page.org_id}/maintenance-windows",
        {
            "title": "Database upgrade",
            "service_ids": [page.service_id],
            "starts_at": iso(starts),
            "duration_minutes": 30,
        },
        token=page.admin.access_token,
    )
    assert window.status == 201, window.body
    sender.run_sender()
    assert [n["subject"] for n in notices_to(mailbox, fan, page)] == [
        f"[{page.title}] Maintenance scheduled: Database upgrade"
    ]

    maintenance.sweep_due(now=starts + 5)
    maintenance.sweep_due(now=starts + 10)  # nothing due again: nothing told again
    sender.run_sender()
    subjects = [n["subject"] for n in notices_to(mailbox, fan, page)]
    assert subjects[1:] == [f"[{page.title}] Maintenance started: Database upgrade"]


def test_a_window_on_services_the_page_does_not_show_is_not_told(api, mailbox, page, sender):
    fan = subscribed(api, mailbox, page)
    other = api.post(
        f"/v1/orgs/{page.org_id}/services",
        {"name": "Internal", "url": "https://internal.example.com/", "enabled": False},
        token=page.admin.access_token,
    )
    api.post(
        f"/v1/orgs/{page.org_id}/maintenance-windows",
        {"title": "Quiet", "service_ids": [other.body["id"]], "duration_minutes": 30},
        token=page.admin.access_token,
    )
    sender.run_sender()
    assert notices_to(mailbox, fan, page) == []


def test_deleting_a_page_forgets_its_subscribers(api, mailbox, page):
    fan = subscribed(api, mailbox, page)
    unsubscribe = path_of(links(mailbox.messages_to(fan)[0])["unsubscribe"])
    deleted = api.delete(f"/v1/orgs/{page.org_id}/status-pages/{page.page_id}", token=page.admin.access_token)
    assert deleted.status == 204
    table = boto3.resource("dynamodb", region_name="us-east-1").Table("vigil-test-subscribers")
    assert (
        table.query(KeyConditionExpression=Key("page_key").eq(f"{page.org_id}#{page.page_id}"))["Items"] == []
    )
    assert api.get(unsubscribe).status == 404


def test_a_send_that_fails_midway_resumes_without_repeating_anyone(api, mailbox, page, sender, monkeypatch):
    fans = [subscribed(api, mailbox, page) for _ in range(3)]
    announce_post(page, title="Partial")
    [message] = sender.receive()
    key = json.loads(message["Body"])
    send, calls = mailer.send_email, []

    def throttled_once(email_message):
        calls.append(email_message.to)
        if len(calls) == 2:
            raise ClientError(
                {"Error": {"Code": "Throttling", "Message": "Maximum sending rate exceeded."}}, "x"
            )
        return send(email_message)

    monkeypatch.setattr(mailer, "send_email", throttled_once)
    with pytest.raises(DeliveryFailed, match="Throttling"):
        subscribers.deliver_notice_batch(
            key["page_key"], key["notice_batch"], receive_count=1, max_receives=5
        )
    subscribers.deliver_notice_batch(key["page_key"], key["notice_batch"], receive_count=2, max_receives=5)
    assert [len(notices_to(mailbox, fan, page)) for fan in fans] == [1, 1, 1]


def test_a_batch_that_keeps_failing_is_marked_failed_on_the_last_receive(
    api, mailbox, page, sender, monkeypatch
):
    subscribed(api, mailbox, page)
    announce_post(page, title="Never")
    [message] = sender.receive()
    key = json.loads(message["Body"])

    def refused(email_message):
        raise ClientError({"Error": {"Code": "MessageRejected", "Message": "Sending paused."}}, "x")

    monkeypatch.setattr(mailer, "send_email", refused)
    subscribers.deliver_notice_batch(key["page_key"], key["notice_batch"], receive_count=5, max_receives=5)
    batch = NoticeBatch.get(key["page_key"], key["notice_batch"])
    assert (batch.status, batch.error) == ("failed", "ses: MessageRejected: Sending paused.")


def test_an_unconfirmed_subscription_is_forgotten_with_its_links(api, mailbox, page, monkeypatch):
    pending, confirmed = unique_email("pending"), subscribed(api, mailbox, page)
    subscribe(api, page, pending)
    found = links(mailbox.messages_to(pending)[-1])
    kept = links(mailbox.messages_to(confirmed)[0])["unsubscribe"]
    table = boto3.resource("dynamodb", region_name="us-east-1").Table("vigil-test-subscribers")

    def lookup(url):
        return table.get_item(Key={"page_key": f"_token:{hash_token(token_of(url))}", "item_key": "token"})[
            "Item"
        ]

    assert "expires_at" in lookup(found["unsubscribe"])  # TTL removes it with the pending subscription
    assert "expires_at" not in lookup(kept)  # a confirmed subscription's link lasts as long as it does

    week_later = int(time.time()) + rules.CONFIRM_TOKEN_TTL_SECONDS + 1
    monkeypatch.setattr(subscribers, "now_seconds", lambda: week_later)
    assert api.get(path_of(found["confirm"])).status == 404
    assert api.get(path_of(found["unsubscribe"])).status == 404
    assert counts(api, page).body == {"count": 1, "confirmed": 1, "pending": 0}
    assert subscribe(api, page, pending).status == 202  # asking again starts afresh
    assert counts(api, page).body == {"count": 2, "confirmed": 1, "pending": 1}


def test_asking_again_keeps_a_pending_subscription_as_long_as_its_newest_link(
    api, mailbox, page, monkeypatch
):
    pending, day = unique_email("slow"), 86400
    start = int(time.time())
    monkeypatch.setattr(subscribers, "now_seconds", lambda: start)
    subscribe(api, page, pending)
    monkeypatch.setattr(subscribers, "now_seconds", lambda: start + 6 * day)
    subscribe(api, page, pending)
    newest = links(mailbox.messages_to(pending)[-1])["confirm"]
    monkeypatch.setattr(subscribers, "now_seconds", lambda: start + 11 * day)
    assert api.get(path_of(newest)).status == 200
    assert counts(api, page).body == {"count": 1, "confirmed": 1, "pending": 0}
