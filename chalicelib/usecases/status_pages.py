"""Status pages and their posts: CRUD for the admin routes.

- A slug is unique across Vigil: a ``UniqueClaim`` (``status-slug#{slug}``) is written in the same
  transaction as the page (409 when taken); a slug change moves the claim in one transaction.
- Components name services of the page's org (400 naming ``components.N.service_id`` otherwise);
  each gets an id of its own, kept across edits when the edit passes it back, so posts keep naming
  the right component.
- A post is a public update; a follow-up update is a post of its own in the same thread (Statuspage's
  incident updates). Posts name components of their page and, optionally, an incident of the org
  (internal only: it is never published).

Nothing here renders or uploads: the tables' streams tell the publisher (usecases/status_publisher.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_lambda_powertools import Logger
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.accounts import check_slug
from chalicelib.domain.clock import now_seconds
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound
from chalicelib.domain.ids import new_id
from chalicelib.domain.status_pages import PostStatus
from chalicelib.models.services import Service
from chalicelib.models.status_pages import ComponentMap, StatusPage, StatusPost
from chalicelib.models.users import UniqueClaim
from chalicelib.settings import settings
from chalicelib.usecases.dynamo import condition_failed, transaction_connection
from chalicelib.usecases.pagination import Page, fetch_page

logger = Logger(service="vigil", child=True, level=settings.log_level)

MAX_PAGES_PER_ORG = 20
MAX_COMPONENTS = 50
MAX_DESCRIPTION_CHARS = 10_000
MAX_MESSAGE_CHARS = 10_000


def slug_key(slug: str) -> str:
    return f"status-slug#{slug}"


def public_url(slug: str) -> str:
    """Where the static page is served (CloudFront, or the local stack's web origin)."""
    return f"{settings.public_url}/status/{slug}"


@dataclass(frozen=True)
class ComponentInput:
    name: str
    service_id: str
    group: str | None = None
    id: str | None = None  # an existing component's id keeps it (and the posts naming it)


# ---- pages --------------------------------------------------------------------------------------


def get_page(org_id: str, page_id: str) -> StatusPage:
    try:
        return StatusPage.get(org_id, page_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound("status page not found") from exc


def list_pages(org_id: str, *, limit: int, cursor: str | None) -> Page[StatusPage]:
    """Newest first."""
    return fetch_page(
        lambda **kw: StatusPage.query(org_id, scan_index_forward=False, **kw),
        limit=limit,
        cursor=cursor,
        scope=f"status-pages:{org_id}",
    )


def pages_of(org_id: str) -> list[StatusPage]:
    """Every page of an org: one Query (an org has at most MAX_PAGES_PER_ORG)."""
    return list(StatusPage.query(org_id))


def page_by_slug(slug: str) -> StatusPage | None:
    """The page a public route names, through the by-slug index (one Query)."""
    for page in StatusPage.by_slug.query("page", StatusPage.slug == slug, limit=1):
        return page
    return None


def _components(
    org_id: str, given: Sequence[ComponentInput], *, before: StatusPage | None
) -> list[ComponentMap]:
    if len(given) > MAX_COMPONENTS:
        raise InvalidInput(f"a page has at most {MAX_COMPONENTS} components", field="components")
    existing = {c.component_id for c in (before.components if before else [])}
    seen: set[str] = set()
    for index, component in enumerate(given):
        if component.id is not None:
            if component.id not in existing:
                raise InvalidInput("is not a component of this page", field=f"components.{index}.id")
            if component.id in seen:
                raise InvalidInput("is given twice", field=f"components.{index}.id")
            seen.add(component.id)
    _refuse_other_services(org_id, [c.service_id for c in given])
    return [
        ComponentMap(
            component_id=c.id or new_id(),
            name=c.name,
            service_id=c.service_id,
            group=c.group or None,
        )
        for c in given
    ]


def _refuse_other_services(org_id: str, service_ids: Sequence[str]) -> None:
    """Every id must be a service of this org (one BatchGetItem); 400 naming the first that is not."""
    wanted = list(dict.fromkeys(service_ids))
    if not wanted:
        return
    found = {
        s.service_id
        for s in Service.batch_get(
            [(org_id, service_id) for service_id in wanted],
            consistent_read=True,
            attributes_to_get=["org_id", "service_id"],
        )
    }
    for index, service_id in enumerate(service_ids):
        if service_id not in found:
            raise InvalidInput(
                "is not a service of this organization", field=f"components.{index}.service_id"
            )


def create_page(
    org_id: str,
    *,
    slug: str,
    title: str,
    description: str,
    components: Sequence[ComponentInput],
    actor_id: str | None,
) -> StatusPage:
    slug = check_slug(slug)
    parts = _components(org_id, components, before=None)
    if len(pages_of(org_id)) >= MAX_PAGES_PER_ORG:
        raise Conflict(f"an organization can have at most {MAX_PAGES_PER_ORG} status pages")
    now = now_seconds()
    page = StatusPage(
        org_id,
        new_id(),
        slug=slug,
        title=title,
        description=description,
        components=parts,
        created_at=now,
        updated_at=now,
        created_by=actor_id,
        version=1,
    )
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.save(
                UniqueClaim(slug_key(slug), owner_id=page.page_id), condition=UniqueClaim.key.does_not_exist()
            )
            tx.save(page, condition=StatusPage.page_id.does_not_exist())
    except TransactWriteError as exc:
        if condition_failed(exc, index=0):
            raise Conflict("is already taken", field="slug") from exc
        raise
    logger.info("status page created", extra={"org_id": org_id, "page_id": page.page_id})
    return page


def update_page(
    org_id: str,
    page_id: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    description: str | None = None,
    components: Sequence[ComponentInput] | None = None,
) -> StatusPage:
    """PATCH: what is given changes; a new slug moves the claim (409 when taken)."""
    page = get_page(org_id, page_id)
    version = int(page.version or 1)
    old_slug = page.slug
    if slug is not None:
        page.slug = check_slug(slug)
    if title is not None:
        page.title = title
    if description is not None:
        page.description = description
    if components is not None:
        page.components = _components(org_id, components, before=page)
    page.updated_at = now_seconds()
    page.version = version + 1
    slug_moves = page.slug != old_slug
    # PynamoDB sends a transaction's deletes before its puts: the new claim is item 1 when it moves.
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            if slug_moves:
                tx.delete(UniqueClaim(slug_key(old_slug)), condition=UniqueClaim.owner_id == page.page_id)
                tx.save(
                    UniqueClaim(slug_key(page.slug), owner_id=page.page_id),
                    condition=UniqueClaim.key.does_not_exist(),
                )
            tx.save(page, condition=StatusPage.version == version)
    except TransactWriteError as exc:
        if slug_moves and condition_failed(exc, index=1):
            raise Conflict("is already taken", field="slug") from exc
        if condition_failed(exc):
            raise Conflict("the page changed meanwhile; read it again") from exc
        raise
    return page


def delete_page(org_id: str, page_id: str) -> None:
    """The page and its slug first (the public routes answer 404 at once), then its posts. The
    publisher removes the published files when the stream tells it the page is gone."""
    page = get_page(org_id, page_id)
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.delete(page, condition=StatusPage.page_id.exists())
            tx.delete(UniqueClaim(slug_key(page.slug)), condition=UniqueClaim.owner_id == page.page_id)
    except TransactWriteError as exc:
        if condition_failed(exc):
            raise NotFound("status page not found") from exc
        raise
    with StatusPost.batch_write() as batch:
        for post in StatusPost.query(org_id, StatusPost.post_key.startswith(f"{page_id}#")):
            batch.delete(post)
    from chalicelib.usecases import subscribers  # a deletion's alone: not in the publisher's cold start

    subscribers.forget_page(org_id, page_id)
    logger.info("status page deleted", extra={"org_id": org_id, "page_id": page_id})


def delete_all_pages(org_id: str) -> None:
    """When the org goes."""
    for page in pages_of(org_id):
        try:
            delete_page(org_id, page.page_id)
        except NotFound:
            continue


def slug_owner(slug: str) -> str | None:
    """The page id that holds a slug now, if any."""
    try:
        return str(UniqueClaim.get(slug_key(slug), consistent_read=True).owner_id)
    except DoesNotExist:
        return None


# ---- posts --------------------------------------------------------------------------------------


def _check_post_refs(
    org_id: str, page: StatusPage, *, component_ids: Sequence[str], incident_id: str | None
) -> None:
    mine = {c.component_id for c in page.components or []}
    for index, component_id in enumerate(component_ids):
        if component_id not in mine:
            raise InvalidInput("is not a component of this page", field=f"component_ids.{index}")
    from chalicelib.usecases import incidents  # a post's alone: not in the publisher's cold start

    if incident_id is not None and incidents.get_incident_or_none(org_id, incident_id) is None:
        raise InvalidInput("is not an incident of this organization", field="incident_id")


def create_post(
    org_id: str,
    page_id: str,
    *,
    title: str,
    status: str,
    message: str,
    component_ids: Sequence[str],
    incident_id: str | None,
    actor_id: str | None,
    follows: StatusPost | None = None,
) -> StatusPost:
    page = get_page(org_id, page_id)
    component_ids = list(dict.fromkeys(component_ids))
    _check_post_refs(org_id, page, component_ids=component_ids, incident_id=incident_id)
    post_id = new_id()
    post = StatusPost(
        org_id,
        StatusPost.key(page_id, post_id),
        page_id=page_id,
        post_id=post_id,
        thread_id=follows.thread_id if follows is not None else post_id,
        title=title,
        status=PostStatus(status).value,
        message=message,
        component_ids=component_ids,
        incident_id=incident_id,
        created_at=now_seconds(),
        created_by=actor_id,
    )
    post.save(condition=StatusPost.post_key.does_not_exist())
    logger.info("status post created", extra={"org_id": org_id, "page_id": page_id, "post_id": post_id})
    # Its page's subscribers are told from the posts table's stream (events/subscribers.py).
    return post


def add_update(
    org_id: str,
    page_id: str,
    post_id: str,
    *,
    status: str,
    message: str,
    title: str | None,
    component_ids: Sequence[str] | None,
    actor_id: str | None,
) -> StatusPost:
    """A follow-up of a post's story: a new post in its thread; what is not given is the post's."""
    before = get_post(org_id, page_id, post_id)
    return create_post(
        org_id,
        page_id,
        title=title if title is not None else before.title,
        status=status,
        message=message,
        component_ids=component_ids if component_ids is not None else list(before.component_ids or []),
        incident_id=before.incident_id,
        actor_id=actor_id,
        follows=before,
    )


def get_post(org_id: str, page_id: str, post_id: str) -> StatusPost:
    get_page(org_id, page_id)
    try:
        return StatusPost.get(org_id, StatusPost.key(page_id, post_id), consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound("post not found") from exc


def list_posts(org_id: str, page_id: str, *, limit: int, cursor: str | None) -> Page[StatusPost]:
    """Newest first."""
    get_page(org_id, page_id)
    return fetch_page(
        lambda **kw: StatusPost.query(
            org_id, StatusPost.post_key.startswith(f"{page_id}#"), scan_index_forward=False, **kw
        ),
        limit=limit,
        cursor=cursor,
        scope=f"status-posts:{org_id}:{page_id}",
    )


def recent_posts(org_id: str, page_id: str, *, limit: int) -> list[StatusPost]:
    """The newest posts of a page, for the publisher: one Query."""
    return list(
        StatusPost.query(
            org_id, StatusPost.post_key.startswith(f"{page_id}#"), scan_index_forward=False, limit=limit
        )
    )
