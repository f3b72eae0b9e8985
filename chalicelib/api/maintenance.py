"""/v1/orgs/{org_id}/maintenance-windows: planned work that silences services without losing history."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.api.access import require_member
from chalicelib.api.http import PAGE_PARAMS, QueryParam, VigilBlueprint, page_params, parse_body, path_id
from chalicelib.domain.clock import iso, now_seconds
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.maintenance import WindowState
from chalicelib.domain.roles import Role
from chalicelib.domain.timezones import zone

if TYPE_CHECKING:
    from chalicelib.usecases.maintenance import WindowView

# Use cases are imported inside the routes that call them (docs/architecture.md, "What a cold start imports").

bp = VigilBlueprint(__name__, schemas="chalicelib.api.schemas.maintenance")
TAGS = ("maintenance windows",)

Timestamp = str
STATES = tuple(state.value for state in WindowState)


STATE_PARAM = QueryParam("state", "Only windows in this state", {"type": "string", "enum": list(STATES)})


def window_to_api(item: WindowView) -> dict[str, Any]:
    record, window, status = item.record, item.window, item.status
    return {
        "id": record.window_id,
        "org_id": record.org_id,
        "title": record.title,
        "service_ids": sorted(window.service_ids),
        "starts_at": iso(window.starts_at),
        "ends_at": iso(window.ends_at),
        "duration_minutes": round(window.duration_seconds / 60, 2),
        "recurrence": window.recurrence,
        "timezone": window.timezone,
        "state": status.state.value,
        "next_starts_at": None if status.next_starts_at is None else iso(status.next_starts_at),
        "next_ends_at": None if status.next_ends_at is None else iso(status.next_ends_at),
        "suppressed_alerts": int(record.suppressed_alerts or 0),
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
    }


def parse_time(value: str | None, *, field: str, timezone: str) -> int | None:
    """Epoch seconds of an ISO 8601 time; one without an offset is read in ``timezone``."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInput(
            f"must be an ISO 8601 time such as 2027-03-14T04:00:00Z ({value!r})", field=field
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(timezone))
    try:
        return int(parsed.timestamp())
    except (OverflowError, ValueError) as exc:
        raise InvalidInput("is out of range", field=field) from exc


def _window_id(window_id: str) -> str:
    return path_id(window_id, what="maintenance window")


@bp.route(
    "/v1/orgs/{org_id}/maintenance-windows",
    methods=("POST",),
    summary="Plan a maintenance window (role user); without starts_at it starts now",
    status=201,
    body="CreateWindowRequest",
    response="WindowOut",
    tags=TAGS,
    errors=(409,),
)
def create_window(org_id: str) -> dict[str, Any]:
    from chalicelib.api.schemas.maintenance import CreateWindowRequest
    from chalicelib.usecases import maintenance
    from chalicelib.usecases.maintenance import Timing

    actor = require_member(bp.current_request, org_id, min_role=Role.USER)
    request = parse_body(bp.current_request, CreateWindowRequest)
    zone(request.timezone)
    timing = Timing(
        starts_at=parse_time(request.starts_at, field="starts_at", timezone=request.timezone),
        ends_at=parse_time(request.ends_at, field="ends_at", timezone=request.timezone),
        duration_minutes=request.duration_minutes,
        recurrence=request.recurrence,
        timezone=request.timezone,
    )
    created = maintenance.create_window(
        org_id, title=request.title, service_ids=request.service_ids, timing=timing, actor_id=actor.user_id
    )
    return window_to_api(created)


@bp.route(
    "/v1/orgs/{org_id}/maintenance-windows",
    summary="Maintenance windows, newest first",
    response="WindowList",
    tags=TAGS,
    query=(STATE_PARAM, *PAGE_PARAMS),
    errors=(400,),
)
def list_windows(org_id: str) -> dict[str, Any]:
    from chalicelib.usecases import maintenance

    require_member(bp.current_request, org_id)
    limit, cursor = page_params(bp.current_request)
    params: Mapping[str, str] = bp.current_request.query_params or {}
    state = params.get("state")
    if state is not None and state not in STATES:
        raise InvalidInput(f"must be one of {', '.join(STATES)}", field="state")
    page = maintenance.list_windows(org_id, state=state, limit=limit, cursor=cursor, now=now_seconds())
    return {"items": [window_to_api(v) for v in page.items], "next_cursor": page.next_cursor}


@bp.route(
    "/v1/orgs/{org_id}/maintenance-windows/{window_id}",
    summary="One maintenance window",
    response="WindowOut",
    tags=TAGS,
)
def get_window(org_id: str, window_id: str) -> dict[str, Any]:
    from chalicelib.usecases import maintenance

    require_member(bp.current_request, org_id)
    record = maintenance.get_window(org_id, _window_id(window_id))
    return window_to_api(maintenance.view(record, now=now_seconds()))


TIMING_FIELDS = ("starts_at", "ends_at", "duration_minutes", "recurrence", "timezone")


@bp.route(
    "/v1/orgs/{org_id}/maintenance-windows/{window_id}",
    methods=("PATCH",),
    summary="Change a maintenance window (role user)",
    body="UpdateWindowRequest",
    response="WindowOut",
    tags=TAGS,
    errors=(409,),
)
def update_window(org_id: str, window_id: str) -> dict[str, Any]:
    from chalicelib.api.schemas.maintenance import UpdateWindowRequest
    from chalicelib.usecases import maintenance
    from chalicelib.usecases.maintenance import Timing

    require_member(bp.current_request, org_id, min_role=Role.USER)
    window_id = _window_id(window_id)
    request = parse_body(bp.current_request, UpdateWindowRequest)
    given = request.model_fields_set
    timing = None
    if given & set(TIMING_FIELDS):
        current = maintenance.get_window(org_id, window_id)
        timezone = request.timezone or current.timezone or "UTC"
        zone(timezone)
        starts_at = parse_time(request.starts_at, field="starts_at", timezone=timezone)
        ends_at = parse_time(request.ends_at, field="ends_at", timezone=timezone)
        keep_length = "ends_at" not in given and "duration_minutes" not in given
        start = int(current.starts_at) if starts_at is None else starts_at
        timing = Timing(
            starts_at=start,
            ends_at=start + int(current.duration_seconds) if keep_length else ends_at,
            duration_minutes=request.duration_minutes,
            recurrence=request.recurrence if "recurrence" in given else current.recurrence,
            timezone=timezone,
        )
    updated = maintenance.update_window(
        org_id, window_id, title=request.title, service_ids=request.service_ids, timing=timing
    )
    return window_to_api(updated)


@bp.route(
    "/v1/orgs/{org_id}/maintenance-windows/{window_id}",
    methods=("DELETE",),
    summary="Delete a maintenance window (role user); its services leave maintenance at once",
    status=204,
    tags=TAGS,
)
def delete_window(org_id: str, window_id: str) -> None:
    from chalicelib.usecases import maintenance

    require_member(bp.current_request, org_id, min_role=Role.USER)
    maintenance.delete_window(org_id, _window_id(window_id))


@bp.route(
    "/v1/orgs/{org_id}/maintenance-windows/{window_id}/end",
    methods=("POST",),
    summary="End the current occurrence now (role user); 409 when none is active",
    response="WindowOut",
    tags=TAGS,
    errors=(409,),
)
def end_window(org_id: str, window_id: str) -> dict[str, Any]:
    from chalicelib.usecases import maintenance

    require_member(bp.current_request, org_id, min_role=Role.USER)
    return window_to_api(maintenance.end_window(org_id, _window_id(window_id)))
