"""Public status pages and their posts.

Table ``status-pages``: hash ``org_id``, range ``page_id`` (a ULID). A page's components are a list
on the page (each tied to a service of the org, in page order). An org's pages are one Query: the
publisher finds the pages showing a service (or covered by a maintenance window) that way, never by
a Scan. The GSI ``by-slug`` (hash ``listed``, always ``"page"``; range ``slug``; every attribute)
answers the public routes with one Query for a slug, and lists every page for the 5-minute
republish. Slugs are unique across Vigil through a ``UniqueClaim`` (``status-slug#...``) written in
the same transaction as the page.

Table ``status-page-posts``: hash ``org_id``, range ``post_key`` = ``{page_id}#{post_id}``: a
page's posts are one Query (newest first), keyed under their org. A follow-up update is a post of
its own in the same ``thread_id`` (the first post's id), as Statuspage's incident updates.

Both tables stream to the publisher (events/status_pages.py).
"""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.settings import settings

LISTED = "page"


class ComponentMap(MapAttribute[str, str]):
    component_id = UnicodeAttribute()
    name = UnicodeAttribute()
    service_id = UnicodeAttribute()
    group = UnicodeAttribute(null=True)


class PagesBySlug(GlobalSecondaryIndex["StatusPage"]):
    class Meta:
        index_name = "by-slug"
        projection = AllProjection()

    listed = UnicodeAttribute(hash_key=True)
    slug = UnicodeAttribute(range_key=True)


class StatusPage(Model):
    class Meta:
        table_name = settings.table("status-pages")
        region = settings.region

    org_id = UnicodeAttribute(hash_key=True)
    page_id = UnicodeAttribute(range_key=True)
    slug = UnicodeAttribute()
    title = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    components = ListAttribute(of=ComponentMap, default=list)  # in page order
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    created_by = UnicodeAttribute(null=True)
    version = NumberAttribute(default=1)
    listed = UnicodeAttribute(default=LISTED)

    by_slug = PagesBySlug()

    def service_ids(self) -> set[str]:
        return {c.service_id for c in self.components or []}


class StatusPost(Model):
    class Meta:
        table_name = settings.table("status-page-posts")
        region = settings.region

    org_id = UnicodeAttribute(hash_key=True)
    post_key = UnicodeAttribute(range_key=True)  # {page_id}#{post_id}
    page_id = UnicodeAttribute()
    post_id = UnicodeAttribute()
    thread_id = UnicodeAttribute()  # the first post of the story (itself for a new story)
    title = UnicodeAttribute()
    status = UnicodeAttribute()
    message = UnicodeAttribute()
    component_ids = ListAttribute[str](default=list)
    incident_id = UnicodeAttribute(null=True)  # internal only: never published
    created_at = NumberAttribute()
    created_by = UnicodeAttribute(null=True)

    @staticmethod
    def key(page_id: str, post_id: str) -> str:
        return f"{page_id}#{post_id}"
