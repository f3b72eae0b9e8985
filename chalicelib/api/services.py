"""/v1/orgs/{org_id}/services: monitors, their check history and metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.api.access import require_member
from chalicelib.api.http import (
    PAGE_PARAMS,
    QueryParam,
    VigilBlueprint,
    int_param,
    page_params,
    parse_body,
    path_id,
)
from chalicelib.api.shapes import service_to_api
from chalicelib.domain.checks import CheckRecord
from chalicelib.domain.clock import iso, now_seconds
from chalicelib.domain.roles import Role
from chalicelib.domain.service_config import ServiceConfig

if TYPE_CHECKING:
    from chalicelib.api.schemas.services import AssertionIn

# Use cases are imported inside the routes that call them (docs/architecture.md, "What a cold start imports").

bp = VigilBlueprint(__name__, schemas="chalicelib.api.schemas.services")
TAGS = ("services",)
MAX_HOURS = 720
MAX_DAYS = 365


HOURS = QueryParam(
    "hours",
    f"How far back (1-{MAX_HOURS}).",
    {"type": "integer", "minimum": 1, "maximum": MAX_HOURS, "default": 24},
)
DAYS = QueryParam(
    "days",
    f"How far back (1-{MAX_DAYS}).",
    {"type": "integer", "minimum": 1, "maximum": MAX_DAYS, "default": 30},
)


def check_to_api(record: CheckRecord) -> dict[str, Any]:
    return {
        "checked_at": iso(record.checked_at),
        "status": record.status,
        "response_time_ms": record.response_time_ms,
        "status_code": record.status_code,
        "error": record.error,
        "kind": record.kind,
        "duration_ms": record.duration_ms,
        "rid": record.rid,
        "body": record.body,
        "exit_status": record.exit_status,
    }


def assertions_in(assertions: list[AssertionIn]) -> list[dict[str, Any]]:
    """As sent (fields left out stay out: an exists without value means true); the domain checks them."""
    return [a.model_dump(exclude_unset=True) for a in assertions]


def _service_id(service_id: str) -> str:
    return path_id(service_id, what="service")


@bp.route(
    "/v1/orgs/{org_id}/services",
    methods=("POST",),
    summary="Monitor a URL (role user); it is checked at once, then every interval",
    status=201,
    body="CreateServiceRequest",
    response="ServiceOut",
    tags=TAGS,
)
def create_service(org_id: str) -> dict[str, Any]:
    from chalicelib.api.schemas.services import CreateServiceRequest
    from chalicelib.usecases import services

    actor = require_member(bp.current_request, org_id, min_role=Role.USER)
    request = parse_body(bp.current_request, CreateServiceRequest)
    fields = request.model_dump()
    fields["url"] = fields["url"] or ""  # a heartbeat has none
    fields["assertions"] = assertions_in(request.assertions)
    service = services.create_service(org_id, actor.user_id, ServiceConfig(**fields))
    return service_to_api(service, role=actor.role)


@bp.route(
    "/v1/orgs/{org_id}/services",
    summary="Services of an organization, newest first",
    response="ServiceList",
    tags=TAGS,
    query=PAGE_PARAMS,
    errors=(400,),
)
def list_services(org_id: str) -> dict[str, Any]:
    from chalicelib.usecases import services

    actor = require_member(bp.current_request, org_id)
    limit, cursor = page_params(bp.current_request)
    page = services.list_services(org_id, limit=limit, cursor=cursor)
    return {
        "items": [service_to_api(s, role=actor.role) for s in page.items],
        "next_cursor": page.next_cursor,
    }


@bp.route("/v1/orgs/{org_id}/services/{service_id}", summary="One service", response="ServiceOut", tags=TAGS)
def get_service(org_id: str, service_id: str) -> dict[str, Any]:
    from chalicelib.usecases import services

    actor = require_member(bp.current_request, org_id)
    return service_to_api(services.get_service(org_id, _service_id(service_id)), role=actor.role)


@bp.route(
    "/v1/orgs/{org_id}/services/{service_id}",
    methods=("PATCH",),
    summary="Change a service (role user); enabled=false pauses it",
    body="UpdateServiceRequest",
    response="ServiceOut",
    tags=TAGS,
    errors=(409,),
)
def update_service(org_id: str, service_id: str) -> dict[str, Any]:
    from chalicelib.api.schemas.services import UpdateServiceRequest
    from chalicelib.usecases import services

    actor = require_member(bp.current_request, org_id, min_role=Role.USER)
    request = parse_body(bp.current_request, UpdateServiceRequest)
    changes = {name: getattr(request, name) for name in request.model_fields_set}
    if request.assertions is not None:
        changes["assertions"] = assertions_in(request.assertions)
    service = services.update_service(org_id, _service_id(service_id), changes)
    return service_to_api(service, role=actor.role)


@bp.route(
    "/v1/orgs/{org_id}/services/{service_id}",
    methods=("DELETE",),
    summary="Stop monitoring and delete a service with its history (role user)",
    status=204,
    tags=TAGS,
)
def delete_service(org_id: str, service_id: str) -> None:
    from chalicelib.usecases import services

    require_member(bp.current_request, org_id, min_role=Role.USER)
    services.delete_service(org_id, _service_id(service_id))


@bp.route(
    "/v1/orgs/{org_id}/services/{service_id}/check",
    methods=("POST",),
    summary="Probe a service now (role user)",
    status=202,
    response="Queued",
    tags=TAGS,
    errors=(409,),
)
def check_now(org_id: str, service_id: str) -> dict[str, Any]:
    from chalicelib.usecases import services

    require_member(bp.current_request, org_id, min_role=Role.USER)
    service = services.check_now(org_id, _service_id(service_id))
    return {"status": "queued", "service_id": service.service_id}


@bp.route(
    "/v1/orgs/{org_id}/services/{service_id}/rotate-ping-token",
    methods=("POST",),
    summary="Give a heartbeat a new ping URL (role user); the old one stops at once",
    response="ServiceOut",
    tags=TAGS,
    errors=(409,),
)
def rotate_ping_token(org_id: str, service_id: str) -> dict[str, Any]:
    from chalicelib.usecases import services

    actor = require_member(bp.current_request, org_id, min_role=Role.USER)
    service = services.rotate_ping_token(org_id, _service_id(service_id))
    return service_to_api(service, role=actor.role)


@bp.route(
    "/v1/orgs/{org_id}/services/{service_id}/checks",
    summary="Recent checks, newest first",
    response="CheckList",
    tags=TAGS,
    query=(HOURS, *PAGE_PARAMS),
    errors=(400,),
)
def list_checks(org_id: str, service_id: str) -> dict[str, Any]:
    from chalicelib.usecases import services

    require_member(bp.current_request, org_id)
    hours = int_param(bp.current_request, "hours", default=24, low=1, high=MAX_HOURS)
    limit, cursor = page_params(bp.current_request)
    page = services.recent_checks(
        org_id, _service_id(service_id), hours=hours, now=now_seconds(), limit=limit, cursor=cursor
    )
    return {"items": [check_to_api(c) for c in page.items], "next_cursor": page.next_cursor}


@bp.route(
    "/v1/orgs/{org_id}/services/{service_id}/metrics",
    summary="Uptime, incidents, MTTR/MTTA, downtime and response times over the last days",
    response="MetricsOut",
    tags=TAGS,
    query=(DAYS,),
    errors=(400,),
)
def service_metrics(org_id: str, service_id: str) -> dict[str, Any]:
    from chalicelib.usecases import services

    require_member(bp.current_request, org_id)
    days = int_param(bp.current_request, "days", default=30, low=1, high=MAX_DAYS)
    return services.metrics(org_id, _service_id(service_id), days=days, now=now_seconds()).to_api()


@bp.route(
    "/v1/orgs/{org_id}/metrics",
    summary="Metrics of every service of the organization, and totals",
    response="OrgMetrics",
    tags=TAGS,
    query=(DAYS,),
    errors=(400,),
)
def org_metrics(org_id: str) -> dict[str, Any]:
    from chalicelib.usecases import services

    require_member(bp.current_request, org_id)
    days = int_param(bp.current_request, "days", default=30, low=1, high=MAX_DAYS)
    per_service, totals = services.org_metrics(org_id, days=days, now=now_seconds())
    return {"services": [m.to_api() for m in per_service], "totals": totals}
