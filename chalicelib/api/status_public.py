"""/v1/status/{slug}: a status page answered live (public, no auth) for clients that want it from the
API. The same documents are published as static files (usecases/status_publisher.py), which is what
people and widgets should read: those stay up when the API is down.
"""

from __future__ import annotations

from typing import Any

from chalice import Response

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

bp = VigilBlueprint(__name__, schemas="chalicelib.api.schemas.status_public")
TAGS = ("public status pages",)

CACHE_CONTROL = "public, max-age=30"


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
    response="PublicStatusOut",
    auth=False,
    tags=TAGS,
    cors=True,
)
def public_status(slug: str) -> Response:
    return _answer(status_document(_snapshot(slug)), "application/json")


@bp.route(
    "/v1/status/{slug}/summary",
    summary="A public status page in Atlassian Statuspage's summary.json shape (no auth)",
    response="SummaryOut",
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
