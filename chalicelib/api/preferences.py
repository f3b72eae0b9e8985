"""Notification preferences: mine under /v1/users/me, a member's under /v1/orgs/{org_id}/members
(admin of that org)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.api.access import require_member, require_user
from chalicelib.api.http import VigilBlueprint, is_plausible_id, parse_body
from chalicelib.domain.clock import iso
from chalicelib.domain.errors import NotFound
from chalicelib.domain.roles import Role

if TYPE_CHECKING:
    from chalicelib.usecases.preferences import PreferenceView

# Use cases are imported inside the routes that call them (docs/architecture.md, "What a cold start imports").

bp = VigilBlueprint(__name__, schemas="chalicelib.api.schemas.preferences")
TAGS = ("notification preferences",)


def preference_to_api(view: PreferenceView) -> dict[str, Any]:
    return {
        "channel": view.channel,
        "enabled": view.enabled,
        "address": view.address,
        "min_severity": view.min_severity,
        "updated_at": iso(view.updated_at) if view.updated_at is not None else None,
    }


def _list(user_id: str) -> dict[str, Any]:
    from chalicelib.usecases import preferences

    return {
        "items": [preference_to_api(v) for v in preferences.list_preferences(user_id)],
        "next_cursor": None,
    }


def _put(user_id: str, channel: str) -> dict[str, Any]:
    from chalicelib.api.schemas.preferences import PreferenceRequest
    from chalicelib.usecases import preferences
    from chalicelib.usecases.preferences import KEEP

    preferences.check_channel(channel)
    request = parse_body(bp.current_request, PreferenceRequest)
    view = preferences.put_preference(
        user_id,
        channel,
        enabled=request.enabled,
        address=request.address if "address" in request.model_fields_set else KEEP,
        min_severity=request.min_severity,
    )
    return preference_to_api(view)


def _member_id(org_id: str, user_id: str) -> str:
    from chalicelib.usecases import orgs

    if not is_plausible_id(user_id) or orgs.role_of(org_id, user_id) is None:
        raise NotFound("member not found")
    return user_id


@bp.route(
    "/v1/users/me/notification-preferences",
    summary="My notification channels (all four, defaults filled in)",
    response="PreferenceList",
    tags=TAGS,
)
def my_preferences() -> dict[str, Any]:
    return _list(require_user(bp.current_request))


@bp.route(
    "/v1/users/me/notification-preferences/{channel}",
    methods=("PUT",),
    summary="Set one of my channels: email, sms, webhook or slack (404 for any other)",
    body="PreferenceRequest",
    response="PreferenceOut",
    tags=TAGS,
    errors=(404,),
)
def put_my_preference(channel: str) -> dict[str, Any]:
    return _put(require_user(bp.current_request), channel)


@bp.route(
    "/v1/orgs/{org_id}/members/{user_id}/notification-preferences",
    summary="A member's notification channels (admin)",
    response="PreferenceList",
    tags=TAGS,
)
def member_preferences(org_id: str, user_id: str) -> dict[str, Any]:
    require_member(bp.current_request, org_id, min_role=Role.ADMIN)
    return _list(_member_id(org_id, user_id))


@bp.route(
    "/v1/orgs/{org_id}/members/{user_id}/notification-preferences/{channel}",
    methods=("PUT",),
    summary="Set one of a member's channels (admin)",
    body="PreferenceRequest",
    response="PreferenceOut",
    tags=TAGS,
)
def put_member_preference(org_id: str, user_id: str, channel: str) -> dict[str, Any]:
    require_member(bp.current_request, org_id, min_role=Role.ADMIN)
    return _put(_member_id(org_id, user_id), channel)
