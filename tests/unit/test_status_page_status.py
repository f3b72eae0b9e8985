"""A component's public status from its service, posts and maintenance; the page's as the worst."""

from __future__ import annotations

import itertools

import pytest

from chalicelib.domain.monitoring import MonitorStatus
from chalicelib.domain.status_pages import (
    ComponentStatus,
    Maintenance,
    MaintenanceState,
    Post,
    PostStatus,
    component_status,
    indicator,
    page_status,
    worst_status,
)
from tests.status_page_snapshots import NOW, component, snapshot

OPERATIONAL = ComponentStatus.OPERATIONAL
MAINTENANCE = ComponentStatus.UNDER_MAINTENANCE
DEGRADED = ComponentStatus.DEGRADED_PERFORMANCE
PARTIAL = ComponentStatus.PARTIAL_OUTAGE
MAJOR = ComponentStatus.MAJOR_OUTAGE


def post(status: PostStatus, *, component_ids=("c-api",), id="p-1", thread_id=None, at=NOW - 60) -> Post:
    return Post(
        id=id,
        title="Errors",
        status=status,
        message="Looking into it.",
        created_at=at,
        component_ids=component_ids,
        thread_id=thread_id,
    )


def window(state: MaintenanceState, component_ids=("c-api",)) -> Maintenance:
    return Maintenance(
        id="w-1", title="Upgrade", state=state, starts_at=NOW, ends_at=NOW + 3600, component_ids=component_ids
    )


# (service status, an unresolved post names the component, an active maintenance names it) → status
EXPECTED = {
    (MonitorStatus.DOWN, False, False): MAJOR,
    (MonitorStatus.DOWN, True, False): MAJOR,
    (MonitorStatus.DOWN, False, True): MAJOR,  # an outage that began before the window is not hidden
    (MonitorStatus.DOWN, True, True): MAJOR,
    (MonitorStatus.MAINTENANCE, False, False): MAINTENANCE,
    (MonitorStatus.MAINTENANCE, True, False): MAINTENANCE,
    (MonitorStatus.MAINTENANCE, False, True): MAINTENANCE,
    (MonitorStatus.MAINTENANCE, True, True): MAINTENANCE,
    **{
        (status, posted, maintained): MAINTENANCE if maintained else DEGRADED if posted else OPERATIONAL
        for status in (MonitorStatus.UP, MonitorStatus.PENDING, MonitorStatus.PAUSED)
        for posted in (False, True)
        for maintained in (False, True)
    },
}


def test_every_combination_of_facts_is_covered():
    assert set(EXPECTED) == set(itertools.product(MonitorStatus, (False, True), (False, True)))


@pytest.mark.parametrize(("facts", "expected"), EXPECTED.items(), ids=lambda v: str(v))
def test_component_status_from_service_posts_and_maintenance(facts, expected):
    service_status, posted, maintained = facts
    result = component_status(
        component("c-api", status=service_status),
        posts=[post(PostStatus.INVESTIGATING)] if posted else [],
        maintenances=[window(MaintenanceState.ACTIVE)] if maintained else [],
    )
    assert result is expected


def test_paused_and_pending_services_are_operational_without_posts():
    for status in (MonitorStatus.PAUSED, MonitorStatus.PENDING):
        assert component_status(component(status=status)) is OPERATIONAL


@pytest.mark.parametrize("status", [PostStatus.INVESTIGATING, PostStatus.IDENTIFIED, PostStatus.MONITORING])
def test_every_unresolved_post_stage_marks_an_up_component_degraded(status):
    assert component_status(component("c-api"), posts=[post(status)]) is DEGRADED


def test_what_does_not_degrade_a_component():
    api = component("c-api")
    # A resolved post, a post about another component, an upcoming window, a window elsewhere.
    assert component_status(api, posts=[post(PostStatus.RESOLVED)]) is OPERATIONAL
    assert (
        component_status(api, posts=[post(PostStatus.INVESTIGATING, component_ids=("c-web",))]) is OPERATIONAL
    )
    assert component_status(api, maintenances=[window(MaintenanceState.UPCOMING)]) is OPERATIONAL
    assert component_status(api, maintenances=[window(MaintenanceState.ACTIVE, ("c-web",))]) is OPERATIONAL


def test_a_story_is_over_when_its_newest_post_is_resolved():
    thread = [
        post(PostStatus.INVESTIGATING, id="p-1", thread_id="t", at=NOW - 600),
        post(PostStatus.RESOLVED, id="p-2", thread_id="t", at=NOW - 60, component_ids=()),
    ]
    assert component_status(component("c-api"), posts=thread) is OPERATIONAL
    reopened = [*thread, post(PostStatus.IDENTIFIED, id="p-3", thread_id="t", at=NOW)]
    assert component_status(component("c-api"), posts=reopened) is DEGRADED


def test_posts_without_a_thread_are_stories_of_their_own():
    posts = [post(PostStatus.INVESTIGATING, id="p-1", at=NOW - 600), post(PostStatus.RESOLVED, id="p-2")]
    assert component_status(component("c-api"), posts=posts) is DEGRADED


RANKED = [OPERATIONAL, MAINTENANCE, DEGRADED, PARTIAL, MAJOR]


def test_worst_of_ranks_every_status():
    assert list(ComponentStatus) == RANKED
    for size in range(1, len(RANKED) + 1):
        for statuses in itertools.product(RANKED, repeat=size):
            assert worst_status(statuses) is max(statuses, key=RANKED.index)


def test_an_empty_page_is_operational():
    assert worst_status([]) is OPERATIONAL
    assert page_status(snapshot(components=())) is OPERATIONAL


def test_page_status_is_the_worst_component():
    page = snapshot(
        components=(
            component("c-web", status=MonitorStatus.UP),
            component("c-mail", status=MonitorStatus.MAINTENANCE),
            component("c-api", status=MonitorStatus.UP),
        ),
        posts=(post(PostStatus.MONITORING),),
    )
    assert page_status(page) is DEGRADED
    down = snapshot(components=(*page.components, component("c-db", status=MonitorStatus.DOWN)))
    assert page_status(down) is MAJOR


def test_statuspage_indicators():
    assert {status: (indicator(status).indicator, indicator(status).description) for status in RANKED} == {
        OPERATIONAL: ("none", "All Systems Operational"),
        MAINTENANCE: ("maintenance", "Service Under Maintenance"),
        DEGRADED: ("minor", "Partially Degraded Service"),
        PARTIAL: ("major", "Partial System Outage"),
        MAJOR: ("critical", "Major System Outage"),
    }
