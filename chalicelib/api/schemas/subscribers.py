"""The request and response models of chalicelib/api/subscribers.py, imported on first use (a view
parsing a body, the OpenAPI document)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from chalicelib.api.fields import Email, RequestModel, ResponseModel


class SubscribeRequest(RequestModel):
    email: Email


class SubscribeAccepted(ResponseModel):
    status: Literal["accepted"]
    message: str = Field(description="The same for every address, subscribed or not")


class SubscriberCountsOut(ResponseModel):
    count: int = Field(description="confirmed + pending")
    confirmed: int = Field(description="Subscribers who confirmed: they get every notice")
    pending: int = Field(description="Asked but not confirmed yet (forgotten after 7 days)")
