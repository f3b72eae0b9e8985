"""The request and response models of chalicelib/api/preferences.py, imported on first use (a view
parsing a body, the OpenAPI document)."""

from __future__ import annotations

from pydantic import Field

from chalicelib.api.fields import RequestModel, ResponseModel, SeverityName
from chalicelib.domain.enums import Channel, Severity


class PreferenceRequest(RequestModel):
    enabled: bool
    address: str | None = Field(
        default=None,
        max_length=2048,
        description="email: an address (null: the account's); sms: E.164; webhook/slack: a URL. "
        "Omitted: unchanged.",
    )
    min_severity: SeverityName | None = Field(
        default=None, description="Omitted or null: unchanged (default low)"
    )


class PreferenceOut(ResponseModel):
    channel: Channel
    enabled: bool
    address: str | None
    min_severity: Severity
    updated_at: str | None


class PreferenceList(ResponseModel):
    items: list[PreferenceOut]
    next_cursor: str | None
