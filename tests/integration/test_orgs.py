"""Organizations, members, roles and invitations (API.md), through chalice's test client."""

import dataclasses

import pytest

from chalicelib.domain.errors import Conflict
from chalicelib.domain.roles import Role
from chalicelib.models.orgs import Membership
from chalicelib.settings import settings
from chalicelib.usecases import orgs
from tests.integration.conftest import unique_email

# ---- organizations ------------------------------------------------------------------------------


def test_creating_an_org_makes_me_its_admin(api, new_account):
    owner = new_account()
    reply = api.post("/v1/orgs", {"name": "Acme Café Ops"}, token=owner.access_token)
    assert reply.status == 201
    org = reply.body
    assert org["name"] == "Acme Café Ops"
    assert org["role"] == "admin"
    assert org["slug"].startswith("acme-cafe-ops")
    assert org["id"]

    me = api.get("/v1/users/me", token=owner.access_token).body
    assert {"id": org["id"], "name": org["name"], "slug": org["slug"], "role": "admin"} in me["orgs"]
    members = api.get(f"/v1/orgs/{org['id']}/members", token=owner.access_token).body["items"]
    assert [(m["user_id"], m["role"]) for m in members] == [(owner.user_id, "admin")]


def test_slugs_are_unique(api, new_account):
    owner = new_account()
    slug = f"team-{owner.user_id[-8:].lower()}"
    first = api.post("/v1/orgs", {"name": "Team", "slug": slug}, token=owner.access_token)
    assert first.status == 201
    assert first.body["slug"] == slug
    taken = api.post("/v1/orgs", {"name": "Other", "slug": slug}, token=new_account().access_token)
    assert taken.status == 409
    assert taken.message.startswith("slug:")
    # Without an explicit slug, a free one is derived from the name.
    derived = api.post("/v1/orgs", {"name": slug}, token=owner.access_token)
    assert derived.status == 201
    assert derived.body["slug"] != slug
    assert derived.body["slug"].startswith(slug)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, "name: is required"),
        ({"name": ""}, "name: must not be empty"),
        ({"name": "   "}, "name: must not be empty"),
        ({"name": "x" * 201}, "name: must be at most 200 characters"),
        ({"name": "Ok", "slug": "Not A Slug"}, "slug:"),
        ({"name": "Ok", "slug": "-edge"}, "slug:"),
        ({"name": ["list"]}, "name: must be a string"),
    ],
)
def test_org_creation_refuses_bad_input(api, new_account, body, expected):
    reply = api.post("/v1/orgs", body, token=new_account().access_token)
    assert reply.status == 400
    assert reply.message.startswith(expected)


def test_org_routes_need_a_token(api):
    assert api.post("/v1/orgs", {"name": "x"}).status == 401
    assert api.get("/v1/orgs").status == 401


def test_business_email_rule_refuses_free_mail_when_enabled(api, new_account, monkeypatch):
    monkeypatch.setattr(
        "chalicelib.usecases.orgs.settings", dataclasses.replace(settings, require_business_email=True)
    )
    free = new_account(email=f"someone-{unique_email()[:8]}@gmail.com")
    refused = api.post("/v1/orgs", {"name": "Home"}, token=free.access_token)
    assert refused.status == 403
    assert "business email" in refused.message
    assert api.post("/v1/orgs", {"name": "Work"}, token=new_account().access_token).status == 201


def test_my_orgs_are_listed_newest_first_with_a_cursor(api, new_account, new_org):
    owner = new_account()
    created = [new_org(owner, name=f"Org {i}")["id"] for i in range(3)]
    first = api.get("/v1/orgs?limit=2", token=owner.access_token)
    assert first.status == 200
    assert [o["id"] for o in first.body["items"]] == created[::-1][:2]
    assert first.body["next_cursor"]
    second = api.get(f"/v1/orgs?limit=2&cursor={first.body['next_cursor']}", token=owner.access_token)
    assert [o["id"] for o in second.body["items"]] == created[:1]
    assert second.body["next_cursor"] is None


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "limit=abc", "cursor=garbage", "cursor=eyJ4Ijp7fX0"]
)
def test_bad_paging_parameters_are_400(api, new_account, query):
    reply = api.get(f"/v1/orgs?{query}", token=new_account().access_token)
    assert reply.status == 400
    assert reply.message.split(":")[0] in {"limit", "cursor"}


def test_a_cursor_from_another_list_is_refused(api, new_account, new_org):
    owner = new_account()
    for i in range(2):
        new_org(owner, name=f"Org {i}")
    cursor = api.get("/v1/orgs?limit=1", token=owner.access_token).body["next_cursor"]
    other = new_account()
    assert api.get(f"/v1/orgs?cursor={cursor}", token=other.access_token).status == 400


def test_get_patch_and_delete_an_org(api, new_account, new_org):
    owner = new_account()
    org = new_org(owner)
    path = f"/v1/orgs/{org['id']}"
    got = api.get(path, token=owner.access_token)
    assert got.status == 200
    assert got.body["id"] == org["id"]
    assert got.body["role"] == "admin"

    renamed = api.patch(path, {"name": "Renamed"}, token=owner.access_token)
    assert renamed.status == 200
    assert renamed.body["name"] == "Renamed"
    assert renamed.body["slug"] == org["slug"]

    assert api.delete(path, token=owner.access_token).status == 204
    assert api.get(path, token=owner.access_token).status == 404
    assert api.get("/v1/users/me", token=owner.access_token).body["orgs"] == []
    # The slug is free again.
    again = api.post("/v1/orgs", {"name": "x", "slug": org["slug"]}, token=owner.access_token)
    assert again.status == 201


def test_another_orgs_anything_is_404_never_403(api, new_account, new_org):
    owner, stranger = new_account(), new_account()
    org = new_org(owner)
    for method, path in [
        ("GET", f"/v1/orgs/{org['id']}"),
        ("PATCH", f"/v1/orgs/{org['id']}"),
        ("DELETE", f"/v1/orgs/{org['id']}"),
        ("GET", f"/v1/orgs/{org['id']}/members"),
        ("POST", f"/v1/orgs/{org['id']}/members"),
        ("PATCH", f"/v1/orgs/{org['id']}/members/{owner.user_id}"),
        ("DELETE", f"/v1/orgs/{org['id']}/members/{owner.user_id}"),
    ]:
        body = (
            {"name": "x", "email": stranger.email, "role": "admin"} if method in {"POST", "PATCH"} else None
        )
        reply = api.call(method, path, body, token=stranger.access_token)
        assert reply.status == 404, (method, path, reply.body)
    # Missing and malformed ids look the same.
    assert api.get("/v1/orgs/01ZZZZZZZZZZZZZZZZZZZZZZZZ", token=stranger.access_token).status == 404
    assert api.get("/v1/orgs/" + "x" * 3000, token=stranger.access_token).status == 404


# ---- members and roles --------------------------------------------------------------------------


def test_an_admin_adds_an_existing_user_who_then_sees_the_org(api, new_account, new_org):
    owner, colleague = new_account(), new_account(name="Colleague")
    org = new_org(owner)
    added = api.post(
        f"/v1/orgs/{org['id']}/members", {"email": colleague.email, "role": "user"}, token=owner.access_token
    )
    assert added.status == 201
    assert added.body["user_id"] == colleague.user_id
    assert added.body["email"] == colleague.email
    assert added.body["name"] == "Colleague"
    assert added.body["role"] == "user"
    me = api.get("/v1/users/me", token=colleague.access_token).body
    assert [(o["id"], o["role"]) for o in me["orgs"]] == [(org["id"], "user")]

    again = api.post(
        f"/v1/orgs/{org['id']}/members",
        {"email": colleague.email, "role": "viewer"},
        token=owner.access_token,
    )
    assert again.status == 409


def test_an_unknown_email_is_invited_by_email_and_joins_on_signup(api, mailbox, new_account, new_org):
    owner = new_account(name="Olivia Owner")
    org = new_org(owner, name="Invite Test")
    invitee = unique_email("invitee")
    invited = api.post(
        f"/v1/orgs/{org['id']}/members", {"email": invitee, "role": "viewer"}, token=owner.access_token
    )
    assert invited.status == 201
    assert invited.body["status"] == "invited"
    assert invited.body["user_id"] is None
    [message] = mailbox.messages_to(invitee)
    assert "Invite Test" in message["subject"]
    pending = api.get(f"/v1/orgs/{org['id']}/invitations", token=owner.access_token).body["items"]
    assert [(i["email"], i["role"]) for i in pending] == [(invitee, "viewer")]

    account = new_account(email=invitee)
    me = api.get("/v1/users/me", token=account.access_token).body
    assert [(o["id"], o["role"]) for o in me["orgs"]] == [(org["id"], "viewer")]
    members = api.get(f"/v1/orgs/{org['id']}/members", token=owner.access_token).body["items"]
    assert {m["user_id"]: m["role"] for m in members} == {owner.user_id: "admin", account.user_id: "viewer"}
    assert api.get(f"/v1/orgs/{org['id']}/invitations", token=owner.access_token).body["items"] == []


def test_a_withdrawn_invitation_does_not_join(api, new_account, new_org):
    owner = new_account()
    org = new_org(owner)
    invitee = unique_email("withdrawn")
    api.post(f"/v1/orgs/{org['id']}/members", {"email": invitee, "role": "user"}, token=owner.access_token)
    assert api.delete(f"/v1/orgs/{org['id']}/invitations/{invitee}", token=owner.access_token).status == 204
    assert api.delete(f"/v1/orgs/{org['id']}/invitations/{invitee}", token=owner.access_token).status == 404
    account = new_account(email=invitee)
    assert api.get("/v1/users/me", token=account.access_token).body["orgs"] == []


@pytest.fixture
def team(api, new_account, new_org):
    """An org with an admin, a user and a viewer."""
    admin, user, viewer = new_account(), new_account(), new_account()
    org = new_org(admin)
    for member, role in [(user, "user"), (viewer, "viewer")]:
        reply = api.post(
            f"/v1/orgs/{org['id']}/members", {"email": member.email, "role": role}, token=admin.access_token
        )
        assert reply.status == 201
    return org, admin, user, viewer


def test_roles_limit_what_members_may_do(api, team, new_account):
    org, admin, user, viewer = team
    base = f"/v1/orgs/{org['id']}"
    outsider = new_account()
    for member in (admin, user, viewer):
        assert api.get(base, token=member.access_token).status == 200
        assert api.get(f"{base}/members", token=member.access_token).status == 200
    for member in (user, viewer):
        assert api.patch(base, {"name": "Nope"}, token=member.access_token).status == 403
        assert api.delete(base, token=member.access_token).status == 403
        added = api.post(
            f"{base}/members", {"email": outsider.email, "role": "user"}, token=member.access_token
        )
        assert added.status == 403
        assert added.body["Code"] == "ForbiddenError"
        assert (
            api.patch(f"{base}/members/{admin.user_id}", {"role": "viewer"}, token=member.access_token).status
            == 403
        )


def test_an_admin_changes_roles_and_the_last_admin_cannot_leave(api, team):
    org, admin, user, _viewer = team
    base = f"/v1/orgs/{org['id']}/members"
    demote_self = api.patch(f"{base}/{admin.user_id}", {"role": "user"}, token=admin.access_token)
    assert demote_self.status == 409
    assert "at least one admin" in demote_self.message
    assert api.delete(f"{base}/{admin.user_id}", token=admin.access_token).status == 409

    promoted = api.patch(f"{base}/{user.user_id}", {"role": "admin"}, token=admin.access_token)
    assert promoted.status == 200
    assert promoted.body["role"] == "admin"
    # Now there are two admins, so the first may step down.
    assert api.patch(f"{base}/{admin.user_id}", {"role": "viewer"}, token=admin.access_token).status == 200
    assert api.patch(f"{base}/{user.user_id}", {"role": "user"}, token=user.access_token).status == 409


def test_two_admins_demoting_each_other_at_once_leave_one_admin(api, team):
    """The race, interleaved by hand: each admin's request read the other as an admin, then one
    demotion lands first. (Real threads on moto are no proof: a failed transaction in moto restores
    a snapshot that can undo a concurrent one.)"""
    org, admin, user, _ = team
    base = f"/v1/orgs/{org['id']}/members"
    api.patch(f"{base}/{user.user_id}", {"role": "admin"}, token=admin.access_token)
    admins_as_read = [Membership.get(org["id"], m.user_id) for m in (admin, user)]

    orgs.change_role(org["id"], user.user_id, role=Role.USER)  # the first demotion lands
    with pytest.raises(Conflict, match="at least one admin"):
        orgs._write_role_change(org["id"], admins_as_read[0], current=Role.ADMIN, new=Role.USER)

    members = api.get(base, token=admin.access_token).body["items"]
    assert [m["role"] for m in members].count("admin") == 1


def test_removing_members_and_leaving(api, team):
    org, admin, user, viewer = team
    base = f"/v1/orgs/{org['id']}/members"
    assert api.delete(f"{base}/{viewer.user_id}", token=admin.access_token).status == 204
    assert api.get(f"/v1/orgs/{org['id']}", token=viewer.access_token).status == 404
    # A member may leave on their own.
    assert api.delete(f"{base}/{user.user_id}", token=user.access_token).status == 204
    assert api.delete(f"{base}/{user.user_id}", token=admin.access_token).status == 404
    assert [m["user_id"] for m in api.get(base, token=admin.access_token).body["items"]] == [admin.user_id]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"email": "x@example.com", "role": "owner"}, "role: must be one of"),
        ({"email": "nope", "role": "user"}, "email: is not a valid email address"),
        ({"role": "user"}, "email: is required"),
    ],
)
def test_member_input_is_validated(api, new_account, new_org, body, expected):
    owner = new_account()
    org = new_org(owner)
    reply = api.post(f"/v1/orgs/{org['id']}/members", body, token=owner.access_token)
    assert reply.status == 400
    assert reply.message.startswith(expected)
