"""Public status pages, pure: a `PageSnapshot` in, every published document out.

The publisher (and the live `GET /v1/status/{slug}...` routes) fill a snapshot from DynamoDB and call
`published_files` (or one renderer); nothing here reads a clock, the network or AWS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from chalicelib.domain.status_pages.badge import badge_svg
from chalicelib.domain.status_pages.feed import atom_feed
from chalicelib.domain.status_pages.html import index_html
from chalicelib.domain.status_pages.model import (
    COMPONENT_STATUSES,
    MAINTENANCE_STATES,
    POST_STATUSES,
    Component,
    ComponentStatus,
    DayCounts,
    Maintenance,
    MaintenanceState,
    PageSnapshot,
    Post,
    PostStatus,
    ServiceFacts,
)
from chalicelib.domain.status_pages.status import (
    component_status,
    component_statuses,
    indicator,
    page_status,
    worst_status,
)
from chalicelib.domain.status_pages.status_json import status_document
from chalicelib.domain.status_pages.summary_json import summary_document
from chalicelib.domain.status_pages.uptime import DayUptime, daily_series, window_uptime


@dataclass(frozen=True)
class PublishedFile:
    body: bytes
    content_type: str


def json_bytes(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def published_files(snapshot: PageSnapshot) -> dict[str, PublishedFile]:
    """Every file of the page by its name under `status/{slug}/`."""
    return {
        "index.html": PublishedFile(index_html(snapshot), "text/html; charset=utf-8"),
        "status.json": PublishedFile(json_bytes(status_document(snapshot)), "application/json"),
        "summary.json": PublishedFile(json_bytes(summary_document(snapshot)), "application/json"),
        "feed.atom": PublishedFile(atom_feed(snapshot), "application/atom+xml"),
        "badge.svg": PublishedFile(badge_svg(snapshot), "image/svg+xml"),
    }


__all__ = [
    "COMPONENT_STATUSES",
    "MAINTENANCE_STATES",
    "POST_STATUSES",
    "Component",
    "ComponentStatus",
    "DayCounts",
    "DayUptime",
    "Maintenance",
    "MaintenanceState",
    "PageSnapshot",
    "Post",
    "PostStatus",
    "PublishedFile",
    "ServiceFacts",
    "atom_feed",
    "badge_svg",
    "component_status",
    "component_statuses",
    "daily_series",
    "index_html",
    "indicator",
    "json_bytes",
    "page_status",
    "published_files",
    "status_document",
    "summary_document",
    "window_uptime",
    "worst_status",
]
