"""`summary.json` in Atlassian Statuspage's v2 shape, so existing widgets and scripts keep working.

Statuspage's `GET /api/v2/summary.json`: `page {id, name, url, time_zone, updated_at}`, `status
{indicator, description}`, `components` (groups are components with `group: true` and the ids of their
`components`; members point at theirs with `group_id`), `incidents` (the unresolved ones, each with its
`incident_updates` newest first and its `components`) and `scheduled_maintenances` (upcoming or in
progress, with `scheduled_for`/`scheduled_until`).

Vigil's posts are the incident updates: the posts of one thread make one incident, whose id is its
first post's id, whose name and status are its newest post's. Fields Vigil has no notion of get
Statuspage's neutral values (`showcase: true`, `only_show_if_degraded: false`, no tweets).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from chalicelib.domain.clock import iso
from chalicelib.domain.status_pages.model import (
    Component,
    ComponentStatus,
    Maintenance,
    MaintenanceState,
    PageSnapshot,
    Post,
    PostStatus,
)
from chalicelib.domain.status_pages.ordering import grouped_components, ordered_maintenances
from chalicelib.domain.status_pages.status import component_statuses, indicator, worst_status
from chalicelib.domain.status_pages.threads import unresolved_threads

TIME_ZONE = "Etc/UTC"  # every time on a page is UTC


def summary_document(snapshot: PageSnapshot) -> dict[str, Any]:
    """`{page, components, incidents, scheduled_maintenances, status}` as Statuspage's summary.json."""
    statuses = component_statuses(snapshot)
    components = _components(snapshot, statuses)
    by_id = {entry["id"]: entry for entry in components}
    overall = indicator(worst_status(statuses.values()))
    return {
        "page": {
            "id": snapshot.id,
            "name": snapshot.title,
            "url": snapshot.page_url,
            "time_zone": TIME_ZONE,
            "updated_at": iso(snapshot.updated_at),
        },
        "components": components,
        "incidents": [
            _incident(snapshot, thread, by_id, statuses) for thread in unresolved_threads(snapshot.posts)
        ],
        "scheduled_maintenances": [
            _maintenance(snapshot, maintenance, by_id)
            for maintenance in ordered_maintenances(snapshot.maintenances)
        ],
        "status": {"indicator": overall.indicator, "description": overall.description},
    }


def group_id(page_id: str, group: str) -> str:
    """A group's stable id: groups are names on a Vigil page, components with ids on Statuspage."""
    return "group-" + hashlib.sha256(f"{page_id}\0{group}".encode()).hexdigest()[:12]


def _components(snapshot: PageSnapshot, statuses: dict[str, ComponentStatus]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    position = 0
    for group, members in grouped_components(snapshot.components):
        parent = None
        if group is not None:
            parent = group_id(snapshot.id, group)
            position += 1
            entries.append(
                {
                    **_component_fields(
                        snapshot,
                        id=parent,
                        name=group,
                        status=worst_status(statuses[member.id] for member in members),
                        created_at=min(member.service.created_at for member in members),
                        updated_at=max(_updated_at(snapshot, member) for member in members),
                        position=position,
                        group_id=None,
                        group=True,
                    ),
                    "components": [member.id for member in members],
                }
            )
        for member in members:
            position += 1
            entries.append(
                _component_fields(
                    snapshot,
                    id=member.id,
                    name=member.name,
                    status=statuses[member.id],
                    created_at=member.service.created_at,
                    updated_at=_updated_at(snapshot, member),
                    position=position,
                    group_id=parent,
                    group=False,
                )
            )
    return entries


def _component_fields(
    snapshot: PageSnapshot,
    *,
    id: str,
    name: str,
    status: ComponentStatus,
    created_at: int,
    updated_at: int,
    position: int,
    group_id: str | None,
    group: bool,
) -> dict[str, Any]:
    return {
        "id": id,
        "name": name,
        "status": status.value,
        "created_at": iso(created_at),
        "updated_at": iso(updated_at),
        "position": position,
        "description": None,
        "showcase": True,
        "start_date": None,
        "group_id": group_id,
        "page_id": snapshot.id,
        "group": group,
        "only_show_if_degraded": False,
    }


def _updated_at(snapshot: PageSnapshot, component: Component) -> int:
    return component.updated_at if component.updated_at is not None else snapshot.updated_at


def _incident(
    snapshot: PageSnapshot,
    thread: Sequence[Post],
    components: dict[str, dict[str, Any]],
    statuses: dict[str, ComponentStatus],
) -> dict[str, Any]:
    newest, first = thread[0], thread[-1]
    incident_id = first.id
    component_ids = _unique(cid for post in reversed(thread) for cid in post.component_ids if cid in statuses)
    monitoring = [post.created_at for post in thread if post.status is PostStatus.MONITORING]
    impact = indicator(worst_status(statuses[cid] for cid in component_ids)).indicator
    return {
        "id": incident_id,
        "name": newest.title,
        "status": newest.status.value,
        "created_at": iso(first.created_at),
        "updated_at": iso(newest.created_at),
        "monitoring_at": iso(min(monitoring)) if monitoring else None,
        "resolved_at": None,
        # A thread over components in maintenance only is no incident of theirs.
        "impact": "none" if impact == "maintenance" else impact,
        "shortlink": f"{snapshot.page_url}#post-{first.id}",
        "started_at": iso(first.created_at),
        "page_id": snapshot.id,
        "incident_updates": [
            _update(incident_id, status=post.status.value, body=post.message, at=post.created_at, id=post.id)
            for post in thread
        ],
        "components": [components[cid] for cid in component_ids],
    }


def _maintenance(
    snapshot: PageSnapshot, maintenance: Maintenance, components: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    active = maintenance.state is MaintenanceState.ACTIVE
    status = "in_progress" if active else "scheduled"
    planned_at = maintenance.created_at if maintenance.created_at is not None else maintenance.starts_at
    updated_at = maintenance.starts_at if active else planned_at
    body = f"Scheduled maintenance from {iso(maintenance.starts_at)} to {iso(maintenance.ends_at)}."
    return {
        "id": maintenance.id,
        "name": maintenance.title,
        "status": status,
        "created_at": iso(planned_at),
        "updated_at": iso(updated_at),
        "monitoring_at": None,
        "resolved_at": None,
        "impact": "maintenance",
        "shortlink": f"{snapshot.page_url}#maintenance-{maintenance.id}",
        "started_at": iso(maintenance.starts_at),
        "page_id": snapshot.id,
        "incident_updates": [
            _update(maintenance.id, status=status, body=body, at=updated_at, id=f"{maintenance.id}:{status}")
        ],
        "components": [components[cid] for cid in _unique(maintenance.component_ids) if cid in components],
        "scheduled_for": iso(maintenance.starts_at),
        "scheduled_until": iso(maintenance.ends_at),
    }


def _update(incident_id: str, *, status: str, body: str, at: int, id: str) -> dict[str, Any]:
    return {
        "id": id,
        "status": status,
        "body": body,
        "incident_id": incident_id,
        "created_at": iso(at),
        "updated_at": iso(at),
        "display_at": iso(at),
        "affected_components": None,  # Vigil keeps no per-update component statuses
        "deliver_notifications": True,
        "custom_tweet": None,
        "tweet_id": None,
    }


def _unique(ids: Any) -> list[str]:
    return list(dict.fromkeys(ids))
