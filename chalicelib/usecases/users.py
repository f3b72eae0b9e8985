"""The signed-in user's own account."""

from __future__ import annotations

import time
from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain.accounts import check_password
from chalicelib.domain.errors import InvalidInput, Unauthenticated
from chalicelib.domain.roles import Role
from chalicelib.models.orgs import Membership, Org
from chalicelib.models.users import UniqueClaim, User
from chalicelib.security.passwords import hash_password, verify_password
from chalicelib.settings import settings

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
    """Signs out every session: refresh tokens issued before now stop working."""
    check_password(new_password, field="password")
    if not verify_password(current_password, user.password_hash):
        raise InvalidInput("is incorrect", field="current_password")
    user.update(
        actions=[
            User.password_hash.set(hash_password(new_password, rounds=settings.bcrypt_rounds)),
            User.sessions_valid_after.set(int(time.time() * 1000)),
        ]
    )
