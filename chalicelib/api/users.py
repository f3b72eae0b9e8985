"""/v1/users/me: the signed-in user's profile and the orgs they belong to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.api.access import require_user
from chalicelib.api.http import VigilBlueprint, parse_body
from chalicelib.domain.clock import iso

if TYPE_CHECKING:
    from chalicelib.usecases.users import Profile

# Use cases are imported inside the routes that call them (docs/architecture.md, "What a cold start imports").

bp = VigilBlueprint(__name__, schemas="chalicelib.api.schemas.users")
TAGS = ("users",)


def profile_to_api(profile: Profile) -> dict[str, Any]:
    user = profile.user
    return {
        "id": user.user_id,
        "email": user.email,
        "name": user.name,
        "email_verified": bool(user.email_verified),
        "created_at": iso(user.created_at),
        "orgs": [
            {"id": org.org_id, "name": org.name, "slug": org.slug, "role": role.value}
            for org, role in profile.orgs
        ],
    }


@bp.route("/v1/users/me", summary="My profile and organizations", response="Me", tags=TAGS)
def get_me() -> dict[str, Any]:
    from chalicelib.usecases import users

    user_id = require_user(bp.current_request)
    return profile_to_api(users.profile(user_id))


@bp.route(
    "/v1/users/me",
    methods=("PATCH",),
    summary="Change my name or password (a new password signs out every session)",
    body="UpdateMeRequest",
    response="Me",
    tags=TAGS,
)
def update_me() -> dict[str, Any]:
    from chalicelib.api.schemas.users import UpdateMeRequest
    from chalicelib.usecases import users

    user_id = require_user(bp.current_request)
    request = parse_body(bp.current_request, UpdateMeRequest)
    profile = users.update_profile(
        user_id, name=request.name, password=request.password, current_password=request.current_password
    )
    return profile_to_api(profile)
