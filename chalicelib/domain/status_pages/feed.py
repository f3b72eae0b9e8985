"""`feed.atom`: an Atom 1.0 (RFC 4287) feed of the page's posts and maintenances.

Ids are `urn:uuid:` URIs made (UUID version 5) from the page id and the post's or maintenance's id:
the same entry keeps its id across renders and hosts, so a reader never shows it twice, and no host
name is needed (a `tag:` URI would need one, and a page may move). Text goes through ElementTree,
which escapes it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from chalicelib.domain.clock import iso
from chalicelib.domain.status_pages.model import Maintenance, MaintenanceState, PageSnapshot, Post
from chalicelib.domain.status_pages.text import maintenance_summary, post_status_label

ATOM = "http://www.w3.org/2005/Atom"
# Vigil's namespace for the feed's UUIDs (uuid5 of DNS "status.vigil"): fixed forever, or ids change.
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "status.vigil")


def urn(*parts: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, '/'.join(parts))}"


@dataclass(frozen=True)
class _Entry:
    id: str
    title: str
    updated: int
    published: int
    link: str
    content: str
    category: str


def atom_feed(snapshot: PageSnapshot) -> bytes:
    """The feed as UTF-8 XML, newest entry first."""
    names = {component.id: component.name for component in snapshot.components}
    entries = [_post_entry(snapshot, post, names) for post in snapshot.posts]
    entries += [_maintenance_entry(snapshot, m, names) for m in snapshot.maintenances]
    entries.sort(key=lambda entry: (entry.updated, entry.id), reverse=True)

    feed = ET.Element("feed", {"xmlns": ATOM})
    _text(feed, "id", urn("page", snapshot.id))
    _text(feed, "title", f"{snapshot.title} status")
    if snapshot.description:
        _text(feed, "subtitle", snapshot.description)
    updated = max([snapshot.updated_at, *(entry.updated for entry in entries)])
    _text(feed, "updated", iso(updated))
    ET.SubElement(feed, "link", {"rel": "self", "type": "application/atom+xml", "href": _feed_url(snapshot)})
    ET.SubElement(feed, "link", {"rel": "alternate", "type": "text/html", "href": snapshot.page_url})
    author = ET.SubElement(feed, "author")
    _text(author, "name", snapshot.title)
    _text(feed, "generator", "Vigil")
    for entry in entries:
        element = ET.SubElement(feed, "entry")
        _text(element, "id", entry.id)
        _text(element, "title", entry.title)
        _text(element, "updated", iso(entry.updated))
        _text(element, "published", iso(entry.published))
        ET.SubElement(element, "link", {"rel": "alternate", "type": "text/html", "href": entry.link})
        ET.SubElement(element, "category", {"term": entry.category})
        _text(element, "content", entry.content, type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _feed_url(snapshot: PageSnapshot) -> str:
    return f"{snapshot.page_url}/feed.atom"


def _post_entry(snapshot: PageSnapshot, post: Post, names: dict[str, str]) -> _Entry:
    affected = [names[cid] for cid in post.component_ids if cid in names]
    content = post.message + (f"\n\nAffects: {', '.join(affected)}" if affected else "")
    return _Entry(
        id=urn("page", snapshot.id, "post", post.id),
        title=f"{post_status_label(post.status)}: {post.title}",
        updated=post.created_at,
        published=post.created_at,
        link=f"{snapshot.page_url}#post-{post.id}",
        content=content,
        category=post.status.value,
    )


def _maintenance_entry(snapshot: PageSnapshot, maintenance: Maintenance, names: dict[str, str]) -> _Entry:
    planned_at = maintenance.created_at if maintenance.created_at is not None else maintenance.starts_at
    active = maintenance.state is MaintenanceState.ACTIVE
    return _Entry(
        # Started and planned are two events a reader wants to see: one entry each.
        id=urn("page", snapshot.id, "maintenance", maintenance.id, maintenance.state.value),
        title=f"{'Maintenance in progress' if active else 'Maintenance planned'}: {maintenance.title}",
        updated=maintenance.starts_at if active else planned_at,
        published=maintenance.starts_at if active else planned_at,
        link=f"{snapshot.page_url}#maintenance-{maintenance.id}",
        content=maintenance_summary(maintenance, names),
        category=f"maintenance-{maintenance.state.value}",
    )


def _text(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    element.text = text
    return element
