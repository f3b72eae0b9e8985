"""The signed-in user's own account."""

from __future__ import annotations

import time
from dataclasses import dataclass

from pynamodb.attributes import MapAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.domain.accounts import check_password
from chalicelib.domain.errors import InvalidInput, Unauthenticated
from chalicelib.domain.roles import Role
from chalicelib.models.orgs import Membership, Org
from chalicelib.models.users import UniqueClaim, User
from chalicelib.security.passwords import hash_password, verify_password
from chalicelib.security.tokens import ACCESS_TOKEN_LEEWAY_SECONDS, AccessClaims
from chalicelib.settings import settings
from chalicelib.usecases.dynamo import condition_failed

MAX_ORGS_SHOWN = 100


@dataclass(frozen=True)
class Profile:
    user: User
    orgs: list[tuple[Org, Role]]


def find_user_by_email(email: str) -> User | None:
    try:
        claim = UniqueClaim.get(UniqueClaim.email_key(email), consistent_read=True)
        return User.get(claim.owner_id, consistent_read=True)
    except DoesNotExist:
        return None


def get_user(user_id: str) -> User:
    """The user behind a valid access token; a deleted account is treated as signed out."""
    try:
        return User.get(user_id, consistent_read=True)
    except DoesNotExist as exc:
        raise Unauthenticated("the account of this token no longer exists") from exc


def session_user(claims: AccessClaims) -> str:
    """The user id of a signed access token whose login is still live: the account exists, the
    login was not ended by logout and began after the last password change or reset. One
    consistent GetItem of a few attributes of the user's item, on every authenticated request."""
    try:
        user = User.get(
            claims.user_id,
            consistent_read=True,
            attributes_to_get=["user_id", "sessions_valid_after", "ended_sessions"],
        )
    except DoesNotExist as exc:
        raise Unauthenticated("the account of this token no longer exists") from exc
    if claims.issued_at_ms < int(user.sessions_valid_after or 0):
        raise Unauthenticated("the password changed since this token was issued; log in again")
    if claims.session_id in _ended_sessions(user):
        raise Unauthenticated("this session has ended (logout); log in again")
    return claims.user_id


def end_session(user_id: str, session_id: str, *, now: int) -> None:
    """Marks a login ended on the user's item, where every request looks (``session_user``). An
    entry is kept while an access token of that login could still be presented, then pruned by
    the next logout, so the item stays small."""
    try:
        user = User.get(user_id, consistent_read=True, attributes_to_get=["user_id", "ended_sessions"])
    except DoesNotExist:
        return
    if user.ended_sessions is None:  # an account made before logouts were recorded
        try:
            User(user_id).update(
                actions=[User.ended_sessions.set({session_id: now})],
                condition=User.user_id.exists() & User.ended_sessions.does_not_exist(),
            )
            return
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
    keep_since = now - settings.access_token_ttl_seconds - ACCESS_TOKEN_LEEWAY_SECONDS - 60
    stale = [sid for sid, ended_at in _ended_sessions(user).items() if int(ended_at) < keep_since]
    try:
        User(user_id).update(
            actions=[
                User.ended_sessions[session_id].set(now),
                *(User.ended_sessions[sid].remove() for sid in stale if sid != session_id),
            ],
            # Never recreate a deleted account as a stub that tokens would accept.
            condition=User.user_id.exists(),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise


def _ended_sessions(user: User) -> dict[str, int]:
    ended = user.ended_sessions
    if ended is None:
        return {}
    return dict(ended.as_dict() if isinstance(ended, MapAttribute) else ended)


def profile(user_id: str) -> Profile:
    user = get_user(user_id)
    memberships = list(Membership.by_user.query(user_id, limit=MAX_ORGS_SHOWN))
    orgs = {org.org_id: org for org in Org.batch_get([m.org_id for m in memberships])} if memberships else {}
    return Profile(
        user=user,
        orgs=[(orgs[m.org_id], Role(m.role)) for m in memberships if m.org_id in orgs],
    )


def update_profile(
    user_id: str, *, name: str | None, password: str | None, current_password: str | None
) -> Profile:
    user = get_user(user_id)
    if password is not None:
        if current_password is None:
            raise InvalidInput("is required to change the password", field="current_password")
        _change_password(user, current_password=current_password, new_password=password)
    if name is not None:
        user.update(actions=[User.name.set(name)])
    return profile(user_id)


def _change_password(user: User, *, current_password: str, new_password: str) -> None:
    """Signs out every session: access and refresh tokens issued before now stop working."""
    check_password(new_password, field="password")
    if not verify_password(current_password, user.password_hash):
        raise InvalidInput("is incorrect", field="current_password")
    user.update(
        actions=[
            User.password_hash.set(hash_password(new_password, rounds=settings.bcrypt_rounds)),
            User.sessions_valid_after.set(int(time.time() * 1000)),
        ]
    )
