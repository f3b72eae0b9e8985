"""/v1/orgs/{org_id}/escalation-policies: who is notified about an incident, and when."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from chalicelib.api.access import require_member
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
from chalicelib.api.http import PAGE_PARAMS, VigilBlueprint, json_body, page_params, path_id
from chalicelib.domain.clock import iso
from chalicelib.domain.enums import Severity
from chalicelib.domain.escalation import MAX_DELAY_MINUTES, MAX_REPEAT, MAX_STEPS, MAX_TARGETS_PER_STEP
from chalicelib.domain.notifications import E164_REQUEST_MAX_CHARS, E164_REQUEST_PATTERN
from chalicelib.domain.roles import Role
from chalicelib.models.policies import EscalationPolicy

# Use cases are imported inside the routes that call them (docs/architecture.md, "What a cold start imports").

bp = VigilBlueprint(__name__)
TAGS = ("escalation policies",)

# E.164: + and 7-15 digits (the rule is domain.escalation.check_e164, which trims first).


class UserTarget(RequestModel):
    type: Literal["user"]
    id: Id = Field(description="A member's user id: notified on the channels of their preferences")


class RoleTarget(RequestModel):
    type: Literal["role"]
    role: RoleName = Field(description="Every member with this role")


class EmailTarget(RequestModel):
    type: Literal["email"]
    address: Email


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


def policy_to_api(policy: EscalationPolicy) -> dict[str, Any]:
    from chalicelib.usecases import policies

    return {
        "id": policy.policy_id,
        "org_id": policy.org_id,
        **policies.document_of(policy),
        "created_at": iso(policy.created_at),
        "updated_at": iso(policy.updated_at),
    }


def _policy_id(policy_id: str) -> str:
    return path_id(policy_id, what="escalation policy")


@bp.route(
    "/v1/orgs/{org_id}/escalation-policies",
    methods=("POST",),
    summary="Create an escalation policy (admin)",
    status=201,
    body=EscalationPolicyRequest,
    response=EscalationPolicyOut,
    tags=TAGS,
    errors=(409,),
)
def create_policy(org_id: str) -> dict[str, Any]:
    from chalicelib.usecases import policies

    require_member(bp.current_request, org_id, min_role=Role.ADMIN)
    return policy_to_api(policies.create_policy(org_id, json_body(bp.current_request, empty={})))


@bp.route(
    "/v1/orgs/{org_id}/escalation-policies",
    summary="Escalation policies, oldest first (the order in which their match rules are tried)",
    response=EscalationPolicyList,
    tags=TAGS,
    query=PAGE_PARAMS,
    errors=(400,),
)
def list_policies(org_id: str) -> dict[str, Any]:
    from chalicelib.usecases import policies

    require_member(bp.current_request, org_id)
    limit, cursor = page_params(bp.current_request)
    page = policies.list_policies(org_id, limit=limit, cursor=cursor)
    return {"items": [policy_to_api(p) for p in page.items], "next_cursor": page.next_cursor}


@bp.route(
    "/v1/orgs/{org_id}/escalation-policies/{policy_id}",
    summary="One escalation policy",
    response=EscalationPolicyOut,
    tags=TAGS,
)
def get_policy(org_id: str, policy_id: str) -> dict[str, Any]:
    from chalicelib.usecases import policies

    require_member(bp.current_request, org_id)
    return policy_to_api(policies.get_policy(org_id, _policy_id(policy_id)))


@bp.route(
    "/v1/orgs/{org_id}/escalation-policies/{policy_id}",
    methods=("PUT",),
    summary="Replace an escalation policy (admin); running escalations keep their snapshot",
    body=EscalationPolicyRequest,
    response=EscalationPolicyOut,
    tags=TAGS,
    errors=(409,),
)
def replace_policy(org_id: str, policy_id: str) -> dict[str, Any]:
    from chalicelib.usecases import policies

    require_member(bp.current_request, org_id, min_role=Role.ADMIN)
    policy_id = _policy_id(policy_id)
    return policy_to_api(policies.replace_policy(org_id, policy_id, json_body(bp.current_request, empty={})))


@bp.route(
    "/v1/orgs/{org_id}/escalation-policies/{policy_id}",
    methods=("DELETE",),
    summary="Delete an escalation policy (admin); services naming it fall back to match and default",
    status=204,
    tags=TAGS,
    errors=(409,),
)
def delete_policy(org_id: str, policy_id: str) -> None:
    from chalicelib.usecases import policies

    require_member(bp.current_request, org_id, min_role=Role.ADMIN)
    policies.delete_policy(org_id, _policy_id(policy_id))
