"""/v1/orgs/{org_id}/incidents: reading incidents (their lifecycle routes come with escalation)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from chalicelib.api.access import require_member
from chalicelib.api.fields import (
    ID_PATTERN,
    Id,
    RequestModel,
    ResponseModel,
    SeverityName,
)
from chalicelib.api.http import (
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
from chalicelib.domain.enums import INCIDENT_STATUSES, SEVERITIES, Channel, IncidentStatus, Severity
from chalicelib.domain.incidents import SNOOZE_MINUTES
from chalicelib.domain.roles import Role

# Use cases are imported inside the routes that call them (docs/architecture.md, "What a cold start imports").

bp = VigilBlueprint(__name__)
TAGS = ("incidents",)

Category = Literal["network", "server", "software", "login", "other"]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, Field(max_length=10_000)]


class CreateIncidentRequest(RequestModel):
    title: Title
    description: LongText = ""
    severity: SeverityName = Severity.MEDIUM
    service_id: Id | None = None
    dedup_key: str | None = Field(default=None, min_length=1, max_length=255)


class UpdateIncidentRequest(RequestModel):
    """Omitted or null: unchanged."""

    title: Title | None = None
    description: LongText | None = None
    severity: SeverityName | None = None
    category: Category | None = None


class ResolveRequest(RequestModel):
    """The body is optional: resolving with no body (or {}) leaves no note."""

    note: LongText | None = None


class SnoozeRequest(RequestModel):
    minutes: int = Field(
        ge=SNOOZE_MINUTES[0],
        le=SNOOZE_MINUTES[1],
        description="A JSON integer (340, not 340.0)",
    )


class AssignRequest(RequestModel):
    user_id: Id = Field(description="A member of the organization")


class CommentRequest(RequestModel):
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]


class TimelineEntry(ResponseModel):
    id: str
    at: str
    type: str
    actor_id: str | None
    data: dict[str, Any]


class Timeline(ResponseModel):
    items: list[TimelineEntry]
    next_cursor: str | None


class EscalationOut(ResponseModel):
    policy_id: str | None
    policy_name: str | None
    step: int | None = Field(description="the last step fired (0-based); null before the first")
    loop: int | None = Field(description="the pass through the steps of that step (0: the first)")
    next_step: int | None = Field(description="the step that fires next; null when none will")
    next_at: str | None = Field(description="when the next step fires; null when none will")


class IncidentOut(ResponseModel):
    id: str
    org_id: str
    title: str
    description: str
    severity: Severity
    status: IncidentStatus
    category: Category
    source: Literal["manual", "monitor", "alert"]
    service_id: str | None
    dedup_key: str | None
    integration_id: str | None
    assignee_id: str | None
    alert_count: int
    created_at: str
    acknowledged_at: str | None
    resolved_at: str | None
    snoozed_until: str | None = Field(description="while snoozed: when it returns to open")
    escalation: EscalationOut | None


class IncidentList(ResponseModel):
    items: list[IncidentOut]
    next_cursor: str | None


@bp.route(
    "/v1/orgs/{org_id}/incidents",
    summary="Incidents, newest first; filter by status, severity, service_id",
    response=IncidentList,
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
    "/v1/orgs/{org_id}/incidents/{incident_id}", summary="One incident", response=IncidentOut, tags=TAGS
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
    body=CreateIncidentRequest,
    response=IncidentOut,
    tags=TAGS,
    errors=(409,),
)
def create_incident(org_id: str) -> dict[str, Any]:
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
    body=UpdateIncidentRequest,
    response=IncidentOut,
    tags=TAGS,
    errors=(409,),
)
def update_incident(org_id: str, incident_id: str) -> dict[str, Any]:
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
    response=IncidentOut,
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
    body=ResolveRequest,
    body_required=False,
    response=IncidentOut,
    tags=TAGS,
    errors=(409,),
)
def resolve(org_id: str, incident_id: str) -> dict[str, Any]:
    from chalicelib.usecases import incidents

    actor = require_member(bp.current_request, org_id, min_role=Role.USER)
    request = parse_body(bp.current_request, ResolveRequest)
    incident = incidents.resolve(org_id, _incident_id(incident_id), actor_id=actor.user_id, note=request.note)
    return incident_to_api(incident)


@bp.route(
    "/v1/orgs/{org_id}/incidents/{incident_id}/snooze",
    methods=("POST",),
    summary="Snooze for 1-1440 minutes (role user); it returns to open when the time is up",
    body=SnoozeRequest,
    response=IncidentOut,
    tags=TAGS,
    errors=(409,),
)
def snooze(org_id: str, incident_id: str) -> dict[str, Any]:
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
    body=AssignRequest,
    response=IncidentOut,
    tags=TAGS,
)
def assign(org_id: str, incident_id: str) -> dict[str, Any]:
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
    body=CommentRequest,
    response=TimelineEntry,
    tags=TAGS,
)
def comment(org_id: str, incident_id: str) -> dict[str, Any]:
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
    response=Timeline,
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
    response=IncidentOut,
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


class NotificationOut(ResponseModel):
    id: str
    channel: Channel
    target: str
    status: Literal["queued", "sent", "failed"]
    attempts: int
    error: str | None
    sent_at: str | None
    kind: str = Field(
        description="what it tells: escalation, or a lifecycle notice (acknowledged, resolved...)"
    )
    step: int = Field(description="the escalation step it belongs to")
    loop: int = Field(description="the pass through the policy's steps")
    created_at: str


class NotificationList(ResponseModel):
    items: list[NotificationOut]
    next_cursor: str | None


@bp.route(
    "/v1/orgs/{org_id}/incidents/{incident_id}/notifications",
    summary="Who was notified about an incident, how, and whether it was delivered",
    response=NotificationList,
    tags=TAGS,
)
def list_notifications(org_id: str, incident_id: str) -> dict[str, Any]:
    from chalicelib.usecases import incidents, notifications

    require_member(bp.current_request, org_id)
    items = incidents.notification_log(org_id, _incident_id(incident_id))
    return {"items": [notifications.notification_to_api(n) for n in items], "next_cursor": None}
