"""The request and response models of chalicelib/api/maintenance.py, imported on first use (a view
parsing a body, the OpenAPI document)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from chalicelib.api.fields import Id, Name, PatchRequest, RequestModel, ResponseModel
from chalicelib.domain.maintenance import (
    MAX_ONE_OFF_MINUTES,
    MAX_RECURRENCE_CHARS,
    MAX_SERVICE_IDS,
    MIN_DURATION_MINUTES,
)

TIME_DESCRIPTION = (
    "ISO 8601, e.g. 2027-03-14T04:00:00Z or 2027-03-14T04:00:00+01:00; without an offset the time is "
    "read in the window's `timezone`"
)


def _time_field(description: str) -> Any:
    return Field(default=None, min_length=1, max_length=64, description=f"{description}. {TIME_DESCRIPTION}")


class CreateWindowRequest(RequestModel):
    title: Name
    service_ids: list[Id] = Field(
        default_factory=list,
        max_length=MAX_SERVICE_IDS,
        description="Services of this organization; empty: every service",
    )
    starts_at: str | None = _time_field("The first occurrence's start; default now")
    ends_at: str | None = _time_field("The first occurrence's end (give it or duration_minutes)")
    duration_minutes: int | None = Field(
        default=None,
        ge=MIN_DURATION_MINUTES,
        le=MAX_ONE_OFF_MINUTES,
        description="Length of each occurrence (a recurring one: at most 7 days)",
    )
    recurrence: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_RECURRENCE_CHARS,
        description="RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=SU (DAILY, WEEKLY, MONTHLY or YEARLY; the time "
        "of day comes from starts_at, kept in `timezone` across daylight-saving changes)",
    )
    timezone: str = Field(default="UTC", min_length=1, max_length=64, description="An IANA time zone")


class UpdateWindowRequest(PatchRequest):
    """Any create field; omitted fields keep their value. New timing is checked as on create."""

    NULLABLE = frozenset({"recurrence"})  # null makes the window one-off

    title: Name | None = None
    service_ids: list[Id] | None = Field(default=None, max_length=MAX_SERVICE_IDS)
    starts_at: str | None = _time_field("The first occurrence's start")
    ends_at: str | None = _time_field("The first occurrence's end")
    duration_minutes: int | None = Field(default=None, ge=MIN_DURATION_MINUTES, le=MAX_ONE_OFF_MINUTES)
    recurrence: str | None = Field(default=None, min_length=1, max_length=MAX_RECURRENCE_CHARS)
    timezone: str | None = Field(default=None, min_length=1, max_length=64)


class WindowOut(ResponseModel):
    id: str
    org_id: str
    title: str
    service_ids: list[str]
    starts_at: str
    ends_at: str = Field(description="The first occurrence's end")
    duration_minutes: float
    recurrence: str | None
    timezone: str
    state: Literal["scheduled", "active", "ended"]
    next_starts_at: str | None = Field(
        description="The current occurrence's start while active, else the next"
    )
    next_ends_at: str | None
    suppressed_alerts: int
    created_at: str
    updated_at: str


class WindowList(ResponseModel):
    items: list[WindowOut]
    next_cursor: str | None
