"""The request and response models of chalicelib/api/orgs.py, imported on first use (a view
parsing a body, the OpenAPI document)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from chalicelib.api.fields import Email, Name, RequestModel, ResponseModel, RoleName
from chalicelib.domain.accounts import SLUG_PATTERN


class CreateOrgRequest(RequestModel):
    name: Name
    slug: str | None = Field(
        default=None,
        pattern=SLUG_PATTERN,
        description="1-48 lowercase letters, digits or hyphens, not starting or ending with a hyphen; "
        "omitted or null: made from the name.",
    )


class UpdateOrgRequest(RequestModel):
    name: Name | None = Field(default=None, description="Omitted or null: unchanged")


class AddMemberRequest(RequestModel):
    email: Email
    role: RoleName = "user"


class ChangeRoleRequest(RequestModel):
    role: RoleName


class OrgOut(ResponseModel):
    id: str
    name: str
    slug: str
    role: RoleName
    created_at: str


class OrgList(ResponseModel):
    items: list[OrgOut]
    next_cursor: str | None


class MemberOut(ResponseModel):
    user_id: str | None = Field(description="null while the invitation is pending")
    email: str
    name: str | None
    role: RoleName
    status: Literal["active", "invited"]
    joined_at: str | None = Field(default=None, description="active members: when they joined")
    expires_at: str | None = Field(default=None, description="invitations: when the invitation lapses")


class MemberList(ResponseModel):
    items: list[MemberOut]
    next_cursor: str | None


class InvitationOut(ResponseModel):
    email: str
    role: RoleName
    status: Literal["invited"]
    created_at: str
    expires_at: str


class InvitationList(ResponseModel):
    items: list[InvitationOut]
    next_cursor: str | None


class WebhookSecret(ResponseModel):
    secret: str
    header: Literal["X-Vigil-Signature"]
    scheme: str
