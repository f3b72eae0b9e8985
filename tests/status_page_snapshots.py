"""Status page snapshots for the domain and browser tests: a realistic page and small builders."""

from __future__ import annotations

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
from chalicelib.domain.status_pages.model import DAY

NOW = 1_796_083_200 + 14 * 3600 + 5 * 60  # 2026-12-01T14:05:00Z
TODAY = NOW // DAY
CHECKS_PER_DAY = 1440  # one a minute


def facts(
    status: MonitorStatus = MonitorStatus.UP,
    *,
    created_days_ago: int = 400,
    days: tuple[DayCounts, ...] | None = None,
) -> ServiceFacts:
    """A service checked every minute since it was created, all checks up unless `days` says."""
    if days is None:
        days = tuple(
            DayCounts(day=TODAY - ago, total_checks=CHECKS_PER_DAY)
            for ago in range(min(created_days_ago, 89), -1, -1)
        )
    return ServiceFacts(status=status, created_at=NOW - created_days_ago * DAY, days=days)


def component(
    id: str = "c-api",
    *,
    name: str = "API",
    status: MonitorStatus = MonitorStatus.UP,
    group: str | None = None,
    position: int = 0,
    service: ServiceFacts | None = None,
) -> Component:
    return Component(
        id=id,
        name=name,
        group=group,
        position=position,
        service=service or facts(status),
        updated_at=NOW - 600,
    )


def snapshot(**changes) -> PageSnapshot:
    fields = {
        "id": "page-1",
        "slug": "acme",
        "title": "Acme",
        "page_url": "https://status.example.com/status/acme",
        "updated_at": NOW - 300,
        "generated_at": NOW,
        "description": "Service status of Acme's public API and web app.",
        "components": (component(),),
    }
    fields.update(changes)
    return PageSnapshot(**fields)


def realistic_snapshot() -> PageSnapshot:
    """Two groups and an ungrouped component, an outage, a young service, bad days, maintenance, posts."""
    bumpy = tuple(
        DayCounts(
            day=TODAY - ago,
            total_checks=CHECKS_PER_DAY - (120 if ago == 40 else 0),
            failed_checks={3: 30, 17: 4, 40: 200, 61: 1}.get(ago, 0),
            maintenance_seconds=7200 if ago == 40 else 0,
            downtime_seconds={3: 1800, 40: 12000}.get(ago, 0),
        )
        for ago in range(89, -1, -1)
        if ago != 25  # no rollup that day: no data
    )
    young = tuple(DayCounts(day=TODAY - ago, total_checks=CHECKS_PER_DAY) for ago in range(10, -1, -1))
    in_maintenance = (
        *(DayCounts(day=TODAY - ago, total_checks=CHECKS_PER_DAY) for ago in range(89, 0, -1)),
        DayCounts(day=TODAY, maintenance_seconds=14 * 3600),
    )
    return snapshot(
        components=(
            component("c-web", name="Website", position=0),
            component(
                "c-api",
                name="Public API",
                group="Core",
                position=1,
                service=facts(MonitorStatus.DOWN, days=bumpy),
            ),
            component("c-auth", name="Sign-in", group="Core", position=2),
            component(
                "c-search",
                name="Search",
                group="Core",
                position=3,
                service=facts(MonitorStatus.UP, created_days_ago=10, days=young),
            ),
            component(
                "c-mail",
                name="Email delivery",
                group="Notifications",
                position=4,
                service=facts(MonitorStatus.MAINTENANCE, days=in_maintenance),
            ),
            component("c-sms", name="SMS", group="Notifications", position=5, status=MonitorStatus.PAUSED),
        ),
        posts=(
            Post(
                id="p-1",
                title="Elevated API errors",
                status=PostStatus.INVESTIGATING,
                message="We are investigating errors on the public API.\nSome requests fail with 503.",
                created_at=NOW - 1800,
                component_ids=("c-api",),
                thread_id="t-1",
            ),
            Post(
                id="p-2",
                title="Elevated API errors",
                status=PostStatus.IDENTIFIED,
                message="A faulty deploy has been identified and is being rolled back.",
                created_at=NOW - 900,
                component_ids=("c-api",),
                thread_id="t-1",
            ),
            Post(
                id="p-0",
                title="Slow sign-in last week",
                status=PostStatus.RESOLVED,
                message="Sign-in was slow for 20 minutes; fixed.",
                created_at=NOW - 6 * DAY,
                component_ids=("c-auth",),
            ),
        ),
        maintenances=(
            Maintenance(
                id="w-1:1796126400",
                title="Mail relay upgrade",
                state=MaintenanceState.ACTIVE,
                starts_at=NOW - 14 * 3600,
                ends_at=NOW + 3600,
                component_ids=("c-mail",),
                created_at=NOW - 3 * DAY,
            ),
            Maintenance(
                id="w-2:1796300000",
                title="Database failover test",
                state=MaintenanceState.UPCOMING,
                starts_at=NOW + 2 * DAY,
                ends_at=NOW + 2 * DAY + 1800,
                component_ids=("c-api", "c-auth"),
                created_at=NOW - DAY,
            ),
        ),
    )
