"""/v1/orgs/{org_id}/status-pages: public status pages, their components and posts (the admin side).

The public side (`/v1/status/{slug}...`) is api/status_public.py; the static files are the publisher's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.api.access import require_member
from chalicelib.api.http import PAGE_PARAMS, VigilBlueprint, page_params, parse_body, path_id
from chalicelib.domain.clock import iso
from chalicelib.domain.roles import Role
from chalicelib.models.status_pages import StatusPage, StatusPost
from chalicelib.usecases import status_pages
from chalicelib.usecases.status_pages import ComponentInput

if TYPE_CHECKING:
    from chalicelib.api.schemas.status_pages import ComponentIn

bp = VigilBlueprint(__name__, schemas="chalicelib.api.schemas.status_pages")
TAGS = ("status pages",)


def page_to_api(page: StatusPage) -> dict[str, Any]:
    return {
        "id": page.page_id,
        "org_id": page.org_id,
        "slug": page.slug,
        "title": page.title,
        "description": page.description or "",
        "components": [
            {
                "id": c.component_id,
                "name": c.name,
                "service_id": c.service_id,
                "group": c.group,
                "position": position,
            }
            for position, c in enumerate(page.components or [])
        ],
        "url": status_pages.public_url(page.slug),
        "created_at": iso(page.created_at),
        "updated_at": iso(page.updated_at),
    }


def post_to_api(post: StatusPost) -> dict[str, Any]:
    return {
        "id": post.post_id,
        "page_id": post.page_id,
        "thread_id": post.thread_id,
        "title": post.title,
        "status": post.status,
        "message": post.message,
        "component_ids": list(post.component_ids or []),
        "incident_id": post.incident_id,
        "created_at": iso(post.created_at),
        "created_by": post.created_by,
    }


def _inputs(components: list[ComponentIn]) -> list[ComponentInput]:
    return [ComponentInput(name=c.name, service_id=c.service_id, group=c.group, id=c.id) for c in components]


def _page_id(page_id: str) -> str:
    return path_id(page_id, what="status page")


def _post_id(post_id: str) -> str:
    return path_id(post_id, what="post")


@bp.route(
    "/v1/orgs/{org_id}/status-pages",
    methods=("POST",),
    summary="Create a public status page (role admin); 409 when the slug is taken",
    status=201,
    body="CreatePageRequest",
    response="PageOut",
    tags=TAGS,
    errors=(409,),
)
def create_page(org_id: str) -> dict[str, Any]:
    from chalicelib.api.schemas.status_pages import CreatePageRequest

    actor = require_member(bp.current_request, org_id, min_role=Role.ADMIN)
    request = parse_body(bp.current_request, CreatePageRequest)
    page = status_pages.create_page(
        org_id,
        slug=request.slug,
        title=request.title,
        description=request.description,
        components=_inputs(request.components),
        actor_id=actor.user_id,
    )
    return page_to_api(page)


@bp.route(
    "/v1/orgs/{org_id}/status-pages",
    summary="Status pages, newest first",
    response="PageList",
    tags=TAGS,
    query=PAGE_PARAMS,
)
def list_pages(org_id: str) -> dict[str, Any]:
    require_member(bp.current_request, org_id)
    limit, cursor = page_params(bp.current_request)
    page = status_pages.list_pages(org_id, limit=limit, cursor=cursor)
    return {"items": [page_to_api(p) for p in page.items], "next_cursor": page.next_cursor}


@bp.route(
    "/v1/orgs/{org_id}/status-pages/{page_id}", summary="One status page", response="PageOut", tags=TAGS
)
def get_page(org_id: str, page_id: str) -> dict[str, Any]:
    require_member(bp.current_request, org_id)
    return page_to_api(status_pages.get_page(org_id, _page_id(page_id)))


@bp.route(
    "/v1/orgs/{org_id}/status-pages/{page_id}",
    methods=("PATCH",),
    summary="Change a status page (role admin); a new slug frees the old one and its files",
    body="UpdatePageRequest",
    response="PageOut",
    tags=TAGS,
    errors=(409,),
)
def update_page(org_id: str, page_id: str) -> dict[str, Any]:
    from chalicelib.api.schemas.status_pages import UpdatePageRequest

    require_member(bp.current_request, org_id, min_role=Role.ADMIN)
    page_id = _page_id(page_id)
    request = parse_body(bp.current_request, UpdatePageRequest)
    page = status_pages.update_page(
        org_id,
        page_id,
        slug=request.slug,
        title=request.title,
        description=request.description,
        components=None if request.components is None else _inputs(request.components),
    )
    return page_to_api(page)


@bp.route(
    "/v1/orgs/{org_id}/status-pages/{page_id}",
    methods=("DELETE",),
    summary="Delete a status page (role admin); its published files go too",
    status=204,
    tags=TAGS,
)
def delete_page(org_id: str, page_id: str) -> None:
    require_member(bp.current_request, org_id, min_role=Role.ADMIN)
    status_pages.delete_page(org_id, _page_id(page_id))


@bp.route(
    "/v1/orgs/{org_id}/status-pages/{page_id}/posts",
    methods=("POST",),
    summary="Post a public update on a status page (role user)",
    status=201,
    body="CreatePostRequest",
    response="PostOut",
    tags=TAGS,
)
def create_post(org_id: str, page_id: str) -> dict[str, Any]:
    from chalicelib.api.schemas.status_pages import CreatePostRequest

    actor = require_member(bp.current_request, org_id, min_role=Role.USER)
    page_id = _page_id(page_id)
    request = parse_body(bp.current_request, CreatePostRequest)
    post = status_pages.create_post(
        org_id,
        page_id,
        title=request.title,
        status=request.status,
        message=request.message,
        component_ids=request.component_ids,
        incident_id=request.incident_id,
        actor_id=actor.user_id,
    )
    return post_to_api(post)


@bp.route(
    "/v1/orgs/{org_id}/status-pages/{page_id}/posts",
    summary="A status page's posts, newest first (follow-up updates included)",
    response="PostList",
    tags=TAGS,
    query=PAGE_PARAMS,
)
def list_posts(org_id: str, page_id: str) -> dict[str, Any]:
    require_member(bp.current_request, org_id)
    limit, cursor = page_params(bp.current_request)
    page = status_pages.list_posts(org_id, _page_id(page_id), limit=limit, cursor=cursor)
    return {"items": [post_to_api(p) for p in page.items], "next_cursor": page.next_cursor}


@bp.route(
    "/v1/orgs/{org_id}/status-pages/{page_id}/posts/{post_id}",
    summary="One post",
    response="PostOut",
    tags=TAGS,
)
def get_post(org_id: str, page_id: str, post_id: str) -> dict[str, Any]:
    require_member(bp.current_request, org_id)
    return post_to_api(status_pages.get_post(org_id, _page_id(page_id), _post_id(post_id)))


@bp.route(
    "/v1/orgs/{org_id}/status-pages/{page_id}/posts/{post_id}/updates",
    methods=("POST",),
    summary="Follow a post up (role user): a new post in its story with a new status and message",
    status=201,
    body="PostUpdateRequest",
    response="PostOut",
    tags=TAGS,
)
def add_update(org_id: str, page_id: str, post_id: str) -> dict[str, Any]:
    from chalicelib.api.schemas.status_pages import PostUpdateRequest

    actor = require_member(bp.current_request, org_id, min_role=Role.USER)
    page_id, post_id = _page_id(page_id), _post_id(post_id)
    request = parse_body(bp.current_request, PostUpdateRequest)
    post = status_pages.add_update(
        org_id,
        page_id,
        post_id,
        status=request.status,
        message=request.message,
        title=request.title,
        component_ids=request.component_ids,
        actor_id=actor.user_id,
    )
    return post_to_api(post)
