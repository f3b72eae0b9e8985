"""Email subscribers of public status pages: subscribe (no auth), the emails' confirm and unsubscribe
links (small HTML pages), and the count an org's admins see.

A link's token alone names its subscription; the slug in its path is the page's when the email was
sent, so the links of older emails keep working after a slug change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chalice import Response

from chalicelib.api.access import require_member
from chalicelib.api.http import QueryParam, VigilBlueprint, parse_body, path_id
from chalicelib.domain import subscribers as rules
from chalicelib.domain.accounts import SLUG_PATTERN
from chalicelib.domain.errors import NotFound, VigilError
from chalicelib.domain.roles import Role

if TYPE_CHECKING:
    from chalicelib.usecases.subscribers import LinkOutcome

# Use cases are imported inside the routes that call them (docs/architecture.md, "What a cold start imports").

bp = VigilBlueprint(__name__, schemas="chalicelib.api.schemas.subscribers")
_SLUG = re.compile(SLUG_PATTERN)
TAGS = ("status pages",)
HTML = "text/html"
TOKEN = QueryParam(
    "token",
    "The token of the emailed link (required).",
    {"type": "string", "minLength": 1, "maxLength": rules.TOKEN_MAX_CHARS},
)
# RFC 8058: mail clients POST `List-Unsubscribe=One-Click` as a form (either encoding).
FORM_CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "application/json",
    "text/plain",
]
_HTML_HEADERS: dict[str, str | list[str]] = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    # The token is in the page's address: it must not leave in a Referer.
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}


def _slug(slug: str) -> str:
    if not _SLUG.fullmatch(slug):
        raise NotFound("status page not found")
    return slug


@bp.route(
    "/v1/status/{slug}/subscribe",
    methods=("POST",),
    summary="Subscribe an email address to a status page's updates (no auth; double opt-in)",
    status=202,
    body="SubscribeRequest",
    response="SubscribeAccepted",
    auth=False,
    tags=TAGS,
    errors=(429,),
)
def subscribe(slug: str) -> dict[str, Any]:
    from chalicelib.api.schemas.subscribers import SubscribeRequest
    from chalicelib.usecases import subscribers

    request = parse_body(bp.current_request, SubscribeRequest)
    subscribers.subscribe(_slug(slug), request.email)
    return {
        "status": "accepted",
        "message": "If this address is not subscribed yet, a confirmation link is on its way.",
    }


def _token() -> str | None:
    params: Mapping[str, str] = bp.current_request.query_params or {}
    return params.get("token")


def _page(title: str, paragraphs: list[str], *, status: int = 200, button: bool = False) -> Response:
    body = rules.page_html(title, paragraphs, unsubscribe_button=button)
    return Response(body=body, status_code=status, headers=dict(_HTML_HEADERS))


def _link_error(error: VigilError) -> Response:
    if isinstance(error, NotFound):
        return _page(
            "Link not valid",
            ["This link is not valid, or it has expired. Subscribe again from the status page."],
            status=404,
        )
    return _page("Link not valid", [error.message], status=error.status_code)


def _see_page(outcome: LinkOutcome) -> list[str]:
    return [f"The status page: {outcome.page_url}"] if outcome.page_url else []


@bp.route(
    "/v1/status/{slug}/subscriptions/confirm",
    summary="Confirm a subscription: the link of the confirmation email (an HTML page; no auth)",
    auth=False,
    tags=TAGS,
    query=(TOKEN,),
    media_type=HTML,
)
def confirm_subscription(slug: str) -> Response:
    from chalicelib.usecases import subscribers

    try:
        outcome = subscribers.confirm(_token())
    except VigilError as error:
        return _link_error(error)
    return _page(
        "Subscription confirmed",
        [f"You will get an email when {outcome.page_title} posts an update.", *_see_page(outcome)],
    )


@bp.route(
    "/v1/status/{slug}/subscriptions/unsubscribe",
    summary="The unsubscribe link of every email: a page with an Unsubscribe button (no auth)",
    auth=False,
    tags=TAGS,
    query=(TOKEN,),
    media_type=HTML,
)
def unsubscribe_page(slug: str) -> Response:
    from chalicelib.usecases import subscribers

    try:
        outcome = subscribers.unsubscribe(_token(), perform=False)
    except VigilError as error:
        return _link_error(error)
    if not outcome.subscribed:
        return _page("Unsubscribed", [f"You get no more emails from {outcome.page_title}."])
    return _page(
        f"Unsubscribe from {outcome.page_title}",
        [f"Stop the emails about {outcome.page_title}?"],
        button=True,
    )


@bp.route(
    "/v1/status/{slug}/subscriptions/unsubscribe",
    methods=("POST",),
    summary="Unsubscribe (RFC 8058 one-click: mail clients POST `List-Unsubscribe=One-Click`; no auth)",
    auth=False,
    tags=TAGS,
    query=(TOKEN,),
    media_type=HTML,
    content_types=FORM_CONTENT_TYPES,
)
def unsubscribe(slug: str) -> Response:
    from chalicelib.usecases import subscribers

    try:
        outcome = subscribers.unsubscribe(_token(), perform=True)
    except VigilError as error:
        return _link_error(error)
    return _page("Unsubscribed", [f"You get no more emails from {outcome.page_title}.", *_see_page(outcome)])


@bp.route(
    "/v1/orgs/{org_id}/status-pages/{page_id}/subscribers",
    summary="How many email subscribers a status page has (role admin)",
    response="SubscriberCountsOut",
    tags=TAGS,
)
def subscriber_counts(org_id: str, page_id: str) -> dict[str, Any]:
    from chalicelib.usecases import subscribers

    require_member(bp.current_request, org_id, min_role=Role.ADMIN)
    counts = subscribers.subscriber_counts(org_id, path_id(page_id, what="status page"))
    return {"count": counts.count, "confirmed": counts.confirmed, "pending": counts.pending}
