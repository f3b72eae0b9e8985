"""What a GET answers for an incident, a timeline entry and a service, as plain dicts.

The routes answer these, and the real-time publishers push them (a socket gets exactly what a GET
returns); a publisher imports them from here, which loads no route and no pydantic model.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.clock import iso, now_seconds
from chalicelib.domain.roles import Role
from chalicelib.domain.service_config import HEARTBEAT_FIELDS, PROBE_FIELDS, ServiceConfig
from chalicelib.domain.tls import days_remaining
from chalicelib.models.incidents import Incident, IncidentEvent
from chalicelib.models.services import Service, config_of
from chalicelib.settings import settings


def _maybe_iso(value: Any) -> str | None:
    return iso(value) if value is not None else None


def escalation_to_api(incident: Incident) -> dict[str, Any] | None:
    if incident.esc_policy is None:
        return None
    policy: dict[str, Any] = incident.esc_policy.as_dict()
    return {
        "policy_id": policy.get("policy_id"),
        "policy_name": policy.get("name"),
        "step": None if incident.esc_level is None else int(incident.esc_level),
        "loop": None if incident.esc_level_loop is None else int(incident.esc_level_loop),
        "next_step": None if incident.esc_next_step is None else int(incident.esc_next_step),
        "next_at": None if incident.esc_next_at is None else int(incident.esc_next_at),
    }


def ping_url(token: str) -> str:
    return f"{settings.public_url}/ping/{token}"


def incident_to_api(incident: Incident) -> dict[str, Any]:
    escalation = escalation_to_api(incident)
    if escalation is not None:
        escalation["next_at"] = _maybe_iso(escalation["next_at"])
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
        "integration_id": incident.integration_id,
        "assignee_id": incident.assignee_id,
        "alert_count": int(incident.alert_count or 0),
        "created_at": iso(incident.created_at),
        "acknowledged_at": _maybe_iso(incident.acknowledged_at),
        "resolved_at": _maybe_iso(incident.resolved_at),
        "snoozed_until": _maybe_iso(incident.snoozed_until),
        "escalation": escalation,
    }


def event_to_api(event: IncidentEvent) -> dict[str, Any]:
    data = event.data.as_dict() if hasattr(event.data, "as_dict") else dict(event.data or {})
    return {
        "id": event.event_id,
        "at": iso(event.at),
        "type": event.type,
        "actor_id": event.actor_id,
        "data": {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in data.items()},
    }


def service_to_api(service: Service, *, role: Role) -> dict[str, Any]:
    config = config_of(service)
    headers = dict(config.headers)
    if not role.at_least(Role.USER):
        headers = {name: "********" for name in headers}  # probe credentials are not for viewers
    answer = {
        "id": service.service_id,
        "org_id": service.org_id,
        "name": config.name,
        "type": config.type,
        "url": config.url,
        "method": config.method,
        "interval_seconds": config.interval_seconds,
        "timeout_seconds": config.timeout_seconds,
        "expected_status": config.expected_status,
        "keyword": config.keyword,
        "failure_threshold": config.failure_threshold,
        "recovery_threshold": config.recovery_threshold,
        "severity": config.severity,
        "escalation_policy_id": config.escalation_policy_id,
        "headers": headers,
        "enabled": config.enabled,
        "public": config.public,
        "verify_tls": config.verify_tls,
        "tls_expiry_days": config.tls_expiry_days,
        "assertions": config.assertions,
        "tls": tls_to_api(service),
        "status": service.status,
        "down_since": iso(service.down_since) if service.down_since else None,
        "open_incident_id": service.open_incident_id,
        "last_checked_at": iso(service.last_checked_at) if service.last_checked_at else None,
        "created_at": iso(service.created_at),
        "updated_at": iso(service.updated_at),
        **_heartbeat_fields(service, config, role=role),
    }
    if config.is_heartbeat:
        answer.update({name: None for name in PROBE_FIELDS}, headers={})
    return answer


def _heartbeat_fields(service: Service, config: ServiceConfig, *, role: Role) -> dict[str, Any]:
    if not config.is_heartbeat:
        return {name: None for name in (*HEARTBEAT_FIELDS, "ping_url", "last_ping")}
    last_ping = None
    if service.last_ping_at_ms is not None and service.last_ping_kind:
        last_ping = {"at": iso(int(service.last_ping_at_ms) / 1000), "kind": service.last_ping_kind}
    # The token lets anyone move the heartbeat: like probe credentials, not for viewers.
    shown = role.at_least(Role.USER) and service.ping_token
    return {
        "period_seconds": config.period_seconds,
        "cron": config.cron,
        "timezone": config.timezone,
        "grace_seconds": config.grace_seconds,
        "ping_url": ping_url(service.ping_token) if shown else None,
        "last_ping": last_ping,
    }


def tls_to_api(service: Service) -> dict[str, Any] | None:
    """The certificate as last read; days_remaining counted from now, so it stays true between reads."""
    tls = service.tls_reading()
    if not tls or tls.get("expires_at") is None:
        return None
    expires_at = int(tls["expires_at"])
    return {
        "expires_at": iso(expires_at),
        "days_remaining": days_remaining(expires_at, now_seconds()),
        "issuer": str(tls.get("issuer", "")),
        "subject": str(tls.get("subject", "")),
    }
