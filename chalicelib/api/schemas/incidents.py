"""The request and response models of chalicelib/api/incidents.py, imported on first use (a view
parsing a body, the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from chalicelib.api.fields import (
    Id,
    RequestModel,
    ResponseModel,
    SeverityName,
)
from chalicelib.domain.enums import Channel, IncidentStatus, Severity
from chalicelib.domain.incidents import SNOOZE_MINUTES

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
