"""Status pages against moto (API.md "Status pages"): the admin routes (CRUD, roles, tenancy, slug
conflicts, validation naming fields) and posts with their follow-up updates."""

import uuid

import pytest


def pages(org_id, *rest):
    return "/".join([f"/v1/orgs/{org_id}/status-pages", *rest])


def new_slug(prefix="acme"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create_service(api, org_id, owner, name="Checkout API", url="https://checkout.example.com/health"):
    reply = api.post(
        f"/v1/orgs/{org_id}/services",
        {"name": name, "url": url, "interval_seconds": 60, "enabled": False},
        token=owner.access_token,
    )
    assert reply.status == 201, reply.body
    return reply.body


def add_member(api, org_id, owner, account, role):
    reply = api.post(
        f"/v1/orgs/{org_id}/members", {"email": account.email, "role": role}, token=owner.access_token
    )
    assert reply.status == 201, reply.body


@pytest.fixture
def team(api, new_account, new_org):
    owner = new_account()
    org = new_org(owner)
    service = create_service(api, org["id"], owner)
    return owner, org["id"], service


def create_page(api, org_id, owner, service, **fields):
    body = {
        "slug": new_slug(),
        "title": "Acme status",
        "description": "Is Acme up?",
        "components": [{"name": "Checkout", "service_id": service["id"], "group": "Shop"}],
        **fields,
    }
    reply = api.post(pages(org_id), body, token=owner.access_token)
    assert reply.status == 201, reply.body
    return reply.body


def test_an_admin_creates_reads_lists_changes_and_deletes_a_page(api, team):
    owner, org_id, service = team
    page = create_page(api, org_id, owner, service)
    assert page["components"][0]["service_id"] == service["id"]
    assert page["components"][0]["group"] == "Shop"
    assert page["url"].endswith(f"/status/{page['slug']}")

    assert api.get(pages(org_id, page["id"]), token=owner.access_token).body == page
    listed = api.get(pages(org_id), token=owner.access_token).body
    assert [p["id"] for p in listed["items"]] == [page["id"]]

    component_id = page["components"][0]["id"]
    changed = api.patch(
        pages(org_id, page["id"]),
        {
            "title": "Acme",
            "components": [
                {"name": "Search", "service_id": service["id"]},
                {"id": component_id, "name": "Checkout v2", "service_id": service["id"]},
            ],
        },
        token=owner.access_token,
    )
    assert changed.status == 200, changed.body
    assert changed.body["title"] == "Acme"
    assert [c["name"] for c in changed.body["components"]] == ["Search", "Checkout v2"]
    assert changed.body["components"][1]["id"] == component_id
    assert [c["position"] for c in changed.body["components"]] == [0, 1]

    assert api.delete(pages(org_id, page["id"]), token=owner.access_token).status == 204
    assert api.get(pages(org_id, page["id"]), token=owner.access_token).status == 404


def test_a_slug_is_unique_across_vigil_and_freed_by_a_change_or_a_delete(api, team, new_account, new_org):
    owner, org_id, service = team
    page = create_page(api, org_id, owner, service)
    other = new_account()
    other_org = new_org(other)["id"]
    taken = api.post(pages(other_org), {"slug": page["slug"], "title": "Mine"}, token=other.access_token)
    assert taken.status == 409 and taken.message.startswith("slug:")

    moved = api.patch(pages(org_id, page["id"]), {"slug": new_slug()}, token=owner.access_token)
    assert moved.status == 200
    freed = api.post(pages(other_org), {"slug": page["slug"], "title": "Mine"}, token=other.access_token)
    assert freed.status == 201, freed.body

    clash = api.patch(pages(org_id, page["id"]), {"slug": page["slug"]}, token=owner.access_token)
    assert clash.status == 409 and clash.message.startswith("slug:")
    assert api.delete(pages(other_org, freed.body["id"]), token=other.access_token).status == 204
    again = api.patch(pages(org_id, page["id"]), {"slug": page["slug"]}, token=owner.access_token)
    assert again.status == 200, again.body


def test_roles_admin_edits_pages_user_posts_viewer_reads(api, team, new_account):
    owner, org_id, service = team
    page = create_page(api, org_id, owner, service)
    user, viewer = new_account(), new_account()
    add_member(api, org_id, owner, user, "user")
    add_member(api, org_id, owner, viewer, "viewer")
    body = {"slug": new_slug(), "title": "No"}
    assert api.post(pages(org_id), body, token=user.access_token).status == 403
    assert api.patch(pages(org_id, page["id"]), {"title": "No"}, token=user.access_token).status == 403
    assert api.delete(pages(org_id, page["id"]), token=user.access_token).status == 403
    post = {"title": "Slow checkout", "status": "investigating", "message": "We are looking into it."}
    assert api.post(pages(org_id, page["id"], "posts"), post, token=viewer.access_token).status == 403
    assert api.post(pages(org_id, page["id"], "posts"), post, token=user.access_token).status == 201
    assert api.get(pages(org_id, page["id"]), token=viewer.access_token).status == 200
    assert len(api.get(pages(org_id, page["id"], "posts"), token=viewer.access_token).body["items"]) == 1


def test_another_orgs_page_and_its_posts_are_404(api, team, new_account, new_org):
    owner, org_id, service = team
    page = create_page(api, org_id, owner, service)
    other = new_account()
    other_org = new_org(other)["id"]
    for path in (pages(other_org, page["id"]), pages(other_org, page["id"], "posts")):
        assert api.get(path, token=other.access_token).status == 404
    assert api.patch(pages(other_org, page["id"]), {"title": "x"}, token=other.access_token).status == 404
    assert api.delete(pages(other_org, page["id"]), token=other.access_token).status == 404
    post = {"title": "x", "status": "resolved", "message": "x"}
    assert api.post(pages(other_org, page["id"], "posts"), post, token=other.access_token).status == 404
    assert api.get(pages(org_id, page["id"]), token=other.access_token).status == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x"}, "slug"),
        ({"slug": "Not A Slug", "title": "x"}, "slug"),
        ({"slug": "ok", "title": ""}, "title"),
        ({"slug": "ok", "title": "x", "description": "d" * 10_001}, "description"),
        ({"slug": "ok", "title": "x", "components": [{"name": "A"}]}, "components.0.service_id"),
        (
            {"slug": "ok", "title": "x", "components": [{"name": "A", "service_id": "NOPE"}]},
            "components.0.service_id",
        ),
        (
            {"slug": "ok", "title": "x", "components": [{"name": "A", "service_id": "S", "id": "X"}]},
            "components.0",
        ),
        ({"slug": "ok", "title": "x", "colour": "red"}, "colour"),
    ],
)
def test_bad_page_input_is_400_naming_the_field(api, team, body, field):
    owner, org_id, _ = team
    reply = api.post(pages(org_id), body, token=owner.access_token)
    assert reply.status == 400, reply.body
    assert reply.message.startswith(f"{field}"), reply.message


def test_a_component_must_be_a_service_of_this_org(api, team, new_account, new_org):
    owner, org_id, service = team
    other = new_account()
    other_org = new_org(other)["id"]
    foreign = create_service(api, other_org, other)
    body = {
        "slug": new_slug(),
        "title": "x",
        "components": [
            {"name": "A", "service_id": service["id"]},
            {"name": "B", "service_id": foreign["id"]},
        ],
    }
    reply = api.post(pages(org_id), body, token=owner.access_token)
    assert reply.status == 400 and reply.message.startswith("components.1.service_id:"), reply.body
    page = create_page(api, org_id, owner, service)
    reply = api.patch(pages(org_id, page["id"]), {"title": None}, token=owner.access_token)
    assert reply.status == 400 and reply.message.startswith("title:"), reply.body


def test_posts_name_this_pages_components_and_this_orgs_incidents(api, team, new_account, new_org):
    owner, org_id, service = team
    page = create_page(api, org_id, owner, service)
    component_id = page["components"][0]["id"]
    incident = api.post(
        f"/v1/orgs/{org_id}/incidents", {"title": "db primary fell over"}, token=owner.access_token
    ).body
    other = new_account()
    other_org = new_org(other)["id"]
    foreign_incident = api.post(
        f"/v1/orgs/{other_org}/incidents", {"title": "theirs"}, token=other.access_token
    ).body
    path = pages(org_id, page["id"], "posts")
    base = {"title": "Checkout errors", "status": "investigating", "message": "Some payments fail."}
    bad = api.post(path, {**base, "component_ids": ["NOPE"]}, token=owner.access_token)
    assert bad.status == 400 and bad.message.startswith("component_ids.0:"), bad.body
    bad = api.post(path, {**base, "incident_id": foreign_incident["id"]}, token=owner.access_token)
    assert bad.status == 400 and bad.message.startswith("incident_id:"), bad.body
    bad = api.post(path, {**base, "status": "fixed"}, token=owner.access_token)
    assert bad.status == 400 and bad.message.startswith("status:"), bad.body

    post = api.post(
        path,
        {**base, "component_ids": [component_id], "incident_id": incident["id"]},
        token=owner.access_token,
    )
    assert post.status == 201, post.body
    assert post.body["thread_id"] == post.body["id"]
    update = api.post(
        pages(org_id, page["id"], "posts", post.body["id"], "updates"),
        {"status": "resolved", "message": "Payments work again."},
        token=owner.access_token,
    )
    assert update.status == 201, update.body
    assert update.body["thread_id"] == post.body["id"]
    assert update.body["title"] == "Checkout errors"
    assert update.body["component_ids"] == [component_id]
    listed = api.get(path, token=owner.access_token).body["items"]
    assert [p["status"] for p in listed] == ["resolved", "investigating"]
    assert (
        api.get(pages(org_id, page["id"], "posts", post.body["id"]), token=owner.access_token).body
        == post.body
    )
    assert api.get(pages(org_id, page["id"], "posts", "NOPE"), token=owner.access_token).status == 404


# ---- the public live routes ------------------------------------------------------------------------


def test_the_public_routes_answer_without_auth_with_cache_control(api, team):
    owner, org_id, service = team
    page = create_page(api, org_id, owner, service)
    slug = page["slug"]
    status = api.get(f"/v1/status/{slug}")
    assert status.status == 200, status.body
    assert status.headers["cache-control"] == "public, max-age=30"
    assert status.body["slug"] == slug and status.body["status"] == "operational"
    assert [c["name"] for c in status.body["components"]] == ["Checkout"]
    assert len(status.body["components"][0]["uptime_90d"]) == 90
    summary = api.get(f"/v1/status/{slug}/summary")
    assert summary.status == 200 and summary.body["status"]["indicator"] == "none"
    feed = api.get(f"/v1/status/{slug}/feed")
    assert feed.status == 200 and feed.headers["content-type"] == "application/atom+xml"
    assert "<feed" in feed.body
    badge = api.get(f"/v1/status/{slug}/badge")
    assert badge.status == 200 and badge.headers["content-type"] == "image/svg+xml"
    assert "<svg" in badge.body
    for suffix in ("", "/summary", "/feed", "/badge"):
        assert api.get(f"/v1/status/{slug}{suffix}").headers["cache-control"] == "public, max-age=30"


def test_an_unknown_or_deleted_slug_is_404(api, team):
    owner, org_id, service = team
    page = create_page(api, org_id, owner, service)
    assert api.delete(pages(org_id, page["id"]), token=owner.access_token).status == 204
    for suffix in ("", "/summary", "/feed", "/badge"):
        assert api.get(f"/v1/status/{page['slug']}{suffix}").status == 404
        assert api.get(f"/v1/status/no-such-page-{uuid.uuid4().hex[:8]}{suffix}").status == 404
        assert api.get(f"/v1/status/NOT_A_SLUG{suffix}").status == 404
