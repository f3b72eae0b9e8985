"""The request and response models of chalicelib/api/integrations.py, imported on first use (a view
parsing a body, the OpenAPI document)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from chalicelib.api.fields import Id, Name, RequestModel, ResponseModel, SeverityName
from chalicelib.domain.enums import Severity

IntegrationType = Literal["generic", "pagerduty", "alertmanager", "grafana", "cloudwatch", "elastic"]


class CreateIntegrationRequest(RequestModel):
    name: Name
    type: IntegrationType
    service_id: Id | None = Field(default=None, description="Incidents it opens belong to this service")
    severity: SeverityName | None = Field(
        default=None, description="For alerts whose payload has no severity (default: high)"
    )


class IntegrationOut(ResponseModel):
    id: str
    name: str
    type: IntegrationType
    service_id: str | None
    severity: Severity
    key: str = Field(description="In full only in the answer to POST; masked (…1a2b) afterwards")
    ingest_url: str = Field(description="POST the tool's native payload here; masked like the key")
    created_at: str


class IntegrationList(ResponseModel):
    items: list[IntegrationOut]
    next_cursor: str | None
