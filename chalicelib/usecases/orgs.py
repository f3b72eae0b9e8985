"""Organizations, members, roles and invitations."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import DeleteError, DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.domain import messages
from chalicelib.domain.accounts import check_slug, is_free_mail, normalize_email, slugify
from chalicelib.domain.clock import now_seconds
from chalicelib.domain.errors import Conflict, NotFound, NotPermitted
from chalicelib.domain.ids import new_id
from chalicelib.domain.roles import Role
from chalicelib.models.orgs import Invitation, Membership, Org
from chalicelib.models.users import UniqueClaim, User
from chalicelib.settings import settings
from chalicelib.usecases.dynamo import condition_failed, transaction_connection
from chalicelib.usecases.pagination import Page, fetch_page
from chalicelib.usecases.users import find_user_by_email

logger = Logger(service="vigil", child=True, level=settings.log_level)

LAST_ADMIN = "the organization must keep at least one admin"


@dataclass(frozen=True)
class OrgView:
    org: Org
    role: Role


@dataclass(frozen=True)
class MemberView:
    user_id: str
    email: str
    name: str
    role: Role
    joined_at: int


# ---- membership lookups -------------------------------------------------------------------------


def role_of(org_id: str, user_id: str) -> Role | None:
    """The user's role in the org, or None when they are not a member (or the org does not exist)."""
    try:
        membership = Membership.get(org_id, user_id, consistent_read=True)
    except DoesNotExist:
        return None
    return Role(membership.role)


def _get_org(org_id: str) -> Org:
    try:
        return Org.get(org_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound("organization not found") from exc


# ---- organizations ------------------------------------------------------------------------------


def create_org(user_id: str, *, name: str, slug: str | None) -> OrgView:
    creator = User.get(user_id)
    if settings.require_business_email and is_free_mail(creator.email):
        raise NotPermitted("organizations need a business email address, not a free-mail one", field="email")
    if slug is not None:
        return _create_org_with_slug(creator, name=name, slug=check_slug(slug), explicit=True)
    base = slugify(name) or "org"
    for attempt in range(6):
        candidate = base if attempt == 0 else f"{base[:43]}-{secrets.token_hex(2)}"
        try:
            return _create_org_with_slug(creator, name=name, slug=candidate, explicit=False)
        except _SlugTaken:
            continue
    raise Conflict("could not find a free slug; pass one explicitly", field="slug")


class _SlugTaken(Exception):
    pass


def _create_org_with_slug(creator: User, *, name: str, slug: str, explicit: bool) -> OrgView:
    now = now_seconds()
    org = Org(new_id(), name=name, slug=slug, created_at=now, created_by=creator.user_id, admin_count=1)
    membership = Membership(org.org_id, creator.user_id, role=Role.ADMIN.value, joined_at=now)
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.save(
                UniqueClaim(UniqueClaim.slug_key(slug), owner_id=org.org_id),
                condition=UniqueClaim.key.does_not_exist(),
            )
            tx.save(org, condition=Org.org_id.does_not_exist())
            tx.save(membership)
    except TransactWriteError as exc:
        if condition_failed(exc, index=0):
            if explicit:
                raise Conflict("is already taken", field="slug") from exc
            raise _SlugTaken() from exc
        raise
    logger.info("org created", extra={"org_id": org.org_id, "user_id": creator.user_id})
    return OrgView(org=org, role=Role.ADMIN)


def list_orgs(user_id: str, *, limit: int, cursor: str | None) -> Page[OrgView]:
    page = fetch_page(
        lambda **kw: Membership.by_user.query(user_id, scan_index_forward=False, **kw),
        limit=limit,
        cursor=cursor,
        scope=f"orgs:{user_id}",
    )
    orgs = {org.org_id: org for org in Org.batch_get([m.org_id for m in page.items])} if page.items else {}
    views = [OrgView(org=orgs[m.org_id], role=Role(m.role)) for m in page.items if m.org_id in orgs]
    return Page(items=views, next_cursor=page.next_cursor)


def get_org(org_id: str, role: Role) -> OrgView:
    return OrgView(org=_get_org(org_id), role=role)


def rename_org(org_id: str, role: Role, *, name: str) -> OrgView:
    org = _get_org(org_id)
    try:
        org.update(actions=[Org.name.set(name)], condition=Org.org_id.exists())
    except UpdateError as exc:
        if condition_failed(exc):
            raise NotFound("organization not found") from exc
        raise
    return OrgView(org=org, role=role)


def delete_org(org_id: str) -> None:
    """Removes the org first (it answers 404 at once), then everything keyed under it."""
    # Everything an org holds: not in the cold start of every route that checks a membership.
    from chalicelib.usecases import integrations, maintenance, policies, services, status_pages

    org = _get_org(org_id)
    try:
        org.delete(condition=Org.org_id.exists())
    except DeleteError as exc:
        if condition_failed(exc):
            raise NotFound("organization not found") from exc
        raise
    with Membership.batch_write() as batch:
        for membership in Membership.query(org_id):
            batch.delete(membership)
    with Invitation.batch_write() as invitations:
        for invitation in Invitation.query(org_id):
            invitations.delete(invitation)
    UniqueClaim(UniqueClaim.slug_key(org.slug)).delete()
    services.delete_all_services(org_id)
    policies.delete_all_policies(org_id)
    maintenance.delete_all_windows(org_id)
    integrations.delete_all_integrations(org_id)
    status_pages.delete_all_pages(org_id)
    logger.info("org deleted", extra={"org_id": org_id})


# ---- members ------------------------------------------------------------------------------------


def list_members(org_id: str, *, limit: int, cursor: str | None) -> Page[MemberView]:
    page = fetch_page(
        lambda **kw: Membership.query(org_id, scan_index_forward=False, **kw),
        limit=limit,
        cursor=cursor,
        scope=f"members:{org_id}",
    )
    users = {u.user_id: u for u in User.batch_get([m.user_id for m in page.items])} if page.items else {}
    views = [_member_view(m, users[m.user_id]) for m in page.items if m.user_id in users]
    return Page(items=views, next_cursor=page.next_cursor)


def _member_view(membership: Membership, user: User) -> MemberView:
    return MemberView(
        user_id=user.user_id,
        email=user.email,
        name=user.name,
        role=Role(membership.role),
        joined_at=int(membership.joined_at),
    )


@dataclass(frozen=True)
class Invited:
    email: str
    role: Role
    created_at: int
    expires_at: int


def add_member(org_id: str, *, email: str, role: Role, invited_by: str) -> MemberView | Invited:
    """Adds a known user at once; an unknown address gets an invitation and joins when it signs up."""
    org = _get_org(org_id)
    email = normalize_email(email)
    user = find_user_by_email(email)
    if user is None:
        return _invite(org, email=email, role=role, invited_by=invited_by)
    now = now_seconds()
    membership = Membership(org_id, user.user_id, role=role.value, joined_at=now)
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.save(membership, condition=Membership.user_id.does_not_exist())
            if role is Role.ADMIN:
                tx.update(org, actions=[Org.admin_count.add(1)], condition=Org.org_id.exists())
    except TransactWriteError as exc:
        if condition_failed(exc, index=0):
            raise Conflict("is already a member of this organization", field="email") from exc
        if condition_failed(exc):
            raise NotFound("organization not found") from exc
        raise
    return _member_view(membership, user)


def _invite(org: Org, *, email: str, role: Role, invited_by: str) -> Invited:
    now = now_seconds()
    invitation = Invitation(
        org.org_id,
        email,
        role=role.value,
        invited_by=invited_by,
        created_at=now,
        expires_at=now + settings.invitation_ttl_seconds,
    )
    invitation.save()
    try:
        inviter = User.get(invited_by)
        inviter_name = inviter.name or inviter.email
    except DoesNotExist:
        inviter_name = "A teammate"
    message = messages.invitation_email(
        email,
        org_name=org.name,
        inviter=inviter_name,
        role=role.value,
        signup_url=f"{settings.public_url}/signup?email={email}",
    )
    from chalicelib.adapters import mailer  # an invitation's alone: not in every route's cold start

    try:
        mailer.send_email(message)
    except (BotoCoreError, ClientError):
        logger.exception("could not send invitation", extra={"org_id": org.org_id})
    return Invited(email=email, role=role, created_at=now, expires_at=int(invitation.expires_at))


def list_invitations(org_id: str, *, limit: int, cursor: str | None) -> Page[Invited]:
    now = now_seconds()
    page = fetch_page(
        lambda **kw: Invitation.query(org_id, **kw),
        limit=limit,
        cursor=cursor,
        scope=f"invitations:{org_id}",
    )
    items = [
        Invited(email=i.email, role=Role(i.role), created_at=int(i.created_at), expires_at=int(i.expires_at))
        for i in page.items
        if i.expires_at > now  # TTL deletes within days, not at once
    ]
    return Page(items=items, next_cursor=page.next_cursor)


def revoke_invitation(org_id: str, email: str) -> None:
    email = normalize_email(email)
    try:
        Invitation(org_id, email).delete(condition=Invitation.email.exists())
    except DeleteError as exc:
        if condition_failed(exc):
            raise NotFound("invitation not found") from exc
        raise


def accept_invitations(user: User, *, now: int) -> list[str]:
    """Called at signup: the new account joins every org that invited its address."""
    joined = []
    for invitation in Invitation.by_email.query(user.email):
        if invitation.expires_at <= now:
            continue
        role = Role(invitation.role)
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                tx.save(
                    Membership(invitation.org_id, user.user_id, role=role.value, joined_at=now),
                    condition=Membership.user_id.does_not_exist(),
                )
                tx.delete(invitation)
                if role is Role.ADMIN:
                    tx.update(
                        Org(invitation.org_id),
                        actions=[Org.admin_count.add(1)],
                        condition=Org.org_id.exists(),
                    )
                else:
                    tx.condition_check(Org, invitation.org_id, condition=Org.org_id.exists())
        except TransactWriteError as exc:
            if not condition_failed(exc):
                raise
            logger.info("stale invitation skipped", extra={"org_id": invitation.org_id})
            continue
        joined.append(invitation.org_id)
    return joined


def change_role(org_id: str, user_id: str, *, role: Role) -> MemberView:
    membership = _get_membership(org_id, user_id)
    current = Role(membership.role)
    if current is not role:
        _write_role_change(org_id, membership, current=current, new=role)
        membership.role = role.value
    try:
        user = User.get(user_id)
    except DoesNotExist as exc:
        raise NotFound("member not found") from exc
    return _member_view(membership, user)


def _get_membership(org_id: str, user_id: str) -> Membership:
    try:
        return Membership.get(org_id, user_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound("member not found") from exc


def _write_role_change(org_id: str, membership: Membership, *, current: Role, new: Role) -> None:
    """The role moves only if nobody changed it meanwhile, together with the org's admin count."""
    org = Org(org_id)
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.update(
                membership,
                actions=[Membership.role.set(new.value)],
                condition=Membership.role == current.value,
            )
            if current is Role.ADMIN:
                tx.update(org, actions=[Org.admin_count.add(-1)], condition=Org.admin_count > 1)
            elif new is Role.ADMIN:
                tx.update(org, actions=[Org.admin_count.add(1)], condition=Org.org_id.exists())
    except TransactWriteError as exc:
        if condition_failed(exc, index=0):
            raise Conflict("the member's role changed meanwhile; read it again", field="role") from exc
        if condition_failed(exc, index=1):
            raise Conflict(LAST_ADMIN, field="role") from exc
        raise


def remove_member(org_id: str, user_id: str) -> None:
    membership = _get_membership(org_id, user_id)
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.delete(membership, condition=Membership.role == membership.role)
            if membership.role == Role.ADMIN.value:
                tx.update(Org(org_id), actions=[Org.admin_count.add(-1)], condition=Org.admin_count > 1)
    except TransactWriteError as exc:
        if condition_failed(exc, index=0):
            raise Conflict("the member's role changed meanwhile; read it again", field="user_id") from exc
        if condition_failed(exc, index=1):
            raise Conflict(LAST_ADMIN, field="user_id") from exc
        raise
