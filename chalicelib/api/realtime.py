"""Real-time events over HTTP: a ticket to open a WebSocket, and the event log to catch up with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.api.access import require_member
from chalicelib.api.http import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, QueryParam, VigilBlueprint, int_param
from chalicelib.domain.clock import now_seconds
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.realtime import is_seq

# Use cases are imported inside the routes that call them (docs/architecture.md, "What a cold start imports").

bp = VigilBlueprint(__name__, schemas="chalicelib.api.schemas.realtime")
TAGS = ("real-time events",)


@bp.route(
    "/v1/orgs/{org_id}/realtime/tickets",
    methods=("POST",),
    summary="A single-use ticket (60 s) that opens one WebSocket to this organization's events",
    status=201,
    response="TicketOut",
    tags=TAGS,
)
def create_ticket(org_id: str) -> dict[str, Any]:
    from chalicelib.usecases import realtime

    actor = require_member(bp.current_request, org_id)
    return realtime.issue_ticket(org_id, actor.user_id, now=now_seconds()).to_api()


@bp.route(
    "/v1/orgs/{org_id}/events",
    summary="Real-time events after a seq, oldest first (kept 72 hours): what a socket missed",
    response="OrgEventList",
    tags=TAGS,
    query=(
        QueryParam("after", "Only events after this seq (from a frame or next_cursor).", {"type": "string"}),
        QueryParam(
            "limit",
            "Page size (1-100).",
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE},
        ),
    ),
    errors=(400,),
)
def list_events(org_id: str) -> dict[str, Any]:
    from chalicelib.usecases import realtime

    require_member(bp.current_request, org_id)
    params: Mapping[str, str] = bp.current_request.query_params or {}
    after = params.get("after")
    if after is not None and not is_seq(after):
        raise InvalidInput("must be the seq of an event (from a frame or next_cursor)", field="after")
    limit = int_param(bp.current_request, "limit", default=DEFAULT_PAGE_SIZE, low=1, high=MAX_PAGE_SIZE)
    page = realtime.list_events(org_id, after=after, limit=limit)
    return {"items": [event.to_api() for event in page.items], "next_cursor": page.next_cursor}
