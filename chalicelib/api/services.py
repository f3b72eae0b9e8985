"""/v1/orgs/{org_id}/services: monitors, their check history and metrics."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import JsonDict

from chalicelib.api.access import require_member
from chalicelib.api.fields import HttpUrl, Id, Name, RequestModel, ResponseModel, SeverityName
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
from chalicelib.domain.assertions import MAX_ASSERTIONS
from chalicelib.domain.checks import CheckRecord
from chalicelib.domain.clock import iso, now_seconds
from chalicelib.domain.enums import Severity
from chalicelib.domain.monitoring import MonitorStatus
from chalicelib.domain.roles import Role
from chalicelib.domain.service_config import (
    DEFAULT_TIMEOUT_SECONDS,
    HEARTBEAT,
    HEARTBEAT_FIELDS,
    MAX_HEADERS,
    PROBE_FIELDS,
    ServiceConfig,
)

# Use cases are imported inside the routes that call them (docs/architecture.md, "What a cold start imports").

bp = VigilBlueprint(__name__)
TAGS = ("services",)
MAX_HOURS = 720
MAX_DAYS = 365

Method = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
TIMEOUT_TEXT = (
    f"Below interval_seconds; omitted or null: {DEFAULT_TIMEOUT_SECONDS}, or 80% of a shorter interval"
)


ServiceType = Literal["http", "heartbeat"]
PERIOD_TEXT = "Heartbeat: seconds between the job's runs (60+, VIGIL_MIN_HEARTBEAT_SECONDS); or cron"
CRON_TEXT = "Heartbeat: 5-field cron expression of the job's runs (in timezone); give this or period_seconds"
AssertionSource = Literal["json", "header", "response_time_ms"]
AssertionOp = Literal["==", "!=", "<", "<=", ">", ">=", "contains", "exists"]
TLS_EXPIRY_TEXT = (
    "Days before expiry at which the certificate's incident opens or climbs in severity "
    "(https only; largest first; [] turns warnings off)"
)


class AssertionIn(RequestModel):
    """One condition on the response; all must hold for a check to be up."""

    source: AssertionSource
    path: str | None = Field(
        default=None, min_length=1, max_length=200, description="JMESPath, for source json"
    )
    name: str | None = Field(default=None, min_length=1, max_length=100, description="For source header")
    op: AssertionOp
    value: Any = Field(default=None, description="Omitted for exists: true")


class AssertionOut(ResponseModel):
    source: AssertionSource
    path: str | None = None
    name: str | None = None
    op: AssertionOp
    value: Any = None


class TlsOut(ResponseModel):
    expires_at: str
    days_remaining: int
    issuer: str
    subject: str


class ServiceFields(RequestModel):
    url: HttpUrl | None = Field(default=None, description="http(s) URL to probe (type http: required)")
    method: Method = "GET"
    interval_seconds: int = Field(
        default=60, ge=1, le=86_400, description="At least the deployment's VIGIL_MIN_INTERVAL_SECONDS"
    )
    timeout_seconds: int | None = Field(default=None, ge=1, le=60, description=TIMEOUT_TEXT)
    expected_status: str = Field(default="200-399", max_length=200, examples=["200-299,301"])
    keyword: str | None = Field(
        default=None, min_length=1, max_length=1000, description="The body must contain it"
    )
    failure_threshold: int = Field(default=2, ge=1, le=10)
    recovery_threshold: int = Field(default=1, ge=1, le=10)
    severity: SeverityName = Severity.HIGH
    escalation_policy_id: Id | None = None
    headers: dict[str, str] = Field(default_factory=dict, max_length=MAX_HEADERS)
    enabled: bool = True
    public: bool = False
    type: ServiceType = Field(default="http", description="heartbeat: pinged by the job, never probed")
    period_seconds: int | None = Field(default=None, ge=1, le=2_678_400, description=PERIOD_TEXT)
    cron: str | None = Field(default=None, min_length=1, max_length=200, description=CRON_TEXT)
    timezone: str = Field(default="UTC", min_length=1, max_length=64, description="IANA zone of cron")
    grace_seconds: int = Field(default=300, ge=1, le=86_400, description="Heartbeat: lateness allowed (60+)")
    verify_tls: bool = Field(default=True, description="false: certificate errors do not fail the check")
    tls_expiry_days: list[int] = Field(default=[14, 7, 1], max_length=5, description=TLS_EXPIRY_TEXT)
    assertions: list[AssertionIn] = Field(default_factory=list, max_length=MAX_ASSERTIONS)


class CreateServiceRequest(ServiceFields):
    name: Name

    @model_validator(mode="after")
    def _fields_of_its_type(self) -> CreateServiceRequest:
        refused = PROBE_FIELDS if self.type == HEARTBEAT else HEARTBEAT_FIELDS
        for name in sorted(self.model_fields_set & set(refused)):
            raise ValueError(f"{name}: is not a field of a {self.type} service")
        if self.type != HEARTBEAT and self.url is None:
            raise ValueError("url: is required")
        return self


def _only_nullable_fields_take_null(schema: JsonDict, model: type[BaseModel]) -> None:
    """Omitted means unchanged, null is refused (except NULLABLE): the schema says so."""
    properties: Any = schema.get("properties", {})
    for name, field_schema in properties.items():
        if name in NULLABLE:
            continue
        field_schema.pop("default", None)
        choices = [c for c in field_schema.pop("anyOf", []) if c != {"type": "null"}]
        if choices:
            field_schema.update(choices[0])


class UpdateServiceRequest(RequestModel):
    """Any create field; omitted fields keep their value."""

    model_config = ConfigDict(json_schema_extra=_only_nullable_fields_take_null)

    name: Name | None = None
    url: HttpUrl | None = None
    method: Method | None = None
    interval_seconds: int | None = Field(default=None, ge=1, le=86_400)
    timeout_seconds: int | None = Field(default=None, ge=1, le=60, description="Below interval_seconds")
    expected_status: str | None = Field(default=None, max_length=200)
    keyword: str | None = Field(default=None, min_length=1, max_length=1000, description="null: none")
    failure_threshold: int | None = Field(default=None, ge=1, le=10)
    recovery_threshold: int | None = Field(default=None, ge=1, le=10)
    severity: SeverityName | None = None
    escalation_policy_id: Id | None = Field(default=None, description="null: none")
    headers: dict[str, str] | None = Field(default=None, max_length=MAX_HEADERS)
    enabled: bool | None = None
    public: bool | None = None
    type: ServiceType | None = Field(default=None, description="Cannot change (409)")
    period_seconds: int | None = Field(default=None, ge=1, le=2_678_400, description=PERIOD_TEXT)
    cron: str | None = Field(default=None, min_length=1, max_length=200, description=CRON_TEXT)
    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    grace_seconds: int | None = Field(default=None, ge=1, le=86_400)
    verify_tls: bool | None = None
    tls_expiry_days: list[int] | None = Field(default=None, max_length=5)
    assertions: list[AssertionIn] | None = Field(default=None, max_length=MAX_ASSERTIONS)

    @model_validator(mode="after")
    def _only_optional_fields_may_be_null(self) -> UpdateServiceRequest:
        for name in self.model_fields_set:
            if getattr(self, name) is None and name not in NULLABLE:
                raise ValueError(f"{name}: must not be null")
        return self


NULLABLE = {"keyword", "escalation_policy_id"}


class LastPing(ResponseModel):
    at: str
    kind: Literal["success", "start", "fail", "log"]


class ServiceOut(ResponseModel):
    id: str
    org_id: str
    name: str
    type: ServiceType
    url: str | None = Field(description="null for a heartbeat, as the other probe fields")
    method: str | None
    interval_seconds: int | None
    timeout_seconds: int | None
    expected_status: str | None
    keyword: str | None
    failure_threshold: int
    recovery_threshold: int
    severity: Severity
    escalation_policy_id: str | None
    headers: dict[str, str]
    enabled: bool
    public: bool
    verify_tls: bool
    tls_expiry_days: list[int]
    assertions: list[AssertionOut]
    tls: TlsOut | None = Field(description="The served certificate, read at most once a day (https only)")
    status: MonitorStatus
    down_since: str | None
    open_incident_id: str | None
    last_checked_at: str | None
    created_at: str
    updated_at: str
    period_seconds: int | None = Field(description="Heartbeat only, as the fields below")
    cron: str | None
    timezone: str | None
    grace_seconds: int | None
    ping_url: str | None = Field(description="Heartbeat: where its job pings (null for viewers)")
    last_ping: LastPing | None


class ServiceList(ResponseModel):
    items: list[ServiceOut]
    next_cursor: str | None


class CheckOut(ResponseModel):
    checked_at: str
    status: Literal["up", "down", "missed", "info"] = Field(description="info: a start or log ping")
    response_time_ms: int | None
    status_code: int | None
    error: str | None
    kind: Literal["success", "start", "fail", "log"] | None = Field(
        description="A heartbeat's ping; null: probe"
    )
    duration_ms: int | None = Field(description="Ping: the run's time since its start")
    rid: str | None
    body: str | None = Field(description="Ping: the POST body (first 10 KB)")
    exit_status: int | None


class CheckList(ResponseModel):
    items: list[CheckOut]
    next_cursor: str | None


class Queued(ResponseModel):
    status: Literal["queued"]
    service_id: str


class ResponseTimes(ResponseModel):
    avg: float | None
    p50: float | None
    p95: float | None


class SeverityCounts(ResponseModel):
    low: int
    medium: int
    high: int
    critical: int


class MetricsOut(ResponseModel):
    service_id: str
    status: MonitorStatus
    uptime_percentage: float
    total_checks: int
    failed_checks: int
    incident_count: int
    mttr_seconds: float | None = Field(description="null when no incident was resolved")
    mtta_seconds: float | None = Field(description="null when no incident was acknowledged")
    total_downtime_seconds: int
    current_downtime_seconds: int
    maintenance_seconds: int = Field(
        description="Time in maintenance windows: neither uptime nor downtime, and its checks are "
        "left out of uptime_percentage"
    )
    severity_distribution: SeverityCounts
    response_time_ms: ResponseTimes


class MetricsTotals(ResponseModel):
    services: int
    up: int
    down: int
    paused: int
    pending: int
    maintenance: int
    total_checks: int
    failed_checks: int
    uptime_percentage: float
    incident_count: int
    mttr_seconds: float | None
    mtta_seconds: float | None
    total_downtime_seconds: int
    maintenance_seconds: int
    severity_distribution: SeverityCounts


class OrgMetrics(ResponseModel):
    services: list[MetricsOut]
    totals: MetricsTotals


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
    body=CreateServiceRequest,
    response=ServiceOut,
    tags=TAGS,
)
def create_service(org_id: str) -> dict[str, Any]:
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
    response=ServiceList,
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


@bp.route("/v1/orgs/{org_id}/services/{service_id}", summary="One service", response=ServiceOut, tags=TAGS)
def get_service(org_id: str, service_id: str) -> dict[str, Any]:
    from chalicelib.usecases import services

    actor = require_member(bp.current_request, org_id)
    return service_to_api(services.get_service(org_id, _service_id(service_id)), role=actor.role)


@bp.route(
    "/v1/orgs/{org_id}/services/{service_id}",
    methods=("PATCH",),
    summary="Change a service (role user); enabled=false pauses it",
    body=UpdateServiceRequest,
    response=ServiceOut,
    tags=TAGS,
    errors=(409,),
)
def update_service(org_id: str, service_id: str) -> dict[str, Any]:
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
    response=Queued,
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
    response=ServiceOut,
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
    response=CheckList,
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
    response=MetricsOut,
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
    response=OrgMetrics,
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
