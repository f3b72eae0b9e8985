"""The request and response models of chalicelib/api/status_pages.py, imported on first use (a view
parsing a body, the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from chalicelib.api.fields import Id, Name, PatchRequest, RequestModel, ResponseModel
from chalicelib.domain.accounts import SLUG_PATTERN
from chalicelib.usecases.status_pages import MAX_COMPONENTS

LongText = Annotated[str, Field(max_length=10_000)]
Message = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
PostStatusName = Literal["investigating", "identified", "monitoring", "resolved"]
Slug = Annotated[
    str,
    Field(
        pattern=SLUG_PATTERN,
        description="1-48 lowercase letters, digits or hyphens, not starting or ending with a hyphen; "
        "unique across Vigil (409 when taken). The page is served at /status/{slug}.",
    ),
]


class ComponentIn(RequestModel):
    id: Id | None = Field(
        default=None, description="An existing component of this page: keeps its id (and the posts naming it)"
    )
    name: Name
    service_id: Id = Field(description="A service of this organization; the component shows its status")
    group: Name | None = Field(default=None, description="Components with the same group are shown together")


Components = Annotated[
    list[ComponentIn],
    Field(max_length=MAX_COMPONENTS, description="In page order (within each group)"),
]


class CreatePageRequest(RequestModel):
    slug: Slug
    title: Name
    description: LongText = ""
    components: Components = Field(default_factory=list)


class UpdatePageRequest(PatchRequest):
    """Any create field; omitted fields keep their value (null is refused). `components` replaces the
    list: pass back a component's `id` to keep it."""

    slug: Slug | None = None
    title: Name | None = None
    description: LongText | None = None
    components: Components | None = None


class ComponentOut(ResponseModel):
    id: str
    name: str
    service_id: str
    group: str | None
    position: int


class PageOut(ResponseModel):
    id: str
    org_id: str
    slug: str
    title: str
    description: str
    components: list[ComponentOut]
    url: str = Field(description="The public page (static, served without the API)")
    created_at: str
    updated_at: str


class PageList(ResponseModel):
    items: list[PageOut]
    next_cursor: str | None


class CreatePostRequest(RequestModel):
    title: Name
    status: PostStatusName
    message: Message
    component_ids: list[Id] = Field(
        default_factory=list, max_length=MAX_COMPONENTS, description="Components of this page"
    )
    incident_id: Id | None = Field(
        default=None, description="An incident of this organization (internal: never published)"
    )


class PostUpdateRequest(PatchRequest):
    """A follow-up of a post's story; title and component_ids default to the post's."""

    status: PostStatusName
    message: Message
    title: Name | None = None
    component_ids: list[Id] | None = Field(default=None, max_length=MAX_COMPONENTS)


class PostOut(ResponseModel):
    id: str
    page_id: str
    thread_id: str = Field(description="The first post of the story; follow-ups share it")
    title: str
    status: PostStatusName
    message: str
    component_ids: list[str]
    incident_id: str | None
    created_at: str
    created_by: str | None


class PostList(ResponseModel):
    items: list[PostOut]
    next_cursor: str | None
