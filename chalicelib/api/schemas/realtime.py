"""The request and response models of chalicelib/api/realtime.py, imported on first use (a view
parsing a body, the OpenAPI document)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from chalicelib.api.fields import ResponseModel
from chalicelib.domain.realtime import EventType


class TicketOut(ResponseModel):
    ticket: str = Field(description="Single use, within expires_in seconds")
    url: str = Field(description="The WebSocket address with the ticket in its query string")
    expires_in: int


class OrgEventOut(ResponseModel):
    seq: str = Field(description="Sorts in the order events happened; the same on the socket")
    type: EventType
    org_id: str
    at: str
    data: dict[str, Any] = Field(description="The object as the REST API returns it")


class OrgEventList(ResponseModel):
    items: list[OrgEventOut]
    next_cursor: str | None = Field(description="Pass it as `after` for the next page; null at the end")
