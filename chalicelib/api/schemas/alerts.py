"""The request and response models of chalicelib/api/alerts.py, imported on first use (a view
parsing a body, the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from chalicelib.api.fields import ResponseModel
from chalicelib.domain.alerts import pagerduty


class AlertsAccepted(ResponseModel):
    status: Literal["accepted"]
    dedup_keys: list[str] = Field(description="One per alert of the payload, generated when it had none")


class NativePayload(RootModel[dict[str, Any]]):
    """The integration type's own JSON object (Alertmanager webhook v4, an SNS delivery, ...)."""

    model_config = ConfigDict(defer_build=True)  # built on first use, as RequestModel's are


# The PagerDuty models document what pagerduty.parse_event enforces, as PagerDuty does: fields it
# does not read are ignored (additionalProperties), "\S" means "not blank".
class _PagerDutyDoc(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)


class PagerDutyPayload(_PagerDutyDoc):
    summary: str = Field(max_length=pagerduty.SUMMARY_MAX, pattern=r"\S")
    source: str = Field(pattern=r"\S")
    severity: Literal["critical", "error", "warning", "info"]
    timestamp: Any = Field(default=None, description="ISO 8601; kept as written")
    component: Any = None
    group: Any = None
    class_: Any = Field(default=None, alias="class")
    custom_details: Any = None


class PagerDutyLink(_PagerDutyDoc):
    href: str = Field(pattern=r"\S", description="Kept when it is an http(s) URL")
    text: Any = None


class PagerDutyImage(_PagerDutyDoc):
    src: str = Field(pattern=r"\S")
    href: Any = None
    alt: Any = None


class _PagerDutyEventFields(_PagerDutyDoc):
    routing_key: str = Field(min_length=1, description="An integration key of Vigil")
    links: list[PagerDutyLink] | None = None
    images: list[PagerDutyImage] | None = None
    client: Any = None
    client_url: Any = None


class PagerDutyTrigger(_PagerDutyEventFields):
    event_action: Literal["trigger"]
    dedup_key: str | None = Field(
        default=None, max_length=pagerduty.DEDUP_KEY_MAX, description="Omitted: a new one is made"
    )
    payload: PagerDutyPayload


class PagerDutyAcknowledge(_PagerDutyEventFields):
    event_action: Literal["acknowledge"]
    dedup_key: str = Field(max_length=pagerduty.DEDUP_KEY_MAX, pattern=r"\S")
    payload: Any = Field(default=None, description="Ignored")


class PagerDutyResolve(_PagerDutyEventFields):
    event_action: Literal["resolve"]
    dedup_key: str = Field(max_length=pagerduty.DEDUP_KEY_MAX, pattern=r"\S")
    payload: Any = Field(default=None, description="Ignored")


class PagerDutyEvent(
    RootModel[
        Annotated[
            PagerDutyTrigger | PagerDutyAcknowledge | PagerDutyResolve, Field(discriminator="event_action")
        ]
    ]
):
    """PagerDuty Events API v2: https://developer.pagerduty.com/docs/events-api-v2/overview/ (a
    trigger needs ``payload``, acknowledge and resolve need ``dedup_key``)."""

    model_config = ConfigDict(defer_build=True)


class EventProcessed(ResponseModel):
    status: Literal["success"]
    message: Literal["Event processed"]
    dedup_key: str
