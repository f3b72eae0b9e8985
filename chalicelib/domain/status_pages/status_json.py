"""`GET /v1/status/{slug}` and `status.json`: API.md's public status object."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.clock import iso
from chalicelib.domain.status_pages.model import PageSnapshot
from chalicelib.domain.status_pages.ordering import ordered_components, ordered_maintenances
from chalicelib.domain.status_pages.status import component_statuses, worst_status
from chalicelib.domain.status_pages.threads import newest_first
from chalicelib.domain.status_pages.uptime import daily_series, window_uptime


def status_document(snapshot: PageSnapshot) -> dict[str, Any]:
    """`{slug, title, description, status, components, posts, maintenances, updated_at}`.

    Components in page order (grouped, then by position); `uptime_90d` one entry per UTC day, oldest
    first, `uptime_percentage` null on days without data (always before the service existed);
    `uptime_percentage_90d` null when the window counted no check. Posts newest first; maintenances
    active first, then by start.
    """
    statuses = component_statuses(snapshot)

    def on_page(component_ids: tuple[str, ...]) -> list[str]:
        # A post may name a component removed from the page since: its id means nothing to a reader.
        return [cid for cid in dict.fromkeys(component_ids) if cid in statuses]

    components = []
    for component in ordered_components(snapshot.components):
        series = daily_series(component.service, now=snapshot.generated_at)
        components.append(
            {
                "id": component.id,
                "name": component.name,
                "group": component.group,
                "status": statuses[component.id].value,
                "uptime_percentage_90d": window_uptime(series),
                "uptime_90d": [
                    {"date": day.date, "uptime_percentage": day.uptime_percentage} for day in series
                ],
            }
        )
    return {
        "slug": snapshot.slug,
        "title": snapshot.title,
        "description": snapshot.description,
        "status": worst_status(statuses.values()).value,
        "components": components,
        "posts": [
            {
                "id": post.id,
                "title": post.title,
                "status": post.status.value,
                "message": post.message,
                "created_at": iso(post.created_at),
                "component_ids": on_page(post.component_ids),
            }
            for post in newest_first(snapshot.posts)
        ],
        "maintenances": [
            {
                "title": maintenance.title,
                "state": maintenance.state.value,
                "starts_at": iso(maintenance.starts_at),
                "ends_at": iso(maintenance.ends_at),
                "component_ids": on_page(maintenance.component_ids),
            }
            for maintenance in ordered_maintenances(snapshot.maintenances)
        ],
        "updated_at": iso(snapshot.updated_at),
    }
