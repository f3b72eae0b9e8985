"""Incidents: reading them, and the ones monitors open and resolve."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.domain.ids import new_id
from chalicelib.models.checks import service_key
from chalicelib.models.incidents import Incident
from chalicelib.settings import settings
from chalicelib.usecases.dynamo import condition_failed
from chalicelib.usecases.pagination import Page, fetch_page

logger = Logger(service="vigil", child=True, level=settings.log_level)

STATUSES = ("open", "acknowledged", "snoozed", "resolved")
SEVERITIES = ("low", "medium", "high", "critical")


def get_incident(org_id: str, incident_id: str) -> Incident:
    try:
        return Incident.get(org_id, incident_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound("incident not found") from exc


def list_incidents(
    org_id: str,
    *,
    status: str | None,
    severity: str | None,
    service_id: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Incident]:
    """Newest first, through the index that fits the filters (never a Scan)."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"must be one of {', '.join(STATUSES)}", field="status")
    if severity is not None and severity not in SEVERITIES:
        raise InvalidInput(f"must be one of {', '.join(SEVERITIES)}", field="severity")
    conditions: list[Any] = []
    if severity is not None:
        conditions.append(Incident.severity == severity)
    if service_id is not None and status is not None:
        conditions.append(Incident.service_id == service_id)
    filter_condition = None
    for condition in conditions:
        filter_condition = condition if filter_condition is None else filter_condition & condition
    scope = f"incidents:{org_id}:{status}:{severity}:{service_id}"
    if status is not None:
        return fetch_page(
            lambda **kw: Incident.by_status.query(
                Incident.status_key(org_id, status),
                scan_index_forward=False,
                filter_condition=filter_condition,
                **kw,
            ),
            limit=limit,
            cursor=cursor,
            scope=scope,
        )
    if service_id is not None:
        return fetch_page(
            lambda **kw: Incident.by_service.query(
                service_key(org_id, service_id),
                scan_index_forward=False,
                filter_condition=filter_condition,
                **kw,
            ),
            limit=limit,
            cursor=cursor,
            scope=scope,
        )
    return fetch_page(
        lambda **kw: Incident.query(
            org_id, scan_index_forward=False, filter_condition=filter_condition, **kw
        ),
        limit=limit,
        cursor=cursor,
        scope=scope,
    )


def monitor_category(error: str | None, status_code: int | None) -> str:
    """Until the classifier lands, an outage is 'server' when the service answered, else 'network'."""
    return "server" if status_code is not None else "network"


def new_monitor_incident(
    *,
    org_id: str,
    service_id: str,
    service_name: str,
    url: str,
    severity: str,
    at: int,
    error: str | None,
    status_code: int | None,
) -> Incident:
    reason = error or "check failed"
    return Incident(
        org_id,
        new_id(now_ms=at * 1000),
        title=f"{service_name} is down",
        description=f"{url} failed its checks: {reason}",
        severity=severity,
        status="open",
        org_status=Incident.status_key(org_id, "open"),
        category=monitor_category(error, status_code),
        source="monitor",
        service_id=service_id,
        service_key=service_key(org_id, service_id),
        dedup_key=f"monitor:{service_id}",
        alert_count=1,
        created_at=at,
        version=0,
    )


def resolve_actions(org_id: str, *, at: int, note: str) -> list[Any]:
    return [
        Incident.status.set("resolved"),
        Incident.org_status.set(Incident.status_key(org_id, "resolved")),
        Incident.resolved_at.set(at),
        Incident.resolution_note.set(note),
        Incident.version.add(1),
    ]


def resolve_monitor_incident(org_id: str, incident_id: str, *, note: str, now: int) -> None:
    """Resolves it unless someone already did (then nothing changes)."""
    incident = Incident(org_id, incident_id)
    try:
        incident.update(
            actions=resolve_actions(org_id, at=now, note=note),
            condition=Incident.incident_id.exists() & (Incident.status != "resolved"),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
