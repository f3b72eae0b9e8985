"""The request and response models of chalicelib/api/policies.py, imported on first use (a view
parsing a body, the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from chalicelib.api.fields import (
    Email,
    HttpUrl,
    Id,
    Name,
    RequestModel,
    ResponseModel,
    RoleName,
    SeverityName,
)
from chalicelib.domain.enums import Severity
from chalicelib.domain.escalation import MAX_DELAY_MINUTES, MAX_REPEAT, MAX_STEPS, MAX_TARGETS_PER_STEP
from chalicelib.domain.notifications import E164_REQUEST_MAX_CHARS, E164_REQUEST_PATTERN


class UserTarget(RequestModel):
    type: Literal["user"]
    id: Id = Field(description="A member's user id: notified on the channels of their preferences")


class RoleTarget(RequestModel):
    type: Literal["role"]
    role: RoleName = Field(description="Every member with this role")


class EmailTarget(RequestModel):
    type: Literal["email"]
    address: Email


# E.164: + and 7-15 digits (the rule is domain.escalation.check_e164, which trims first).
class SmsTarget(RequestModel):
    type: Literal["sms"]
    number: str = Field(
        max_length=E164_REQUEST_MAX_CHARS,
        examples=["+15555550100"],
        json_schema_extra={"pattern": E164_REQUEST_PATTERN},
    )


class WebhookTarget(RequestModel):
    type: Literal["webhook"]
    url: HttpUrl = Field(description="http or https; a JSON POST signed with X-Vigil-Signature")


class SlackTarget(RequestModel):
    type: Literal["slack"]
    url: HttpUrl = Field(description="A Slack incoming-webhook URL (https)")


# ``type`` says which one field the target needs: user → id, role → role, email → address,
# sms → number, webhook/slack → url.
PolicyTarget = Annotated[
    UserTarget | RoleTarget | EmailTarget | SmsTarget | WebhookTarget | SlackTarget,
    Field(discriminator="type"),
]


class PolicyStep(RequestModel):
    delay_minutes: int = Field(
        default=0,
        ge=0,
        le=MAX_DELAY_MINUTES,
        description="Minutes after the previous step. Step 0 fires when the incident is created; "
        "its delay is the wait before a repeat pass starts (0: the last step's delay).",
    )
    targets: list[PolicyTarget] = Field(min_length=1, max_length=MAX_TARGETS_PER_STEP)


class PolicyMatch(RequestModel):
    min_severity: SeverityName = Severity.LOW
    service_ids: list[Id] = Field(
        default_factory=list, max_length=100, description="Empty: incidents of any service (or none)"
    )


class EscalationPolicyRequest(RequestModel):
    """The schema of a policy for the OpenAPI document. The one validator is the domain's
    (``domain/escalation.parse_policy``, with the use case's checks of what it names): the routes
    hand it the body as sent, so every constraint stated here must be one it enforces."""

    name: Name
    default: bool = Field(default=False, description="At most one per org; true here clears the others")
    repeat: int = Field(default=0, ge=0, le=MAX_REPEAT, description="More passes after the last step")
    match: PolicyMatch | None = Field(
        default=None, description="null: chosen only as a service's policy or the org's default"
    )
    steps: list[PolicyStep] = Field(min_length=1, max_length=MAX_STEPS)


class EscalationPolicyOut(ResponseModel):
    id: str
    org_id: str
    name: str
    default: bool
    repeat: int
    match: PolicyMatch | None
    steps: list[PolicyStep]
    created_at: str
    updated_at: str


class EscalationPolicyList(ResponseModel):
    items: list[EscalationPolicyOut]
    next_cursor: str | None
