"""The status page publisher: which pages a change touches, and rendering a page to S3.

Flow (ARCHITECTURE.md flow 9): the stream handlers (events/status_pages.py) read what a record
touches and queue a request per page on ``status-publish.fifo`` (adapters/status_queue.py: one
render per page per 5-second slot, however many changes the slot had); the queue's consumer renders
the page from the tables (usecases/status_snapshots.py) and uploads its five files. A failed upload
fails that message alone: SQS redelivers it, then sets it aside in the DLQ; the stream batch that
asked for it has long succeeded. A schedule queues every page every 5 minutes (the uptime bars move
with the day, and a lost request heals).

What touches a page:
- a service changing status (or going): the pages of its org that show it (one Query of the org's
  pages, at most 20; never a Scan);
- a post written, changed or deleted: its page;
- a maintenance window created, changed, started or ended (the sweep writes the window as it moves
  its services), or deleted: the pages of its org that show one of its services (any, when the
  window holds every service);
- the page itself: created or edited renders it; a slug change or a deletion also removes the old
  slug's files, unless another page holds that slug by then.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.exceptions import DoesNotExist

from chalicelib.adapters import status_files, status_queue
from chalicelib.adapters.status_queue import PublishRequest
from chalicelib.domain.status_pages import published_files
from chalicelib.models.services import PING_TOKEN_PARTITION_PREFIX, SCHEDULER_PARTITION
from chalicelib.models.status_pages import LISTED, StatusPage
from chalicelib.settings import settings
from chalicelib.usecases import status_pages, status_snapshots

logger = Logger(service="vigil", child=True, level=settings.log_level)

Image = dict[str, Any] | None


# ---- what a stream record touches ------------------------------------------------------------------


def _s(image: Image, name: str) -> str | None:
    value = (image or {}).get(name) or {}
    return str(value["S"]) if "S" in value else None


def _string_set(image: Image, name: str) -> set[str]:
    value = (image or {}).get(name) or {}
    return {str(v) for v in value.get("SS", [])}


def _pages_showing(org_id: str, service_ids: set[str] | None) -> list[PublishRequest]:
    """The org's pages that show one of ``service_ids`` (None: any service)."""
    return [
        PublishRequest(org_id, page.page_id)
        for page in status_pages.pages_of(org_id)
        if service_ids is None or page.service_ids() & service_ids
    ]


def service_change(old: Image, new: Image) -> list[PublishRequest]:
    """A service's status changed (or the service went)."""
    org_id = _s(new or old, "org_id")
    service_id = _s(new or old, "service_id")
    if not org_id or not service_id or _s(old, "status") == _s(new, "status"):
        return []
    if org_id == SCHEDULER_PARTITION or org_id.startswith(PING_TOKEN_PARTITION_PREFIX):
        return []  # the scheduler's bookkeeping and the ping token lookups share the table
    return _pages_showing(org_id, {service_id})


def window_change(old: Image, new: Image) -> list[PublishRequest]:
    org_id = _s(new or old, "org_id")
    if not org_id:
        return []
    holds: set[str] = set()
    for image in (old, new):
        if image is None:
            continue
        ids = _string_set(image, "service_ids")
        if not ids:
            return _pages_showing(org_id, None)  # a window of every service
        holds |= ids
    return _pages_showing(org_id, holds)


def post_change(old: Image, new: Image) -> list[PublishRequest]:
    org_id, page_id = _s(new or old, "org_id"), _s(new or old, "page_id")
    return [PublishRequest(org_id, page_id)] if org_id and page_id else []


def page_change(old: Image, new: Image) -> list[PublishRequest]:
    org_id, page_id = _s(new or old, "org_id"), _s(new or old, "page_id")
    if not org_id or not page_id:
        return []
    requests = []
    old_slug, new_slug = _s(old, "slug"), _s(new, "slug")
    if old_slug and old_slug != new_slug:
        requests.append(PublishRequest(org_id, page_id, slug=old_slug))
    if new is not None:
        requests.append(PublishRequest(org_id, page_id))
    return requests


def request(requests: Iterable[PublishRequest], *, now: int) -> None:
    wanted = list(requests)
    if wanted:
        status_queue.send(wanted, now=now)


def request_every_page(*, now: int) -> int:
    """The 5-minute republish: every page, through the by-slug index (keys only read)."""
    requests = [
        PublishRequest(page.org_id, page.page_id)
        for page in StatusPage.by_slug.query(LISTED, attributes_to_get=["org_id", "page_id"])
    ]
    request(requests, now=now)
    return len(requests)


# ---- the queue's consumer --------------------------------------------------------------------------


def handle(publish: PublishRequest, *, now: int) -> None:
    if publish.slug is not None:
        remove(publish.slug)
    else:
        render(publish.org_id, publish.page_id, now=now)


def render(org_id: str, page_id: str, *, now: int) -> bool:
    """Render the page's files to S3; False when the page is gone (its removal is queued apart)."""
    try:
        page = StatusPage.get(org_id, page_id, consistent_read=True)
    except DoesNotExist:
        return False
    snapshot = status_snapshots.snapshot(page, now=now)
    files = published_files(snapshot)
    status_files.upload(page.slug, {name: (f.body, f.content_type) for name, f in files.items()})
    logger.info("status page published", extra={"org_id": org_id, "page_id": page_id, "slug": page.slug})
    return True


def remove(slug: str) -> bool:
    """Remove a slug's files unless a page holds the slug now (it renders there)."""
    if status_pages.slug_owner(slug) is not None:
        return False
    status_files.remove(slug)
    logger.info("status page files removed", extra={"slug": slug})
    return True
