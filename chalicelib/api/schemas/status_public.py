"""The request and response models of chalicelib/api/status_public.py, imported on first use (a view
parsing a body, the OpenAPI document)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from chalicelib.api.fields import ResponseModel

ComponentStatusName = Literal[
    "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"
]


class DayUptimeOut(ResponseModel):
    date: str = Field(description="A UTC day, YYYY-MM-DD")
    uptime_percentage: float | None = Field(description="null: no data that day (before the service existed)")


class PublicComponentOut(ResponseModel):
    id: str
    name: str
    group: str | None
    status: ComponentStatusName
    uptime_percentage_90d: float | None
    uptime_90d: list[DayUptimeOut] = Field(description="One entry per UTC day, oldest first (90)")


class PublicPostOut(ResponseModel):
    id: str
    title: str
    status: Literal["investigating", "identified", "monitoring", "resolved"]
    message: str
    created_at: str
    component_ids: list[str]


class PublicMaintenanceOut(ResponseModel):
    title: str
    state: Literal["active", "upcoming"]
    starts_at: str
    ends_at: str
    component_ids: list[str]


class PublicStatusOut(ResponseModel):
    slug: str
    title: str
    description: str
    status: ComponentStatusName = Field(description="The worst of the components' statuses")
    components: list[PublicComponentOut]
    posts: list[PublicPostOut] = Field(description="Newest first")
    maintenances: list[PublicMaintenanceOut] = Field(description="Active first, then upcoming by start")
    updated_at: str


class SummaryPageOut(ResponseModel):
    id: str
    name: str
    url: str
    time_zone: str
    updated_at: str


class SummaryComponentOut(ResponseModel):
    id: str
    name: str
    status: ComponentStatusName
    created_at: str
    updated_at: str
    position: int
    description: str | None
    showcase: bool
    start_date: str | None
    group_id: str | None
    page_id: str
    group: bool
    only_show_if_degraded: bool
    components: list[str] | None = Field(default=None, description="A group's members (groups only)")


class SummaryUpdateOut(ResponseModel):
    id: str
    status: str
    body: str
    incident_id: str
    created_at: str
    updated_at: str
    display_at: str
    affected_components: list[dict[str, Any]] | None
    deliver_notifications: bool
    custom_tweet: str | None
    tweet_id: str | None


class SummaryIncidentOut(ResponseModel):
    id: str
    name: str
    status: str
    created_at: str
    updated_at: str
    monitoring_at: str | None
    resolved_at: str | None
    impact: Literal["none", "minor", "major", "critical", "maintenance"]
    shortlink: str
    started_at: str
    page_id: str
    incident_updates: list[SummaryUpdateOut]
    components: list[SummaryComponentOut]


class SummaryMaintenanceOut(SummaryIncidentOut):
    scheduled_for: str
    scheduled_until: str


class SummaryStatusOut(ResponseModel):
    indicator: Literal["none", "minor", "major", "critical", "maintenance"]
    description: str


class SummaryOut(ResponseModel):
    """Atlassian Statuspage's `summary.json` (v2)."""

    page: SummaryPageOut
    components: list[SummaryComponentOut]
    incidents: list[SummaryIncidentOut] = Field(description="Unresolved stories, newest first")
    scheduled_maintenances: list[SummaryMaintenanceOut]
    status: SummaryStatusOut
