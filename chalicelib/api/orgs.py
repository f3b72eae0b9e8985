"""/v1/orgs: organizations, their members and pending invitations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from chalicelib.api.access import require_member, require_user
from chalicelib.api.http import PAGE_PARAMS, VigilBlueprint, page_params, parse_body, path_id
from chalicelib.domain.clock import iso
from chalicelib.domain.roles import Role

if TYPE_CHECKING:
    from chalicelib.usecases.orgs import Invited, MemberView, OrgView

# Use cases are imported inside the routes that call them (docs/architecture.md, "What a cold start imports").

bp = VigilBlueprint(__name__, schemas="chalicelib.api.schemas.orgs")
ORG_TAGS = ("organizations",)
MEMBER_TAGS = ("members",)


def org_to_api(view: OrgView) -> dict[str, Any]:
    org = view.org
    return {
        "id": org.org_id,
        "name": org.name,
        "slug": org.slug,
        "role": view.role.value,
        "created_at": iso(org.created_at),
    }


def member_to_api(member: MemberView | Invited) -> dict[str, Any]:
    from chalicelib.usecases.orgs import Invited

    if isinstance(member, Invited):
        return {
            "user_id": None,
            "email": member.email,
            "name": None,
            "role": member.role.value,
            "status": "invited",
            "expires_at": iso(member.expires_at),
        }
    return {
        "user_id": member.user_id,
        "email": member.email,
        "name": member.name,
        "role": member.role.value,
        "status": "active",
        "joined_at": iso(member.joined_at),
    }


def invitation_to_api(invited: Invited) -> dict[str, Any]:
    return {
        "email": invited.email,
        "role": invited.role.value,
        "status": "invited",
        "created_at": iso(invited.created_at),
        "expires_at": iso(invited.expires_at),
    }


def _member_id(user_id: str) -> str:
    return path_id(user_id, what="member")


# ---- organizations ------------------------------------------------------------------------------


@bp.route(
    "/v1/orgs",
    methods=("POST",),
    summary="Create an organization; I become its admin",
    status=201,
    body="CreateOrgRequest",
    response="OrgOut",
    tags=ORG_TAGS,
    errors=(403, 409),
)
def create_org() -> dict[str, Any]:
    from chalicelib.api.schemas.orgs import CreateOrgRequest
    from chalicelib.usecases import orgs

    user_id = require_user(bp.current_request)
    request = parse_body(bp.current_request, CreateOrgRequest)
    return org_to_api(orgs.create_org(user_id, name=request.name, slug=request.slug))


@bp.route(
    "/v1/orgs",
    summary="My organizations",
    response="OrgList",
    tags=ORG_TAGS,
    query=PAGE_PARAMS,
    errors=(400,),
)
def list_orgs() -> dict[str, Any]:
    from chalicelib.usecases import orgs

    user_id = require_user(bp.current_request)
    limit, cursor = page_params(bp.current_request)
    page = orgs.list_orgs(user_id, limit=limit, cursor=cursor)
    return {"items": [org_to_api(view) for view in page.items], "next_cursor": page.next_cursor}


@bp.route("/v1/orgs/{org_id}", summary="One organization", response="OrgOut", tags=ORG_TAGS)
def get_org(org_id: str) -> dict[str, Any]:
    from chalicelib.usecases import orgs

    actor = require_member(bp.current_request, org_id)
    return org_to_api(orgs.get_org(org_id, actor.role))


@bp.route(
    "/v1/orgs/{org_id}",
    methods=("PATCH",),
    summary="Rename an organization (admin)",
    body="UpdateOrgRequest",
    response="OrgOut",
    tags=ORG_TAGS,
)
def update_org(org_id: str) -> dict[str, Any]:
    from chalicelib.api.schemas.orgs import UpdateOrgRequest
    from chalicelib.usecases import orgs

    actor = require_member(bp.current_request, org_id, min_role=Role.ADMIN)
    request = parse_body(bp.current_request, UpdateOrgRequest)
    if request.name is None:
        return org_to_api(orgs.get_org(org_id, actor.role))
    return org_to_api(orgs.rename_org(org_id, actor.role, name=request.name))


@bp.route(
    "/v1/orgs/{org_id}",
    methods=("DELETE",),
    summary="Delete an organization and everything in it (admin)",
    status=204,
    tags=ORG_TAGS,
)
def delete_org(org_id: str) -> None:
    from chalicelib.usecases import orgs

    require_member(bp.current_request, org_id, min_role=Role.ADMIN)
    orgs.delete_org(org_id)


# ---- members ------------------------------------------------------------------------------------


@bp.route(
    "/v1/orgs/{org_id}/members",
    methods=("POST",),
    summary="Add a member by email (admin); an unknown email is invited and joins on signup",
    status=201,
    body="AddMemberRequest",
    response="MemberOut",
    tags=MEMBER_TAGS,
    errors=(409,),
)
def add_member(org_id: str) -> dict[str, Any]:
    from chalicelib.api.schemas.orgs import AddMemberRequest
    from chalicelib.usecases import orgs

    actor = require_member(bp.current_request, org_id, min_role=Role.ADMIN)
    request = parse_body(bp.current_request, AddMemberRequest)
    added = orgs.add_member(org_id, email=request.email, role=Role(request.role), invited_by=actor.user_id)
    return member_to_api(added)


@bp.route(
    "/v1/orgs/{org_id}/members",
    summary="Members of an organization",
    response="MemberList",
    tags=MEMBER_TAGS,
    query=PAGE_PARAMS,
    errors=(400,),
)
def list_members(org_id: str) -> dict[str, Any]:
    from chalicelib.usecases import orgs

    require_member(bp.current_request, org_id)
    limit, cursor = page_params(bp.current_request)
    page = orgs.list_members(org_id, limit=limit, cursor=cursor)
    return {"items": [member_to_api(m) for m in page.items], "next_cursor": page.next_cursor}


@bp.route(
    "/v1/orgs/{org_id}/members/{user_id}",
    methods=("PATCH",),
    summary="Change a member's role (admin); 409 if it would leave no admin",
    body="ChangeRoleRequest",
    response="MemberOut",
    tags=MEMBER_TAGS,
    errors=(409,),
)
def change_role(org_id: str, user_id: str) -> dict[str, Any]:
    from chalicelib.api.schemas.orgs import ChangeRoleRequest
    from chalicelib.usecases import orgs

    require_member(bp.current_request, org_id, min_role=Role.ADMIN)
    request = parse_body(bp.current_request, ChangeRoleRequest)
    return member_to_api(orgs.change_role(org_id, _member_id(user_id), role=Role(request.role)))


@bp.route(
    "/v1/orgs/{org_id}/members/{user_id}",
    methods=("DELETE",),
    summary="Remove a member (admin, or a member leaving); 409 if it would leave no admin",
    status=204,
    tags=MEMBER_TAGS,
    errors=(409,),
)
def remove_member(org_id: str, user_id: str) -> None:
    from chalicelib.usecases import orgs

    actor = require_member(bp.current_request, org_id)
    if actor.user_id != user_id:
        require_member(bp.current_request, org_id, min_role=Role.ADMIN)
    orgs.remove_member(org_id, _member_id(user_id))


@bp.route(
    "/v1/orgs/{org_id}/invitations",
    summary="Pending invitations (admin)",
    response="InvitationList",
    tags=MEMBER_TAGS,
    query=PAGE_PARAMS,
    errors=(400,),
)
def list_invitations(org_id: str) -> dict[str, Any]:
    from chalicelib.usecases import orgs

    require_member(bp.current_request, org_id, min_role=Role.ADMIN)
    limit, cursor = page_params(bp.current_request)
    page = orgs.list_invitations(org_id, limit=limit, cursor=cursor)
    return {"items": [invitation_to_api(i) for i in page.items], "next_cursor": page.next_cursor}


@bp.route(
    "/v1/orgs/{org_id}/invitations/{email}",
    methods=("DELETE",),
    summary="Withdraw an invitation (admin)",
    status=204,
    tags=MEMBER_TAGS,
)
def revoke_invitation(org_id: str, email: str) -> None:
    from chalicelib.usecases import orgs

    require_member(bp.current_request, org_id, min_role=Role.ADMIN)
    orgs.revoke_invitation(org_id, unquote(email))


@bp.route(
    "/v1/orgs/{org_id}/webhook-signing-secret",
    summary="The secret that signs this org's webhooks (admin): verify X-Vigil-Signature with it",
    response="WebhookSecret",
    tags=ORG_TAGS,
)
def webhook_signing_secret(org_id: str) -> dict[str, Any]:
    from chalicelib.usecases import notifications

    require_member(bp.current_request, org_id, min_role=Role.ADMIN)
    return {
        "secret": notifications.webhook_signing_secret(org_id),
        "header": "X-Vigil-Signature",
        "scheme": "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, '<t>.' + raw body)>",
    }
