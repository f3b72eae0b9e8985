"""What a public status page is rendered from: plain values the publisher reads from DynamoDB.

Nothing private ever reaches a snapshot, so nothing private can reach a published file: a snapshot
carries no service URL (nor any other probe setting), no error text, no member name or id and no
incident title or note. The only text on a page is what the team wrote *for the public*: the page's
title and description, component names and groups, posts, and maintenance titles. The only URL is
the page's own public address (`page_url`). Whoever fills a snapshot copies those fields and
nothing else; the documents render every field they are given.

Times are epoch seconds (as the models store them); the documents turn them into ISO 8601 UTC.
Days are UTC day numbers, `epoch_seconds // 86400`, as `DailyRollup.day`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chalicelib.domain.monitoring import MonitorStatus

DAY = 86400
SERIES_DAYS = 90


class ComponentStatus(StrEnum):
    """A component's public status, best first (the order `worst_status` ranks; Statuspage's names)."""

    OPERATIONAL = "operational"
    UNDER_MAINTENANCE = "under_maintenance"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"


class PostStatus(StrEnum):
    """The stage of a public update, as Statuspage's incident statuses."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class MaintenanceState(StrEnum):
    ACTIVE = "active"
    UPCOMING = "upcoming"


COMPONENT_STATUSES: tuple[str, ...] = tuple(status.value for status in ComponentStatus)
POST_STATUSES: tuple[str, ...] = tuple(status.value for status in PostStatus)
MAINTENANCE_STATES: tuple[str, ...] = tuple(state.value for state in MaintenanceState)


@dataclass(frozen=True)
class DayCounts:
    """One `DailyRollup` of the service, reduced to what the uptime bars need.

    The counters are those of `Rollup` (`DailyRollup.rollup()`): checks made in a maintenance window are
    already left out of `total_checks`/`failed_checks` by the fold, so maintenance is never downtime.
    For today the caller may add the hours not folded yet (as `usecases.history.rollup_since` does).
    """

    day: int  # UTC day number
    total_checks: int = 0  # up + down checks outside maintenance
    failed_checks: int = 0
    maintenance_seconds: int = 0  # time of the day spent in a maintenance window (shown on the bar)
    downtime_seconds: int = 0  # of outages that ended that day (shown on the bar)


@dataclass(frozen=True)
class ServiceFacts:
    """The public facts of the service behind a component."""

    status: MonitorStatus  # Service.status
    created_at: int  # Service.created_at: days before it are null in the series
    days: tuple[DayCounts, ...] = ()  # the rollups of the last 90 UTC days that exist, any order


@dataclass(frozen=True)
class Component:
    id: str  # the component's id on the page (not the service id)
    name: str
    service: ServiceFacts
    group: str | None = None  # components with the same group are shown together
    position: int = 0  # order on the page (within its group), ascending
    updated_at: int | None = None  # when its service last changed (Service.updated_at); None: the page's


@dataclass(frozen=True)
class Post:
    """A public update written by the team (never an incident's internal title or notes)."""

    id: str
    title: str
    status: PostStatus
    message: str
    created_at: int
    component_ids: tuple[str, ...] = ()
    # Posts of one story share a thread (the use case may pass the linked incident's id: it is only
    # compared, never published). None: the post is a story of its own. Statuspage's `incidents` are
    # the threads; a thread is resolved when its newest post is.
    thread_id: str | None = None


@dataclass(frozen=True)
class Maintenance:
    """One occurrence of a maintenance window that is active now or starts later."""

    id: str  # stable across renders (e.g. window id + ":" + occurrence start): Atom and Statuspage ids
    title: str
    state: MaintenanceState
    starts_at: int
    ends_at: int
    component_ids: tuple[str, ...] = ()  # the page's components whose services the window covers
    # When the window was planned (MaintenanceWindow.created_at); None: starts_at.
    created_at: int | None = None


@dataclass(frozen=True)
class PageSnapshot:
    id: str  # the page id (Statuspage's page.id, the Atom feed's id)
    slug: str
    title: str
    page_url: str  # the page's public address, e.g. "https://status.example.com/status/acme" (no "/" at end)
    updated_at: int  # the last change of anything on the page (edit, post, maintenance, service status)
    generated_at: int  # now, when the snapshot was read: the series ends on this UTC day
    description: str = ""
    components: tuple[Component, ...] = ()
    posts: tuple[Post, ...] = ()  # any order; the documents show them newest first
    maintenances: tuple[Maintenance, ...] = ()
