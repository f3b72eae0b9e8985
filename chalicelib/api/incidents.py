"""/v1/orgs/{org_id}/incidents: reading incidents (their lifecycle routes come with escalation)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from chalicelib.api.access import require_member
from chalicelib.api.fields import ResponseModel
from chalicelib.api.http import PAGE_PARAMS, QueryParam, VigilBlueprint, is_plausible_id, page_params
from chalicelib.domain.clock import iso
from chalicelib.domain.errors import NotFound
from chalicelib.models.incidents import Incident
from chalicelib.usecases import incidents

bp = VigilBlueprint(__name__)
TAGS = ("incidents",)


class EscalationOut(ResponseModel):
    policy_id: str | None
    step: int | None
    next_at: str | None


class IncidentOut(ResponseModel):
    id: str
    org_id: str
    title: str
    description: str
    severity: Literal["low", "medium", "high", "critical"]
    status: Literal["open", "acknowledged", "snoozed", "resolved"]
    category: str
    source: Literal["manual", "monitor", "alert"]
    service_id: str | None
    dedup_key: str | None
    assignee_id: str | None
    alert_count: int
    created_at: str
    acknowledged_at: str | None
    resolved_at: str | None
    escalation: EscalationOut | None


class IncidentList(ResponseModel):
    items: list[IncidentOut]
    next_cursor: str | None


def _maybe_iso(value: Any) -> str | None:
    return iso(value) if value is not None else None


def incident_to_api(incident: Incident) -> dict[str, Any]:
    escalation = incident.escalation.as_dict() if incident.escalation is not None else None
    return {
        "id": incident.incident_id,
        "org_id": incident.org_id,
        "title": incident.title,
        "description": incident.description,
        "severity": incident.severity,
        "status": incident.status,
        "category": incident.category,
        "source": incident.source,
        "service_id": incident.service_id,
        "dedup_key": incident.dedup_key,
        "assignee_id": incident.assignee_id,
        "alert_count": int(incident.alert_count or 0),
        "created_at": iso(incident.created_at),
        "acknowledged_at": _maybe_iso(incident.acknowledged_at),
        "resolved_at": _maybe_iso(incident.resolved_at),
        "escalation": {
            "policy_id": escalation.get("policy_id"),
            "step": escalation.get("step"),
            "next_at": _maybe_iso(escalation.get("next_at")),
        }
        if escalation
        else None,
    }


@bp.route(
    "/v1/orgs/{org_id}/incidents",
    summary="Incidents, newest first; filter by status, severity, service_id",
    response=IncidentList,
    tags=TAGS,
    query=(
        QueryParam("status", "open, acknowledged, snoozed or resolved", {"type": "string"}),
        QueryParam("severity", "low, medium, high or critical", {"type": "string"}),
        QueryParam("service_id", "Only this service's incidents", {"type": "string"}),
        *PAGE_PARAMS,
    ),
    errors=(400,),
)
def list_incidents(org_id: str) -> dict[str, Any]:
    require_member(bp.current_request, org_id)
    params: Mapping[str, str] = bp.current_request.query_params or {}
    limit, cursor = page_params(bp.current_request)
    page = incidents.list_incidents(
        org_id,
        status=params.get("status"),
        severity=params.get("severity"),
        service_id=params.get("service_id"),
        limit=limit,
        cursor=cursor,
    )
    return {"items": [incident_to_api(i) for i in page.items], "next_cursor": page.next_cursor}


@bp.route(
    "/v1/orgs/{org_id}/incidents/{incident_id}", summary="One incident", response=IncidentOut, tags=TAGS
)
def get_incident(org_id: str, incident_id: str) -> dict[str, Any]:
    require_member(bp.current_request, org_id)
    if not is_plausible_id(incident_id):
        raise NotFound("incident not found")
    return incident_to_api(incidents.get_incident(org_id, incident_id))
