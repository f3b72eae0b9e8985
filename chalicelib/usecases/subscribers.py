"""Email subscribers of status pages: subscribe (double opt-in), confirm, unsubscribe, and notices.

- ``subscribe`` answers the same whatever the address's state (new, pending, confirmed), so it tells
  nobody who is subscribed; each request emails the address once (a confirmation link, or "you are
  subscribed already") within two hourly budgets, per address and per page (429 beyond them).
- Links carry 256-bit tokens stored only as SHA-256. The confirm token is random and expires with the
  pending subscription; the unsubscribe token is derived from the subscription id with the server
  secret (``derived_token``), so every notice can repeat it without a stored copy.
- ``announce`` writes a notice's recipients in batches (one queue message each) on the notifications
  queue; ``deliver_notice_batch`` sends a batch. Keys make both safe to repeat: a batch is created
  with ``attribute_not_exists`` on (page, notice id, batch number) and remembers whom it emailed, so
  a replayed notice or a redelivered message emails nobody twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError

from chalicelib.adapters import mailer, notification_queue
from chalicelib.adapters.notification_queue import NoticeBatchKey
from chalicelib.adapters.secrets import jwt_secret
from chalicelib.domain import subscribers as rules
from chalicelib.domain.accounts import normalize_email
from chalicelib.domain.clock import now_seconds
from chalicelib.domain.errors import InvalidInput, NotFound, Throttled
from chalicelib.domain.ids import new_id
from chalicelib.domain.messages import EmailMessage
from chalicelib.domain.subscribers import Notice, NoticeKind, PageLinks, SubscriberStatus
from chalicelib.models.auth import WindowCounter
from chalicelib.models.notifications import FAILED, QUEUED, SENT
from chalicelib.models.status_pages import LISTED, StatusPage, StatusPost
from chalicelib.models.subscribers import (
    CONFIRM,
    SUBSCRIBER_PREFIX,
    UNSUBSCRIBE,
    NoticeBatch,
    Recipient,
    Subscriber,
    SubscriptionToken,
    page_key,
)
from chalicelib.security.tokens import derived_token, hash_token, new_opaque_token
from chalicelib.settings import settings
from chalicelib.usecases.dynamo import condition_failed
from chalicelib.usecases.notifications import (
    CLAIM_SECONDS,
    DeliveryFailed,
    DeliveryInProgress,
    NotificationNotFound,
)
from chalicelib.usecases.window_counts import count_in_window, seconds_left_in_window

logger = Logger(service="vigil", child=True, level=settings.log_level)

_PERMANENT_SES_ERRORS = frozenset({"InvalidParameter", "InvalidParameterValue"})
_MAX_ERROR_CHARS = 500


# ---- the page a subscription belongs to ---------------------------------------------------------


@dataclass(frozen=True)
class PageRef:
    """What subscriptions need of a status page: where it is, what it is called."""

    org_id: str
    page_id: str
    slug: str
    title: str

    @property
    def key(self) -> str:
        return page_key(self.org_id, self.page_id)


# The page lookups read the status pages' table directly, not through usecases.status_pages: that
# module forgets a deleted page's subscribers (it imports this one).


def _ref(page: StatusPage) -> PageRef:
    return PageRef(org_id=page.org_id, page_id=page.page_id, slug=page.slug, title=page.title)


def page_by_slug(slug: str) -> PageRef:
    """The page a public route names (the by-slug index, as the public status routes read it); 404
    for an unknown slug."""
    for page in StatusPage.by_slug.query(LISTED, StatusPage.slug == slug, limit=1):
        return _ref(page)
    raise NotFound("status page not found")


def page_in_org(org_id: str, page_id: str) -> PageRef:
    """An org's page; 404 when it has no such page."""
    try:
        return _ref(StatusPage.get(org_id, page_id, consistent_read=True))
    except DoesNotExist as exc:
        raise NotFound("status page not found") from exc


def _page_of_key(key: str) -> PageRef | None:
    org_id, _, page_id = key.partition("#")
    try:
        return page_in_org(org_id, page_id)
    except NotFound:
        return None


def _links(page: PageRef, subscription_id: str) -> PageLinks:
    return PageLinks(
        page_title=page.title,
        page_url=rules.page_url(settings.public_url, page.slug),
        unsubscribe_url=rules.subscription_link(
            settings.public_url, page.slug, UNSUBSCRIBE, unsubscribe_token(subscription_id)
        ),
    )


def unsubscribe_token(subscription_id: str) -> str:
    return derived_token(UNSUBSCRIBE, subscription_id, secret=jwt_secret())


# ---- subscribe ----------------------------------------------------------------------------------


def subscribe(slug: str, email: str) -> None:
    """Email the address a confirmation link (or, when it is confirmed already, a note saying so).

    Raises InvalidInput (``email``), NotFound (the slug), Throttled (a budget is spent)."""
    email = normalize_email(email)
    page = page_by_slug(slug)
    now = now_seconds()
    # Counted before anything is looked up, for every request alike: a 429 tells nothing either.
    _spend(
        WindowCounter.subscription_emails_key(email),
        limit=rules.EMAILS_PER_ADDRESS_PER_HOUR,
        now=now,
        refusal=f"email: at most {rules.EMAILS_PER_ADDRESS_PER_HOUR} subscription emails an hour "
        "to one address; try again later",
    )
    _spend(
        WindowCounter.page_subscription_emails_key(page.org_id, page.page_id),
        limit=rules.EMAILS_PER_PAGE_PER_HOUR,
        now=now,
        refusal=f"at most {rules.EMAILS_PER_PAGE_PER_HOUR} subscription emails an hour for this status "
        "page; try again later",
    )
    subscriber = _current_subscriber(page.key, email, now=now)
    if subscriber is not None and subscriber.status == SubscriberStatus.CONFIRMED:
        message = rules.already_subscribed_email(email, links=_links(page, subscriber.subscription_id))
        _send_now(message, what="already subscribed")
        return
    if subscriber is None:
        subscriber = _start_subscription(page, email, now=now)
    else:
        _extend_pending(subscriber, now=now)
    confirm = new_opaque_token()
    SubscriptionToken(
        SubscriptionToken.key(hash_token(confirm)),
        purpose=CONFIRM,
        target_page_key=page.key,
        email=email,
        subscription_id=subscriber.subscription_id,
        expires_at=now + rules.CONFIRM_TOKEN_TTL_SECONDS,
    ).save()
    message = rules.confirmation_email(
        email,
        links=_links(page, subscriber.subscription_id),
        confirm_url=rules.subscription_link(settings.public_url, page.slug, CONFIRM, confirm),
        days=rules.CONFIRM_TOKEN_TTL_SECONDS // 86400,
    )
    _send_now(message, what="confirmation link")


def _spend(key: str, *, limit: int, now: int, refusal: str) -> None:
    if not count_in_window(key, limit=limit, window_seconds=rules.HOUR, now=now):
        raise Throttled(refusal, retry_after_seconds=seconds_left_in_window(key, now=now))


def _current_subscriber(key: str, email: str, *, now: int) -> Subscriber | None:
    """The address's subscription to the page, unless it is a pending one whose link expired."""
    try:
        subscriber = Subscriber.get(key, Subscriber.key(email), consistent_read=True)
    except DoesNotExist:
        return None
    if subscriber.expires_at is not None and int(subscriber.expires_at) <= now:
        return None  # TTL removes it soon; it counts as never asked
    return subscriber


def _start_subscription(page: PageRef, email: str, *, now: int) -> Subscriber:
    subscriber = Subscriber(
        page.key,
        Subscriber.key(email),
        org_id=page.org_id,
        page_id=page.page_id,
        email=email,
        subscription_id=new_id(),
        status=SubscriberStatus.PENDING.value,
        created_at=now,
        expires_at=now + rules.CONFIRM_TOKEN_TTL_SECONDS,
    )
    try:
        subscriber.save(
            condition=Subscriber.item_key.does_not_exist()
            | ((Subscriber.status == SubscriberStatus.PENDING.value) & (Subscriber.expires_at <= now))
        )
    except PutError as exc:
        if not condition_failed(exc):
            raise
        # A concurrent request for the same address got there first: send its subscription's link.
        found = _current_subscriber(page.key, email, now=now)
        if found is None:
            raise
        return found
    SubscriptionToken(
        _unsubscribe_key(subscriber.subscription_id),
        purpose=UNSUBSCRIBE,
        target_page_key=page.key,
        email=email,
        subscription_id=subscriber.subscription_id,
        expires_at=subscriber.expires_at,  # goes with the pending subscription, unless it is confirmed
    ).save()
    return subscriber


def _extend_pending(subscriber: Subscriber, *, now: int) -> None:
    """A pending subscription asked for again lasts as long as its newest confirm link."""
    expires_at = now + rules.CONFIRM_TOKEN_TTL_SECONDS
    try:
        subscriber.update(
            actions=[Subscriber.expires_at.set(expires_at)],
            condition=(Subscriber.subscription_id == subscriber.subscription_id)
            & (Subscriber.status == SubscriberStatus.PENDING.value),
        )
        SubscriptionToken(_unsubscribe_key(subscriber.subscription_id), "token").update(
            actions=[SubscriptionToken.expires_at.set(expires_at)],
            condition=SubscriptionToken.expires_at.exists(),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise  # else confirmed or unsubscribed meanwhile: the new link finds out


def _unsubscribe_key(subscription_id: str) -> str:
    return SubscriptionToken.key(hash_token(unsubscribe_token(subscription_id)))


def _send_now(message: EmailMessage, *, what: str) -> None:
    """Sent inline, as account emails are; a failure is logged and the person can ask again."""
    try:
        mailer.send_email(message)
    except (BotoCoreError, ClientError):
        logger.exception("could not send a subscription email", extra={"what": what})


# ---- confirm and unsubscribe --------------------------------------------------------------------


@dataclass(frozen=True)
class LinkOutcome:
    page_title: str
    page_url: str
    subscribed: bool  # after the link did its work (or, for an unsubscribe page, before the POST)


_INVALID_LINK = "this link is not valid, or it has expired"


def _token(token: str | None, purpose: str, *, now: int) -> SubscriptionToken:
    if not token:
        raise InvalidInput("is required", field="token")
    if len(token) > rules.TOKEN_MAX_CHARS:
        raise InvalidInput(f"must be at most {rules.TOKEN_MAX_CHARS} characters", field="token")
    try:
        found = SubscriptionToken.get(SubscriptionToken.key(hash_token(token)), "token", consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(_INVALID_LINK, field="token") from exc
    if found.purpose != purpose or (found.expires_at is not None and int(found.expires_at) <= now):
        raise NotFound(_INVALID_LINK, field="token")
    return found


def _outcome(key: str, *, subscribed: bool) -> LinkOutcome:
    page = _page_of_key(key)
    if page is None:
        return LinkOutcome(page_title="this status page", page_url="", subscribed=subscribed)
    return LinkOutcome(
        page_title=page.title, page_url=rules.page_url(settings.public_url, page.slug), subscribed=subscribed
    )


def confirm(token: str | None) -> LinkOutcome:
    """Confirm the subscription of a confirm link; opening the link again changes nothing."""
    now = now_seconds()
    link = _token(token, CONFIRM, now=now)
    if _page_of_key(link.target_page_key) is None:
        raise NotFound(_INVALID_LINK, field="token")
    same_subscription = Subscriber.subscription_id == link.subscription_id
    try:
        Subscriber(link.target_page_key, Subscriber.key(link.email)).update(
            actions=[
                Subscriber.status.set(SubscriberStatus.CONFIRMED.value),
                Subscriber.confirmed_at.set(now),
                Subscriber.expires_at.remove(),
            ],
            condition=same_subscription & (Subscriber.status == SubscriberStatus.PENDING.value),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        current = _current_subscriber(link.target_page_key, link.email, now=now)
        if current is None or current.subscription_id != link.subscription_id:
            raise NotFound(_INVALID_LINK, field="token") from exc  # unsubscribed since
        return _outcome(link.target_page_key, subscribed=True)  # confirmed already
    _keep_unsubscribe_link(link)
    logger.info("status page subscription confirmed", extra={"page_key": link.target_page_key})
    return _outcome(link.target_page_key, subscribed=True)


def _keep_unsubscribe_link(confirmed: SubscriptionToken) -> None:
    """The unsubscribe link of a confirmed subscription lasts as long as the subscription (written
    again if the request that subscribed died before writing it)."""
    key = _unsubscribe_key(confirmed.subscription_id)
    try:
        SubscriptionToken(key, "token").update(
            actions=[SubscriptionToken.expires_at.remove()], condition=SubscriptionToken.page_key.exists()
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        SubscriptionToken(
            key,
            purpose=UNSUBSCRIBE,
            target_page_key=confirmed.target_page_key,
            email=confirmed.email,
            subscription_id=confirmed.subscription_id,
        ).save()


def unsubscribe(token: str | None, *, perform: bool) -> LinkOutcome:
    """With ``perform``, end the subscription of an unsubscribe link (repeating it is harmless);
    without, say whether it is still subscribed (the page a GET shows, with its button)."""
    now = now_seconds()
    link = _token(token, UNSUBSCRIBE, now=now)
    current = _current_subscriber(link.target_page_key, link.email, now=now)
    subscribed = current is not None and current.subscription_id == link.subscription_id
    if not perform:
        return _outcome(link.target_page_key, subscribed=subscribed)
    try:
        Subscriber(link.target_page_key, Subscriber.key(link.email)).delete(
            condition=Subscriber.subscription_id == link.subscription_id
        )
    except DeleteError as exc:
        if not condition_failed(exc):  # gone already, or a later subscription of the address
            raise
    if link.expires_at is None:
        # The link keeps answering "unsubscribed" for a while (mail clients repeat the POST), then goes.
        link.update(actions=[SubscriptionToken.expires_at.set(now + rules.UNSUBSCRIBED_LINK_TTL_SECONDS)])
    if subscribed:
        logger.info("status page subscription ended", extra={"page_key": link.target_page_key})
    return _outcome(link.target_page_key, subscribed=False)


# ---- what admins see ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriberCounts:
    confirmed: int
    pending: int

    @property
    def count(self) -> int:
        return self.confirmed + self.pending


def subscriber_counts(org_id: str, page_id: str) -> SubscriberCounts:
    page = page_in_org(org_id, page_id)
    now = now_seconds()
    confirmed = pending = 0
    for subscriber in _subscribers(page.key):
        if subscriber.status == SubscriberStatus.CONFIRMED:
            confirmed += 1
        elif subscriber.expires_at is None or int(subscriber.expires_at) > now:
            pending += 1
    return SubscriberCounts(confirmed=confirmed, pending=pending)


def _subscribers(key: str, *, confirmed_only: bool = False) -> Iterable[Subscriber]:
    return Subscriber.query(
        key,
        Subscriber.item_key.startswith(SUBSCRIBER_PREFIX),
        filter_condition=(Subscriber.status == SubscriberStatus.CONFIRMED.value) if confirmed_only else None,
        attributes_to_get=["page_key", "item_key", "email", "subscription_id", "status", "expires_at"],
        consistent_read=True,
    )


def forget_page(org_id: str, page_id: str) -> int:
    """Remove a deleted page's subscribers and their unsubscribe links; returns how many. (Confirm
    links expire by themselves; they answer 404 once the page is gone.)"""
    removed = 0
    with Subscriber.batch_write() as batch:
        for subscriber in _subscribers(page_key(org_id, page_id)):
            batch.delete(SubscriptionToken(_unsubscribe_key(str(subscriber.subscription_id)), "token"))
            batch.delete(subscriber)
            removed += 1
    return removed


# ---- notices ------------------------------------------------------------------------------------


def notice_to_dict(notice: Notice) -> dict[str, Any]:
    values = {
        "notice_id": notice.notice_id,
        "kind": notice.kind.value,
        "title": notice.title,
        "message": notice.message,
        "status": notice.status,
        "starts_at": notice.starts_at,
        "ends_at": notice.ends_at,
    }
    return {k: v for k, v in values.items() if v is not None}


def notice_from_dict(values: dict[str, Any]) -> Notice:
    def number(name: str) -> int | None:
        return int(values[name]) if values.get(name) is not None else None

    return Notice(
        notice_id=str(values["notice_id"]),
        kind=NoticeKind(values["kind"]),
        title=str(values.get("title") or ""),
        message=str(values.get("message") or ""),
        status=values.get("status"),
        starts_at=number("starts_at"),
        ends_at=number("ends_at"),
    )


def announce_post(org_id: str, page_id: str, *, post_id: str, title: str, status: str, message: str) -> int:
    """A post created (posts never change: a follow-up is a post of its own, so each is version 1)."""
    notice = rules.post_notice(post_id=post_id, version=1, title=title, status=status, message=message)
    return announce(org_id, page_id, notice)


def announce_new_post(image: dict[str, Any]) -> int:
    """A post's stream record (its new image, DynamoDB JSON): its notice."""
    post = StatusPost.from_raw_data(image)
    return announce_post(
        post.org_id,
        post.page_id,
        post_id=post.post_id,
        title=post.title,
        status=post.status,
        message=post.message,
    )


def announce_maintenance(
    org_id: str,
    *,
    window_id: str,
    title: str,
    service_ids: frozenset[str],
    starts_at: int,
    ends_at: int,
    started: bool,
) -> int:
    """A maintenance occurrence scheduled or starting: told on every page of the org that shows a
    service it covers (``service_ids`` empty: every service). Returns the subscribers named."""
    named = 0
    for page in StatusPage.query(org_id):
        shown = {c.service_id for c in page.components or []}
        if not shown or (service_ids and not shown & service_ids):
            continue
        notice = rules.maintenance_notice(
            window_id=window_id, title=title, starts_at=starts_at, ends_at=ends_at, started=started
        )
        named += announce(org_id, page.page_id, notice)
    return named


def announce(org_id: str, page_id: str, notice: Notice) -> int:
    """Email ``notice`` to every confirmed subscriber of the page, through the notifications queue:
    one message per batch of subscribers. Safe to repeat (see the module's docstring). Returns how
    many subscribers the batches it queued name."""
    try:
        page = page_in_org(org_id, page_id)
    except NotFound:
        return 0  # deleted since: nobody to tell
    now = now_seconds()
    recipients = sorted(
        (s for s in _subscribers(page.key, confirmed_only=True)),
        key=lambda s: str(s.email),
    )
    queued: list[NoticeBatchKey] = []
    named = 0
    notice_values = notice_to_dict(notice)
    for number, chunk in enumerate(rules.batches(recipients)):
        batch = NoticeBatch(
            page.key,
            NoticeBatch.key(notice.notice_id, number),
            org_id=org_id,
            page_id=page_id,
            page_title=page.title,
            page_slug=page.slug,
            notice=notice_values,
            recipients=[Recipient(email=s.email, subscription_id=s.subscription_id) for s in chunk],
            status=QUEUED,
            attempts=0,
            created_at=now,
            version=0,
            expires_at=now + rules.NOTICE_RECORD_TTL_SECONDS,
        )
        if _create(batch):
            queued.append(NoticeBatchKey(page.key, batch.item_key))
            named += len(chunk)
        elif _never_picked_up(page.key, batch.item_key):
            # The call that wrote it may have died before queueing it; a second message is harmless.
            queued.append(NoticeBatchKey(page.key, batch.item_key))
    notification_queue.send(queued)
    if queued:
        logger.info(
            "status page notice queued",
            extra={"page_key": page.key, "notice_id": notice.notice_id, "batches": len(queued)},
        )
    return named


def _create(batch: NoticeBatch) -> bool:
    try:
        batch.save(condition=NoticeBatch.item_key.does_not_exist())
    except PutError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def _never_picked_up(key: str, item_key: str) -> bool:
    try:
        existing = NoticeBatch.get(key, item_key, consistent_read=True)
    except DoesNotExist:
        return False
    return existing.status == QUEUED and not existing.attempts and existing.claimed_until is None


def deliver_notice_batch(key: str, item_key: str, *, receive_count: int, max_receives: int) -> None:
    """Email a batch's recipients who are still subscribed and were not emailed yet. Safe to repeat.

    Raises DeliveryFailed when a send failed and another receive is due; on the last one the batch
    is marked ``failed`` with the error (whoever was emailed stays emailed)."""
    try:
        batch = NoticeBatch.get(key, item_key, consistent_read=True)
    except DoesNotExist as exc:
        raise NotificationNotFound(f"no notice batch {key}/{item_key}") from exc
    if batch.status != QUEUED:
        return
    now = now_seconds()
    if batch.claimed_until is not None and int(batch.claimed_until) > now:
        raise DeliveryInProgress("another delivery is sending this notice batch")
    _claim(batch, now=now)
    notice = notice_from_dict(batch.notice.as_dict())
    page = PageRef(org_id=batch.org_id, page_id=batch.page_id, slug=batch.page_slug, title=batch.page_title)
    done = set(batch.sent_to or ()) | set(batch.failed_to or ())
    still_subscribed = _still_subscribed(key, [r for r in batch.recipients if r.email not in done])
    error: str | None = None
    sent = 0
    for recipient in batch.recipients:
        if recipient.email in done or still_subscribed.get(recipient.email) != recipient.subscription_id:
            continue
        links = _links(page, recipient.subscription_id)
        message = rules.notice_email(notice, to=recipient.email, links=links)
        try:
            mailer.send_email(message)
        except ClientError as exc:
            details = exc.response.get("Error", {})
            code = str(details.get("Code") or "Error")
            if code in _PERMANENT_SES_ERRORS:
                batch.update(actions=[NoticeBatch.failed_to.add({recipient.email})])
                continue
            error = f"ses: {code}: {details.get('Message') or ''}".rstrip(": ")[:_MAX_ERROR_CHARS]
            break
        except BotoCoreError as exc:
            error = f"email: {exc}"[:_MAX_ERROR_CHARS]
            break
        # Remembered at once: a delivery that dies later resends to nobody before this one.
        batch.update(actions=[NoticeBatch.sent_to.add({recipient.email})])
        sent += 1
    log_extra = {"page_key": key, "notice_batch": item_key, "sent": sent}
    if error is None:
        _finish(batch, [NoticeBatch.status.set(SENT), NoticeBatch.error.remove()])
        logger.info("status page notice batch sent", extra=log_extra)
        return
    if receive_count >= max_receives:
        _finish(batch, [NoticeBatch.status.set(FAILED), NoticeBatch.error.set(error)])
        logger.warning("status page notice batch failed", extra={**log_extra, "error": error})
        return
    _finish(batch, [NoticeBatch.error.set(error)])
    raise DeliveryFailed(error)


def _still_subscribed(key: str, recipients: list[Recipient]) -> dict[str, str]:
    """email -> subscription id of the recipients still confirmed (one BatchGet per 100)."""
    if not recipients:
        return {}
    found: dict[str, str] = {}
    keys = [(key, Subscriber.key(r.email)) for r in recipients]
    for subscriber in Subscriber.batch_get(keys, consistent_read=True):
        if subscriber.status == SubscriberStatus.CONFIRMED:
            found[str(subscriber.email)] = str(subscriber.subscription_id)
    return found


def _claim(batch: NoticeBatch, *, now: int) -> None:
    try:
        batch.update(
            actions=[
                NoticeBatch.attempts.add(1),
                NoticeBatch.claimed_until.set(now + CLAIM_SECONDS),
                NoticeBatch.version.add(1),
            ],
            condition=(NoticeBatch.version == batch.version) & (NoticeBatch.status == QUEUED),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            raise DeliveryInProgress("another delivery claimed this notice batch first") from exc
        raise


def _finish(batch: NoticeBatch, actions: list[Any]) -> None:
    try:
        batch.update(
            actions=[*actions, NoticeBatch.claimed_until.remove(), NoticeBatch.version.add(1)],
            condition=NoticeBatch.version == batch.version,
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        logger.warning(
            "a notice batch changed while it was being sent; its outcome is not recorded",
            extra={"page_key": batch.page_key, "notice_batch": batch.item_key},
        )
