"""/v1/orgs/{org_id}/escalation-policies: who is notified about an incident, and when."""

from __future__ import annotations

from typing import Any

from chalicelib.api.access import require_member
from chalicelib.api.http import PAGE_PARAMS, VigilBlueprint, json_body, page_params, path_id
from chalicelib.domain.clock import iso
from chalicelib.domain.roles import Role
from chalicelib.models.policies import EscalationPolicy

# Use cases are imported inside the routes that call them (docs/architecture.md, "What a cold start imports").

bp = VigilBlueprint(__name__, schemas="chalicelib.api.schemas.policies")
TAGS = ("escalation policies",)


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
    body="EscalationPolicyRequest",
    response="EscalationPolicyOut",
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
    response="EscalationPolicyList",
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
    response="EscalationPolicyOut",
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
    body="EscalationPolicyRequest",
    response="EscalationPolicyOut",
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
