"""Every published document of a status page: its shape, its escaping, and that it parses."""

from __future__ import annotations

import dataclasses
import json
from html.parser import HTMLParser
from xml.etree import ElementTree as ET

import feedparser
import pytest

from chalicelib.domain.monitoring import MonitorStatus
from chalicelib.domain.status_pages import (
    Component,
    ComponentStatus,
    DayCounts,
    Maintenance,
    MaintenanceState,
    PageSnapshot,
    Post,
    PostStatus,
    ServiceFacts,
    atom_feed,
    badge_svg,
    index_html,
    published_files,
    status_document,
    summary_document,
)
from chalicelib.domain.status_pages.badge import BADGE_MESSAGES, LABEL_COLOUR
from chalicelib.domain.status_pages.html import BACKGROUNDS, PALETTES, TEXT_COLOURS
from tests.status_page_snapshots import NOW, component, realistic_snapshot, snapshot


def xml_root(document: bytes) -> ET.Element:
    return ET.fromstring(document)  # noqa: S314 (Vigil's own output under test, not untrusted input)


HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'


# ---- status.json (API.md's GET /v1/status/{slug}) ----------------------------------------------------


def test_status_document_has_exactly_the_fields_of_the_api():
    document = status_document(realistic_snapshot())
    assert list(document) == [
        "slug",
        "title",
        "description",
        "status",
        "components",
        "posts",
        "maintenances",
        "updated_at",
    ]
    for entry in document["components"]:
        assert list(entry) == ["id", "name", "group", "status", "uptime_percentage_90d", "uptime_90d"]
        assert len(entry["uptime_90d"]) == 90
        assert all(list(day) == ["date", "uptime_percentage"] for day in entry["uptime_90d"])
    for entry in document["posts"]:
        assert list(entry) == ["id", "title", "status", "message", "created_at", "component_ids"]
    for entry in document["maintenances"]:
        assert list(entry) == ["title", "state", "starts_at", "ends_at", "component_ids"]
    assert json.loads(json.dumps(document)) == document


def test_status_document_values():
    document = status_document(realistic_snapshot())
    assert document["slug"] == "acme"
    assert document["status"] == "major_outage"
    assert document["updated_at"] == "2026-12-01T14:00:00Z"
    statuses = {c["name"]: (c["group"], c["status"]) for c in document["components"]}
    assert statuses == {
        "Website": (None, "operational"),
        "Public API": ("Core", "major_outage"),
        "Sign-in": ("Core", "operational"),
        "Search": ("Core", "operational"),
        "Email delivery": ("Notifications", "under_maintenance"),
        "SMS": ("Notifications", "operational"),
    }
    search = next(c for c in document["components"] if c["name"] == "Search")
    assert [day["uptime_percentage"] for day in search["uptime_90d"]][:79] == [None] * 79
    assert search["uptime_90d"][0] == {"date": "2026-09-03", "uptime_percentage": None}
    assert search["uptime_90d"][-1] == {"date": "2026-12-01", "uptime_percentage": 100.0}
    # Posts newest first; maintenances active first.
    assert [p["id"] for p in document["posts"]] == ["p-2", "p-1", "p-0"]
    assert document["posts"][0]["created_at"] == "2026-12-01T13:50:00Z"
    assert [m["state"] for m in document["maintenances"]] == ["active", "upcoming"]


def test_components_in_page_order_ungrouped_first_then_groups_by_their_first_position():
    page = snapshot(
        components=(
            component("c-3", name="C", group="B-group", position=1),
            component("c-1", name="A", group="A-group", position=5),
            component("c-2", name="B", position=9),
            component("c-4", name="D", group="B-group", position=0),
        )
    )
    assert [c["id"] for c in status_document(page)["components"]] == ["c-2", "c-4", "c-3", "c-1"]


# ---- summary.json (Atlassian Statuspage's v2 summary) --------------------------------------------------

STATUSPAGE_PAGE = {"id", "name", "url", "time_zone", "updated_at"}
STATUSPAGE_COMPONENT = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "position",
    "description",
    "showcase",
    "start_date",
    "group_id",
    "page_id",
    "group",
    "only_show_if_degraded",
}
STATUSPAGE_INCIDENT = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "monitoring_at",
    "resolved_at",
    "impact",
    "shortlink",
    "started_at",
    "page_id",
    "incident_updates",
    "components",
}
STATUSPAGE_UPDATE = {
    "id",
    "status",
    "body",
    "incident_id",
    "created_at",
    "updated_at",
    "display_at",
    "affected_components",
    "deliver_notifications",
    "custom_tweet",
    "tweet_id",
}


def test_summary_has_statuspage_keys():
    summary = summary_document(realistic_snapshot())
    assert set(summary) == {"page", "status", "components", "incidents", "scheduled_maintenances"}
    assert set(summary["page"]) == STATUSPAGE_PAGE
    assert summary["page"]["time_zone"] == "Etc/UTC"
    assert summary["status"] == {"indicator": "critical", "description": "Major System Outage"}
    for entry in summary["components"]:
        expected = STATUSPAGE_COMPONENT | ({"components"} if entry["group"] else set())
        assert set(entry) == expected
    for incident in [*summary["incidents"], *summary["scheduled_maintenances"]]:
        extra = {"scheduled_for", "scheduled_until"} if incident["impact"] == "maintenance" else set()
        assert set(incident) == STATUSPAGE_INCIDENT | extra
        for update in incident["incident_updates"]:
            assert set(update) == STATUSPAGE_UPDATE
        for entry in incident["components"]:
            assert set(entry) == STATUSPAGE_COMPONENT


def test_summary_groups_are_components_with_members():
    components = summary_document(realistic_snapshot())["components"]
    core = next(c for c in components if c["name"] == "Core")
    assert core["group"] is True
    assert core["status"] == "major_outage"
    assert core["components"] == ["c-api", "c-auth", "c-search"]
    api = next(c for c in components if c["id"] == "c-api")
    assert api["group_id"] == core["id"]
    assert [c["position"] for c in components] == list(range(1, len(components) + 1))
    assert {c["status"] for c in components} <= {s.value for s in ComponentStatus}


def test_summary_incidents_are_the_unresolved_threads_with_their_updates():
    summary = summary_document(realistic_snapshot())
    [incident] = summary["incidents"]  # the resolved sign-in story is not listed
    assert incident["id"] == "p-1"  # its first post
    assert incident["status"] == "identified"  # its newest post
    assert incident["impact"] == "critical"  # its component is down
    assert incident["resolved_at"] is None
    assert [u["id"] for u in incident["incident_updates"]] == ["p-2", "p-1"]
    assert incident["incident_updates"][1]["body"].startswith("We are investigating")
    assert [c["id"] for c in incident["components"]] == ["c-api"]
    assert incident["shortlink"] == "https://status.example.com/status/acme#post-p-1"


def test_summary_scheduled_maintenances():
    active, upcoming = summary_document(realistic_snapshot())["scheduled_maintenances"]
    assert (active["name"], active["status"], active["impact"]) == (
        "Mail relay upgrade",
        "in_progress",
        "maintenance",
    )
    assert active["scheduled_for"] == "2026-12-01T00:05:00Z"
    assert active["scheduled_until"] == "2026-12-01T15:05:00Z"
    assert upcoming["status"] == "scheduled"
    assert [c["id"] for c in upcoming["components"]] == ["c-api", "c-auth"]


def test_summary_of_a_quiet_page():
    summary = summary_document(snapshot())
    assert summary["status"] == {"indicator": "none", "description": "All Systems Operational"}
    assert summary["incidents"] == []
    assert summary["scheduled_maintenances"] == []


# ---- feed.atom -----------------------------------------------------------------------------------------


def test_the_atom_feed_parses_cleanly():
    feed = feedparser.parse(atom_feed(realistic_snapshot()))
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "Acme status"
    assert feed.feed.id.startswith("urn:uuid:")
    assert feed.feed.updated == "2026-12-01T14:00:00Z"
    links = {link.rel: link.href for link in feed.feed.links}
    assert links == {
        "self": "https://status.example.com/status/acme/feed.atom",
        "alternate": "https://status.example.com/status/acme",
    }
    titles = [entry.title for entry in feed.entries]
    assert titles == [
        "Identified: Elevated API errors",
        "Investigating: Elevated API errors",
        "Maintenance in progress: Mail relay upgrade",
        "Maintenance planned: Database failover test",
        "Resolved: Slow sign-in last week",
    ]
    for entry in feed.entries:
        assert entry.id.startswith("urn:uuid:")
        assert entry.updated and entry.link.startswith("https://status.example.com/status/acme#")
    assert "Affects: Public API" in feed.entries[0].content[0].value


def test_atom_entry_ids_are_stable_and_distinct():
    first = [entry.id for entry in feedparser.parse(atom_feed(realistic_snapshot())).entries]
    later = realistic_snapshot()
    later = dataclasses.replace(later, generated_at=NOW + 300, posts=later.posts[::-1])
    again = [entry.id for entry in feedparser.parse(atom_feed(later)).entries]
    assert sorted(first) == sorted(again)
    assert len(set(first)) == len(first)


def test_the_atom_feed_has_the_required_elements():
    atom = "{http://www.w3.org/2005/Atom}"
    root = xml_root(atom_feed(realistic_snapshot()))
    assert root.tag == f"{atom}feed"
    for required in ("id", "title", "updated", "author"):
        assert root.find(f"{atom}{required}") is not None
    for entry in root.findall(f"{atom}entry"):
        for required in ("id", "title", "updated", "content"):
            assert entry.find(f"{atom}{required}") is not None


def test_an_empty_page_has_a_valid_feed():
    feed = feedparser.parse(atom_feed(snapshot()))
    assert not feed.bozo
    assert feed.entries == []


def test_hostile_text_comes_back_as_text_from_the_feed():
    page = hostile_snapshot()
    feed = feedparser.parse(atom_feed(page))
    assert not feed.bozo
    assert feed.entries[0].title == f"Investigating: {HOSTILE}"
    assert b"<script>" not in atom_feed(page)


# ---- badge.svg -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("service_status", list(MonitorStatus))
def test_the_badge_is_well_formed_accessible_svg(service_status):
    svg = badge_svg(snapshot(components=(component(status=service_status),)))
    root = xml_root(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img"
    label = root.get("aria-label")
    assert label is not None and label.startswith("status: ")
    assert root.findtext("{http://www.w3.org/2000/svg}title") == label


def test_the_badge_says_the_overall_status():
    down = snapshot(components=(component(), component("c-db", status=MonitorStatus.DOWN)))
    assert xml_root(badge_svg(down)).get("aria-label") == "status: major outage"
    assert xml_root(badge_svg(snapshot())).get("aria-label") == "status: operational"


def test_badge_text_is_readable_on_every_colour():
    for _, colour in BADGE_MESSAGES.values():
        assert contrast("#ffffff", colour) >= 4.5, colour
    assert contrast("#ffffff", LABEL_COLOUR) >= 4.5


# ---- index.html ----------------------------------------------------------------------------------------


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parsed(html: bytes) -> Tags:
    parser = Tags()
    parser.feed(html.decode())
    return parser


def hostile_snapshot() -> PageSnapshot:
    return snapshot(
        title=HOSTILE,
        description=HOSTILE,
        components=(component("c-api", name=HOSTILE, group=HOSTILE),),
        posts=(
            Post(
                id="p-1",
                title=HOSTILE,
                status=PostStatus.INVESTIGATING,
                message=HOSTILE,
                created_at=NOW,
                component_ids=("c-api",),
            ),
        ),
        maintenances=(
            Maintenance(
                id='w"1',
                title=HOSTILE,
                state=MaintenanceState.UPCOMING,
                starts_at=NOW,
                ends_at=NOW + 60,
                component_ids=("c-api",),
            ),
        ),
    )


def test_every_text_on_the_page_is_escaped():
    html = index_html(hostile_snapshot())
    page = parsed(html)
    assert [tag for tag, _ in page.tags if tag in ("script", "img")] == []
    assert all(not name.startswith("on") for _, attrs in page.tags for name in attrs)
    assert b"&lt;script&gt;" in html
    # Each place shows the text as written, not as markup.
    assert "".join(page.text).count('alert("x")') >= 7


def test_the_page_is_self_contained():
    page = parsed(index_html(realistic_snapshot()))
    tags = [tag for tag, _ in page.tags]
    assert "script" not in tags
    assert all(attrs.get("rel") != "stylesheet" for tag, attrs in page.tags if tag == "link")
    assert not any(tag in ("img", "iframe", "object") for tag in tags)
    html = index_html(realistic_snapshot()).decode()
    assert "@import" not in html and "url(" not in html.split("<body>")[0]


def test_the_page_has_90_labelled_bars_per_component():
    page = parsed(index_html(realistic_snapshot()))
    bars = [attrs for tag, attrs in page.tags if tag == "li" and "bar" in (attrs.get("class") or "").split()]
    assert len(bars) == 6 * 90
    assert bars[89]["title"] == "2026-12-01: 100% uptime"
    assert all(attrs["title"] for attrs in bars)
    search = bars[3 * 90 : 4 * 90]  # the young service: no data before it existed, in its own colour
    assert search[0]["title"] == "2026-09-03: no data (not monitored yet)"
    assert search[0]["class"] == "bar s-no-data"
    assert search[-1]["class"] == "bar s-operational"


def test_the_page_shows_status_maintenance_posts_and_links():
    page = parsed(index_html(realistic_snapshot()))
    text = " ".join(" ".join(page.text).split())
    assert "Major outage" in text
    assert "Mail relay upgrade In progress" in text
    assert "Database failover test Scheduled" in text
    assert text.index("Identified") < text.index("Investigating") < text.index("Slow sign-in last week")
    assert "Last updated 2026-12-01 14:05 UTC" in text
    hrefs = {attrs.get("href") for tag, attrs in page.tags if tag == "a"}
    assert {
        "https://status.example.com/status/acme/feed.atom",
        "https://status.example.com/status/acme/summary.json",
        "https://status.example.com/status/acme/status.json",
    } <= hrefs


def test_palettes_pass_wcag_aa_in_both_schemes():
    for scheme, palette in PALETTES.items():
        for text in TEXT_COLOURS:
            for background in BACKGROUNDS:
                ratio = contrast(palette[text], palette[background])
                assert ratio >= 4.5, f"{scheme}: {text} on {background} is {ratio:.2f}:1"
        for status in ComponentStatus:
            ratio = contrast(palette["on_status"], palette[status.value])
            assert ratio >= 4.5, f"{scheme}: banner text on {status.value} is {ratio:.2f}:1"


def contrast(a: str, b: str) -> float:
    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# ---- all files -----------------------------------------------------------------------------------------


def test_published_files_and_their_types():
    files = published_files(realistic_snapshot())
    assert {name: file.content_type for name, file in files.items()} == {
        "index.html": "text/html; charset=utf-8",
        "status.json": "application/json",
        "summary.json": "application/json",
        "feed.atom": "application/atom+xml",
        "badge.svg": "image/svg+xml",
    }
    assert json.loads(files["status.json"].body) == status_document(realistic_snapshot())


PRIVATE_WORDS = ("url", "error", "email", "member", "user", "note", "incident", "headers", "target")


def test_a_snapshot_has_no_field_for_private_facts():
    # The page_url is the page's own public address; everything else private has no field to travel in.
    for model in (PageSnapshot, Component, ServiceFacts, DayCounts, Post, Maintenance):
        for field in dataclasses.fields(model):
            if field.name == "page_url":
                continue
            assert not any(word in field.name for word in PRIVATE_WORDS), f"{model.__name__}.{field.name}"


def test_status_document_names_only_components_on_the_page():
    page = realistic_snapshot()
    page = dataclasses.replace(
        page, posts=(dataclasses.replace(page.posts[0], component_ids=("c-api", "c-removed", "c-api")),)
    )
    assert status_document(page)["posts"][0]["component_ids"] == ["c-api"]
