"""The request and response models of chalicelib/api/services.py, imported on first use (a view
parsing a body, the OpenAPI document)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from chalicelib.api.fields import HttpUrl, Id, Name, PatchRequest, RequestModel, ResponseModel, SeverityName
from chalicelib.domain.assertions import MAX_ASSERTIONS
from chalicelib.domain.enums import Severity
from chalicelib.domain.monitoring import MonitorStatus
from chalicelib.domain.service_config import (
    DEFAULT_TIMEOUT_SECONDS,
    HEARTBEAT,
    HEARTBEAT_FIELDS,
    MAX_HEADERS,
    PROBE_FIELDS,
)

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


class UpdateServiceRequest(PatchRequest):
    """Any create field; omitted fields keep their value."""

    NULLABLE = frozenset({"keyword", "escalation_policy_id"})
    NULL_REFUSED = "must not be null"

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
