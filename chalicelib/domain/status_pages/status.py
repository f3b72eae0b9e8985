"""A component's public status from its service, and the page's status as the worst of them.

The rule, from facts a snapshot carries:
- the service is down → `major_outage`;
- the service is in maintenance, or an active maintenance on the page names the component →
  `under_maintenance` (a down service stays `major_outage`: the page does not hide an outage that
  began before the window);
- the service is up or pending, and an unresolved post names the component → `degraded_performance`:
  the monitor sees the service answer, but the team says something is wrong with it;
- otherwise `operational`. A paused service is `operational` too: pausing stops the checks, it says
  nothing about the service, and a page must not invent an outage (nor hide the component).

`partial_outage` is reserved: a component follows one service, which is up or down as a whole, so no
fact of a snapshot says "partly". It ranks between degraded and major for the day a component can
follow several services or a post can set an impact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from chalicelib.domain.monitoring import MonitorStatus
from chalicelib.domain.status_pages.model import (
    Component,
    ComponentStatus,
    Maintenance,
    MaintenanceState,
    PageSnapshot,
    Post,
)
from chalicelib.domain.status_pages.threads import unresolved_threads

_RANK = {status: rank for rank, status in enumerate(ComponentStatus)}


@dataclass(frozen=True)
class Indicator:
    """Statuspage's `status` object of a page."""

    indicator: str  # none | minor | major | critical | maintenance
    description: str


_INDICATORS = {
    ComponentStatus.OPERATIONAL: Indicator("none", "All Systems Operational"),
    ComponentStatus.UNDER_MAINTENANCE: Indicator("maintenance", "Service Under Maintenance"),
    ComponentStatus.DEGRADED_PERFORMANCE: Indicator("minor", "Partially Degraded Service"),
    ComponentStatus.PARTIAL_OUTAGE: Indicator("major", "Partial System Outage"),
    ComponentStatus.MAJOR_OUTAGE: Indicator("critical", "Major System Outage"),
}

# What a person reads on the page and the badge.
STATUS_LABELS = {
    ComponentStatus.OPERATIONAL: "Operational",
    ComponentStatus.UNDER_MAINTENANCE: "Under maintenance",
    ComponentStatus.DEGRADED_PERFORMANCE: "Degraded performance",
    ComponentStatus.PARTIAL_OUTAGE: "Partial outage",
    ComponentStatus.MAJOR_OUTAGE: "Major outage",
}


def component_status(
    component: Component, *, posts: Iterable[Post] = (), maintenances: Iterable[Maintenance] = ()
) -> ComponentStatus:
    service_status = component.service.status
    if service_status is MonitorStatus.DOWN:
        return ComponentStatus.MAJOR_OUTAGE
    if service_status is MonitorStatus.MAINTENANCE or any(
        m.state is MaintenanceState.ACTIVE and component.id in m.component_ids for m in maintenances
    ):
        return ComponentStatus.UNDER_MAINTENANCE
    if any(component.id in post.component_ids for thread in unresolved_threads(posts) for post in thread):
        return ComponentStatus.DEGRADED_PERFORMANCE
    return ComponentStatus.OPERATIONAL


def component_statuses(snapshot: PageSnapshot) -> dict[str, ComponentStatus]:
    """Each component's status by component id."""
    return {
        component.id: component_status(component, posts=snapshot.posts, maintenances=snapshot.maintenances)
        for component in snapshot.components
    }


def worst_status(statuses: Iterable[ComponentStatus]) -> ComponentStatus:
    """The worst of the statuses; `operational` for none (an empty page has nothing wrong)."""
    return max(statuses, key=_RANK.__getitem__, default=ComponentStatus.OPERATIONAL)


def page_status(snapshot: PageSnapshot) -> ComponentStatus:
    return worst_status(component_statuses(snapshot).values())


def indicator(status: ComponentStatus) -> Indicator:
    """Statuspage's indicator and description of a page whose worst component has `status`."""
    return _INDICATORS[status]
