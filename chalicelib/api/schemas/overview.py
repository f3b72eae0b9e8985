"""The request and response models of chalicelib/api/overview.py, imported on first use (a view
parsing a body, the OpenAPI document)."""

from __future__ import annotations

from chalicelib.api.fields import ResponseModel


class SparklinePoint(ResponseModel):
    hour: str
    response_time_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    uptime_percentage: float | None


class ServiceSummaryOut(ResponseModel):
    service_id: str
    uptime_24h: float | None
    uptime_30d: float | None
    response_time_ms: float | None
    sparkline: list[SparklinePoint]


class OverviewOut(ResponseModel):
    items: list[ServiceSummaryOut]
