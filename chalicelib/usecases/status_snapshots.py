"""A status page's snapshot, read from the tables: what the renderers (domain/status_pages) take.

Reads per page: one BatchGetItem of the components' services (their status and creation time
only), per component one Query of its 90 daily rollups plus one of the recent hours not folded yet
(never one per day), one Query of the page's newest posts and one of the org's maintenance windows.

Only public facts are copied: a service's status, creation time and check counters; the team's
posts (an incident id only as a thread key, never its text); maintenance titles and times.
"""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.domain.maintenance import WindowState
from chalicelib.domain.monitoring import MonitorStatus
from chalicelib.domain.status_pages import (
    Component,
    DayCounts,
    Maintenance,
    MaintenanceState,
    PageSnapshot,
    Post,
    PostStatus,
    ServiceFacts,
)
from chalicelib.domain.status_pages.model import SERIES_DAYS
from chalicelib.models.checks import service_key
from chalicelib.models.maintenance import MaintenanceWindowRecord
from chalicelib.models.services import Service
from chalicelib.models.status_pages import StatusPage, StatusPost
from chalicelib.usecases import history, maintenance, status_pages

MAX_POSTS = 50  # the newest posts of a page are shown
MAX_MAINTENANCES = 20
_SERVICE_FIELDS = ["org_id", "service_id", "status", "created_at", "last_checked_at"]


def _services(page: StatusPage) -> dict[str, Service]:
    ids = sorted(page.service_ids())
    if not ids:
        return {}
    return {
        s.service_id: s
        for s in Service.batch_get([(page.org_id, i) for i in ids], attributes_to_get=_SERVICE_FIELDS)
    }


def _facts(service: Service, *, now: int) -> ServiceFacts:
    rollups = history.daily_rollups_since(
        service_key(service.org_id, service.service_id), days=SERIES_DAYS, now=now
    )
    return ServiceFacts(
        status=MonitorStatus(service.status or "pending"),
        created_at=int(service.created_at),
        days=tuple(
            DayCounts(
                day=day,
                total_checks=r.total_checks,
                failed_checks=r.failed_checks,
                maintenance_seconds=r.maintenance_seconds,
                downtime_seconds=r.downtime_seconds,
            )
            for day, r in sorted(rollups.items())
        ),
    )


def _posts(records: Iterable[StatusPost], component_ids: set[str]) -> tuple[Post, ...]:
    return tuple(
        Post(
            id=r.post_id,
            title=r.title,
            status=PostStatus(r.status),
            message=r.message,
            created_at=int(r.created_at),
            component_ids=tuple(c for c in r.component_ids or [] if c in component_ids),
            thread_id=r.thread_id,
        )
        for r in records
    )


def _maintenances(page: StatusPage, *, now: int) -> tuple[tuple[Maintenance, ...], int]:
    """The windows holding a service of the page that are active or to come, and their last edit."""
    by_service: dict[str, list[str]] = {}
    for c in page.components or []:
        by_service.setdefault(c.service_id, []).append(c.component_id)
    shown: list[Maintenance] = []
    last_edit = 0
    for record in MaintenanceWindowRecord.query(page.org_id):
        item = maintenance.view(record, now=now)
        status = item.status
        if status.state is WindowState.ENDED or status.next_starts_at is None or status.next_ends_at is None:
            continue
        services = item.window.service_ids or frozenset(by_service)  # empty: every service
        component_ids = tuple(c for s in sorted(services) for c in by_service.get(s, []))
        if not component_ids:
            continue
        shown.append(
            Maintenance(
                id=f"{record.window_id}:{status.next_starts_at}",
                title=record.title,
                state=MaintenanceState.ACTIVE
                if status.state is WindowState.ACTIVE
                else MaintenanceState.UPCOMING,
                starts_at=status.next_starts_at,
                ends_at=status.next_ends_at,
                component_ids=component_ids,
                created_at=int(record.created_at),
            )
        )
        last_edit = max(last_edit, int(record.updated_at or 0))
    shown.sort(key=lambda m: (m.state is not MaintenanceState.ACTIVE, m.starts_at))
    return tuple(shown[:MAX_MAINTENANCES]), last_edit


def snapshot(page: StatusPage, *, now: int) -> PageSnapshot:
    services = _services(page)
    components = []
    for position, c in enumerate(page.components or []):
        service = services.get(c.service_id)
        if service is None:
            continue  # its service was deleted: the component leaves the page
        components.append(
            Component(
                id=c.component_id,
                name=c.name,
                service=_facts(service, now=now),
                group=c.group,
                position=position,
                updated_at=None if service.last_checked_at is None else int(service.last_checked_at),
            )
        )
    posts = _posts(
        status_pages.recent_posts(page.org_id, page.page_id, limit=MAX_POSTS), {c.id for c in components}
    )
    maintenances, maintenance_edit = _maintenances(page, now=now)
    updated_at = max(
        [int(page.updated_at), maintenance_edit]
        + [p.created_at for p in posts]
        + [c.updated_at for c in components if c.updated_at is not None]
    )
    return PageSnapshot(
        id=page.page_id,
        slug=page.slug,
        title=page.title,
        page_url=status_pages.public_url(page.slug),
        updated_at=updated_at,
        generated_at=now,
        description=page.description or "",
        components=tuple(components),
        posts=posts,
        maintenances=maintenances,
    )


def public_snapshot(slug: str, *, now: int) -> PageSnapshot | None:
    """The snapshot of the page a public route names; None for an unknown slug."""
    page = status_pages.page_by_slug(slug)
    return None if page is None else snapshot(page, now=now)
