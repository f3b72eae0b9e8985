"""/v1/orgs/{org_id}/incidents: reading incidents (their lifecycle routes come with escalation)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.api.access import require_member
from chalicelib.api.http import (
    ID_PATTERN,
    PAGE_PARAMS,
    QueryParam,
    VigilBlueprint,
    id_param,
    page_params,
    parse_body,
    path_id,
)
from chalicelib.api.shapes import event_to_api, incident_to_api
from chalicelib.domain.clock import now_seconds
from chalicelib.domain.enums import INCIDENT_STATUSES, SEVERITIES
from chalicelib.domain.roles import Role

# Use cases are imported inside the routes that call them (docs/architecture.md, "What a cold start imports").

bp = VigilBlueprint(__name__, schemas="chalicelib.api.schemas.incidents")
TAGS = ("incidents",)


@bp.route(
    "/v1/orgs/{org_id}/incidents",
    summary="Incidents, newest first; filter by status, severity, service_id",
    response="IncidentList",
    tags=TAGS,
    query=(
        QueryParam(
            "status", "Only incidents in this status", {"type": "string", "enum": list(INCIDENT_STATUSES)}
        ),
        QueryParam(
            "severity", "Only incidents of this severity", {"type": "string", "enum": list(SEVERITIES)}
        ),
        QueryParam("service_id", "Only this service's incidents", {"type": "string", "pattern": ID_PATTERN}),
        *PAGE_PARAMS,
    ),
    errors=(400,),
)
def list_incidents(org_id: str) -> dict[str, Any]:
    from chalicelib.usecases import incidents

    require_member(bp.current_request, org_id)
    params: Mapping[str, str] = bp.current_request.query_params or {}
    limit, cursor = page_params(bp.current_request)
    page = incidents.list_incidents(
        org_id,
        status=params.get("status"),
        severity=params.get("severity"),
        service_id=id_param(bp.current_request, "service_id"),
        limit=limit,
        cursor=cursor,
    )
    return {"items": [incident_to_api(i) for i in page.items], "next_cursor": page.next_cursor}


@bp.route(
    "/v1/orgs/{org_id}/incidents/{incident_id}", summary="One incident", response="IncidentOut", tags=TAGS
)
def get_incident(org_id: str, incident_id: str) -> dict[str, Any]:
    from chalicelib.usecases import incidents

    require_member(bp.current_request, org_id)
    return incident_to_api(incidents.get_incident(org_id, _incident_id(incident_id)))


def _incident_id(incident_id: str) -> str:
    return path_id(incident_id, what="incident")


@bp.route(
    "/v1/orgs/{org_id}/incidents",
    methods=("POST",),
    summary="Open an incident by hand (role user)",
    status=201,
    body="CreateIncidentRequest",
    response="IncidentOut",
    tags=TAGS,
    errors=(409,),
)
def create_incident(org_id: str) -> dict[str, Any]:
    from chalicelib.api.schemas.incidents import CreateIncidentRequest
    from chalicelib.usecases import incidents

    actor = require_member(bp.current_request, org_id, min_role=Role.USER)
    request = parse_body(bp.current_request, CreateIncidentRequest)
    incident = incidents.create_incident(
        org_id,
        actor_id=actor.user_id,
        title=request.title,
        description=request.description,
        severity=request.severity,
        service_id=request.service_id,
        dedup_key=request.dedup_key,
    )
    return incident_to_api(incident)


@bp.route(
    "/v1/orgs/{org_id}/incidents/{incident_id}",
    methods=("PATCH",),
    summary="Change title, description, severity or category (role user)",
    body="UpdateIncidentRequest",
    response="IncidentOut",
    tags=TAGS,
    errors=(409,),
)
def update_incident(org_id: str, incident_id: str) -> dict[str, Any]:
    from chalicelib.api.schemas.incidents import UpdateIncidentRequest
    from chalicelib.usecases import incidents

    actor = require_member(bp.current_request, org_id, min_role=Role.USER)
    request = parse_body(bp.current_request, UpdateIncidentRequest)
    changes = {k: v for k, v in request.model_dump(exclude_unset=True).items() if v is not None}
    incident = incidents.update_incident(
        org_id, _incident_id(incident_id), actor_id=actor.user_id, changes=changes
    )
    return incident_to_api(incident)


@bp.route(
    "/v1/orgs/{org_id}/incidents/{incident_id}/acknowledge",
    methods=("POST",),
    summary="Acknowledge (role user); stops escalation; 409 if resolved",
    response="IncidentOut",
    tags=TAGS,
    errors=(409,),
)
def acknowledge(org_id: str, incident_id: str) -> dict[str, Any]:
    from chalicelib.usecases import incidents

    actor = require_member(bp.current_request, org_id, min_role=Role.USER)
    incident = incidents.acknowledge(org_id, _incident_id(incident_id), actor_id=actor.user_id)
    return incident_to_api(incident)


@bp.route(
    "/v1/orgs/{org_id}/incidents/{incident_id}/resolve",
    methods=("POST",),
    summary="Resolve, with an optional note (role user); 409 if already resolved",
    body="ResolveRequest",
    body_required=False,
    response="IncidentOut",
    tags=TAGS,
    errors=(409,),
)
def resolve(org_id: str, incident_id: str) -> dict[str, Any]:
    from chalicelib.api.schemas.incidents import ResolveRequest
    from chalicelib.usecases import incidents

    actor = require_member(bp.current_request, org_id, min_role=Role.USER)
    request = parse_body(bp.current_request, ResolveRequest)
    incident = incidents.resolve(org_id, _incident_id(incident_id), actor_id=actor.user_id, note=request.note)
    return incident_to_api(incident)


@bp.route(
    "/v1/orgs/{org_id}/incidents/{incident_id}/snooze",
    methods=("POST",),
    summary="Snooze for 1-1440 minutes (role user); it returns to open when the time is up",
    body="SnoozeRequest",
    response="IncidentOut",
    tags=TAGS,
    errors=(409,),
)
def snooze(org_id: str, incident_id: str) -> dict[str, Any]:
    from chalicelib.api.schemas.incidents import SnoozeRequest
    from chalicelib.usecases import incidents

    actor = require_member(bp.current_request, org_id, min_role=Role.USER)
    request = parse_body(bp.current_request, SnoozeRequest)
    incident = incidents.snooze(
        org_id, _incident_id(incident_id), actor_id=actor.user_id, minutes=request.minutes
    )
    return incident_to_api(incident)


@bp.route(
    "/v1/orgs/{org_id}/incidents/{incident_id}/assign",
    methods=("POST",),
    summary="Assign to a member (role user)",
    body="AssignRequest",
    response="IncidentOut",
    tags=TAGS,
)
def assign(org_id: str, incident_id: str) -> dict[str, Any]:
    from chalicelib.api.schemas.incidents import AssignRequest
    from chalicelib.usecases import incidents

    actor = require_member(bp.current_request, org_id, min_role=Role.USER)
    request = parse_body(bp.current_request, AssignRequest)
    incident = incidents.assign(
        org_id, _incident_id(incident_id), actor_id=actor.user_id, assignee_id=request.user_id
    )
    return incident_to_api(incident)


@bp.route(
    "/v1/orgs/{org_id}/incidents/{incident_id}/comments",
    methods=("POST",),
    summary="Comment on an incident (role user)",
    status=201,
    body="CommentRequest",
    response="TimelineEntry",
    tags=TAGS,
)
def comment(org_id: str, incident_id: str) -> dict[str, Any]:
    from chalicelib.api.schemas.incidents import CommentRequest
    from chalicelib.usecases import incidents

    actor = require_member(bp.current_request, org_id, min_role=Role.USER)
    request = parse_body(bp.current_request, CommentRequest)
    event = incidents.add_comment(
        org_id, _incident_id(incident_id), actor_id=actor.user_id, body=request.body
    )
    return event_to_api(event)


@bp.route(
    "/v1/orgs/{org_id}/incidents/{incident_id}/timeline",
    summary="Everything that happened to an incident, oldest first",
    response="Timeline",
    tags=TAGS,
    query=PAGE_PARAMS,
    errors=(400,),
)
def timeline(org_id: str, incident_id: str) -> dict[str, Any]:
    from chalicelib.usecases import incidents

    require_member(bp.current_request, org_id)
    limit, cursor = page_params(bp.current_request)
    page = incidents.timeline(org_id, _incident_id(incident_id), limit=limit, cursor=cursor)
    return {"items": [event_to_api(e) for e in page.items], "next_cursor": page.next_cursor}


@bp.route(
    "/v1/orgs/{org_id}/incidents/{incident_id}/escalate",
    methods=("POST",),
    summary="Fire the next escalation step now (role user); 409 if resolved or nothing is left to fire",
    response="IncidentOut",
    tags=TAGS,
    errors=(409,),
)
def escalate(org_id: str, incident_id: str) -> dict[str, Any]:
    from chalicelib.usecases import escalation

    actor = require_member(bp.current_request, org_id, min_role=Role.USER)
    incident = escalation.escalate_now(
        org_id, _incident_id(incident_id), actor_id=actor.user_id, now=now_seconds()
    )
    return incident_to_api(incident)


@bp.route(
    "/v1/orgs/{org_id}/incidents/{incident_id}/notifications",
    summary="Who was notified about an incident, how, and whether it was delivered",
    response="NotificationList",
    tags=TAGS,
)
def list_notifications(org_id: str, incident_id: str) -> dict[str, Any]:
    from chalicelib.usecases import incidents, notifications

    require_member(bp.current_request, org_id)
    items = incidents.notification_log(org_id, _incident_id(incident_id))
    return {"items": [notifications.notification_to_api(n) for n in items], "next_cursor": None}
