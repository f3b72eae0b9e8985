"""Email subscribers of status pages, their link tokens and the notices sent to them.

Table ``subscribers``: hash ``page_key``, range ``item_key``, TTL ``expires_at``.
- ``<org_id>#<page_id>`` / ``sub#<email>``: a subscriber of the page (org-scoped, one per address);
  ``subscription_id`` is new each time the address subscribes, so links of an earlier subscription
  never act on a later one. A pending subscriber expires with its confirm link.
- ``<org_id>#<page_id>`` / ``notice#<notice_id>#<batch>``: one queue message's share of a notice (its
  recipients and what was sent to them); created with ``attribute_not_exists``, so a replayed notice
  creates nothing new and sends nothing twice.
- ``_token:<sha256>`` / ``token``: a confirm or unsubscribe link's token -> its subscription, each in
  a partition of its own (one read for an unknown token). Only the SHA-256 of a token is stored.
"""

from __future__ import annotations

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.models import Model

from chalicelib.settings import settings

SUBSCRIBER_PREFIX = "sub#"
NOTICE_PREFIX = "notice#"
TOKEN_PARTITION_PREFIX = "_token:"  # noqa: S105 (a key prefix, not a secret); org ids have no ':'
CONFIRM = "confirm"
UNSUBSCRIBE = "unsubscribe"


def page_key(org_id: str, page_id: str) -> str:
    return f"{org_id}#{page_id}"


class Subscriber(Model):
    class Meta:
        table_name = settings.table("subscribers")
        region = settings.region

    page_key = UnicodeAttribute(hash_key=True)  # <org_id>#<page_id>
    item_key = UnicodeAttribute(range_key=True)  # sub#<email>
    org_id = UnicodeAttribute()
    page_id = UnicodeAttribute()
    email = UnicodeAttribute()
    subscription_id = UnicodeAttribute()
    status = UnicodeAttribute()  # pending | confirmed (domain.subscribers.SubscriberStatus)
    created_at = NumberAttribute()
    confirmed_at = NumberAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # pending only: forgotten with its confirm link

    @staticmethod
    def key(email: str) -> str:
        return f"{SUBSCRIBER_PREFIX}{email}"


class SubscriptionToken(Model):
    class Meta:
        table_name = settings.table("subscribers")
        region = settings.region

    page_key = UnicodeAttribute(hash_key=True)  # _token:<sha256 of the token>
    item_key = UnicodeAttribute(range_key=True, default="token")
    purpose = UnicodeAttribute()  # confirm | unsubscribe
    target_page_key = UnicodeAttribute()  # the subscriber's page_key
    email = UnicodeAttribute()
    subscription_id = UnicodeAttribute()
    expires_at = NumberAttribute(null=True)  # confirm links, and unsubscribe links once used

    @staticmethod
    def key(token_hash: str) -> str:
        return f"{TOKEN_PARTITION_PREFIX}{token_hash}"


class Recipient(MapAttribute[str, str]):
    email = UnicodeAttribute()
    subscription_id = UnicodeAttribute()


class NoticeBatch(Model):
    """Up to ``RECIPIENTS_PER_BATCH`` recipients of one notice: what one queue message sends.

    ``sent_to`` grows as each email goes out, so a redelivered message sends only what is left; a
    delivery holds the batch (``claimed_until``, with a conditional write on ``version``) so two copies
    of one message never send at the same time.
    """

    class Meta:
        table_name = settings.table("subscribers")
        region = settings.region

    page_key = UnicodeAttribute(hash_key=True)
    item_key = UnicodeAttribute(range_key=True)  # notice#<notice_id>#<batch, 4 digits>
    org_id = UnicodeAttribute()
    page_id = UnicodeAttribute()
    page_title = UnicodeAttribute()  # as it was when the notice was queued: every retry says the same
    page_slug = UnicodeAttribute()
    notice = MapAttribute[str, object]()  # domain.subscribers.Notice, as notice_to_dict writes it
    recipients = ListAttribute(of=Recipient)
    sent_to = UnicodeSetAttribute(null=True)
    failed_to = UnicodeSetAttribute(null=True)  # refused for good (SES said the address is invalid)
    status = UnicodeAttribute()  # queued | sent | failed (as notification records)
    attempts = NumberAttribute(default=0)
    error = UnicodeAttribute(null=True)
    created_at = NumberAttribute()
    claimed_until = NumberAttribute(null=True)
    version = NumberAttribute(default=0)
    expires_at = NumberAttribute()

    @staticmethod
    def key(notice_id: str, batch: int) -> str:
        return f"{NOTICE_PREFIX}{notice_id}#{batch:04d}"
