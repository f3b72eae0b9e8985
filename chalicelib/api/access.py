"""Who is calling, and may they touch this org: the one dependency every protected route uses."""

from __future__ import annotations

from dataclasses import dataclass

from chalice.app import Request

from chalicelib.adapters.secrets import jwt_secret
from chalicelib.api.http import is_plausible_id
from chalicelib.domain.errors import NotFound, NotPermitted, Unauthenticated
from chalicelib.domain.roles import Role
from chalicelib.security.tokens import read_access_token
from chalicelib.usecases import orgs, users


@dataclass(frozen=True)
class Actor:
    user_id: str
    org_id: str
    role: Role


def require_user(request: Request) -> str:
    """The user id of a valid bearer access token whose login is still live, else 401."""
    header = str(request.headers.get("authorization") or "")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send 'Authorization: Bearer <access_token>'")
    return users.session_user(read_access_token(token.strip(), secret=jwt_secret()))


def client_address(request: Request) -> str:
    """The caller's address as API Gateway saw the connection (``requestContext.identity.sourceIp``;
    the local stack fills it the same way). Headers like X-Forwarded-For are the caller's to forge."""
    identity = (request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


def require_member(request: Request, org_id: str, *, min_role: Role = Role.VIEWER) -> Actor:
    """401 without a token; 404 for an org the caller is not in (existence never leaks); 403 below
    ``min_role``."""
    user_id = require_user(request)
    role = orgs.role_of(org_id, user_id) if is_plausible_id(org_id) else None
    if role is None:
        raise NotFound("organization not found")
    if not role.at_least(min_role):
        raise NotPermitted(f"needs the {min_role.value} role in this organization (you are {role.value})")
    return Actor(user_id=user_id, org_id=org_id, role=role)
