"""/v1/status/{slug}: a status page answered live (public, no auth) for clients that want it from the
API. The same documents are published as static files (usecases/status_publisher.py), which is what
people and widgets should read: those stay up when the API is down.
"""

from __future__ import annotations

from typing import Any, Literal

from chalice import Response
from pydantic import Field

from chalicelib.api.fields import ResponseModel
from chalicelib.api.http import VigilBlueprint
from chalicelib.domain.accounts import check_slug
from chalicelib.domain.clock import now_seconds
from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.domain.status_pages import (
    PageSnapshot,
    atom_feed,
    badge_svg,
    json_bytes,
    status_document,
    summary_document,
)

# Use cases are imported inside the routes that call them (docs/architecture.md, "What a cold start imports").

bp = VigilBlueprint(__name__)
TAGS = ("public status pages",)

CACHE_CONTROL = "public, max-age=30"
ComponentStatusName = Literal[
    "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"
]


class DayUptimeOut(ResponseModel):
    date: str = Field(description="A UTC day, YYYY-MM-DD")
    uptime_percentage: float | None = Field(description="null: no data that day (before the service existed)")


class PublicComponentOut(ResponseModel):
    id: str
    name: str
    group: str | None
    status: ComponentStatusName
    uptime_percentage_90d: float | None
    uptime_90d: list[DayUptimeOut] = Field(description="One entry per UTC day, oldest first (90)")


class PublicPostOut(ResponseModel):
    id: str
    title: str
    status: Literal["investigating", "identified", "monitoring", "resolved"]
    message: str
    created_at: str
    component_ids: list[str]


class PublicMaintenanceOut(ResponseModel):
    title: str
    state: Literal["active", "upcoming"]
    starts_at: str
    ends_at: str
    component_ids: list[str]


class PublicStatusOut(ResponseModel):
    slug: str
    title: str
    description: str
    status: ComponentStatusName = Field(description="The worst of the components' statuses")
    components: list[PublicComponentOut]
    posts: list[PublicPostOut] = Field(description="Newest first")
    maintenances: list[PublicMaintenanceOut] = Field(description="Active first, then upcoming by start")
    updated_at: str


class SummaryPageOut(ResponseModel):
    id: str
    name: str
    url: str
    time_zone: str
    updated_at: str


class SummaryComponentOut(ResponseModel):
    id: str
    name: str
    status: ComponentStatusName
    created_at: str
    updated_at: str
    position: int
    description: str | None
    showcase: bool
    start_date: str | None
    group_id: str | None
    page_id: str
    group: bool
    only_show_if_degraded: bool
    components: list[str] | None = Field(default=None, description="A group's members (groups only)")


class SummaryUpdateOut(ResponseModel):
    id: str
    status: str
    body: str
    incident_id: str
    created_at: str
    updated_at: str
    display_at: str
    affected_components: list[dict[str, Any]] | None
    deliver_notifications: bool
    custom_tweet: str | None
    tweet_id: str | None


class SummaryIncidentOut(ResponseModel):
    id: str
    name: str
    status: str
    created_at: str
    updated_at: str
    monitoring_at: str | None
    resolved_at: str | None
    impact: Literal["none", "minor", "major", "critical", "maintenance"]
    shortlink: str
    started_at: str
    page_id: str
    incident_updates: list[SummaryUpdateOut]
    components: list[SummaryComponentOut]


class SummaryMaintenanceOut(SummaryIncidentOut):
    scheduled_for: str
    scheduled_until: str


class SummaryStatusOut(ResponseModel):
    indicator: Literal["none", "minor", "major", "critical", "maintenance"]
    description: str


class SummaryOut(ResponseModel):
    """Atlassian Statuspage's `summary.json` (v2)."""

    page: SummaryPageOut
    components: list[SummaryComponentOut]
    incidents: list[SummaryIncidentOut] = Field(description="Unresolved stories, newest first")
    scheduled_maintenances: list[SummaryMaintenanceOut]
    status: SummaryStatusOut


def _snapshot(slug: str) -> PageSnapshot:
    from chalicelib.usecases import status_snapshots

    try:
        check_slug(slug)
    except InvalidInput as exc:
        raise NotFound("status page not found") from exc
    snapshot = status_snapshots.public_snapshot(slug, now=now_seconds())
    if snapshot is None:
        raise NotFound("status page not found")
    return snapshot


def _answer(body: bytes | dict[str, Any], content_type: str) -> Response:
    if isinstance(body, bytes):
        return Response(
            body=body.decode("utf-8"),
            status_code=200,
            headers={"Content-Type": content_type, "Cache-Control": CACHE_CONTROL},
        )
    return Response(
        body=json_bytes(body).decode("utf-8"),
        status_code=200,
        headers={"Content-Type": content_type, "Cache-Control": CACHE_CONTROL},
    )


@bp.route(
    "/v1/status/{slug}",
    summary="A public status page (no auth): components, 90-day uptime, posts, maintenance",
    response=PublicStatusOut,
    auth=False,
    tags=TAGS,
    cors=True,
)
def public_status(slug: str) -> Response:
    return _answer(status_document(_snapshot(slug)), "application/json")


@bp.route(
    "/v1/status/{slug}/summary",
    summary="A public status page in Atlassian Statuspage's summary.json shape (no auth)",
    response=SummaryOut,
    auth=False,
    tags=TAGS,
    cors=True,
)
def public_summary(slug: str) -> Response:
    return _answer(summary_document(_snapshot(slug)), "application/json")


@bp.route(
    "/v1/status/{slug}/feed",
    summary="A public status page's posts and maintenance as an Atom feed (no auth)",
    auth=False,
    tags=TAGS,
    media_type="application/atom+xml",
    cors=True,
)
def public_feed(slug: str) -> Response:
    return _answer(atom_feed(_snapshot(slug)), "application/atom+xml")


@bp.route(
    "/v1/status/{slug}/badge",
    summary="A public status page's overall status as an SVG badge (no auth)",
    auth=False,
    tags=TAGS,
    media_type="image/svg+xml",
    cors=True,
)
def public_badge(slug: str) -> Response:
    return _answer(badge_svg(_snapshot(slug)), "image/svg+xml")
