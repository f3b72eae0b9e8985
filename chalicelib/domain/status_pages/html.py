"""`index.html`: the public page, static and self-contained.

No script and no external asset (fonts, images, styles): the page must render when only S3 and
CloudFront are up, and read the same without JavaScript. One column that fits 375 px; light and dark
colours from `prefers-color-scheme`, every text/background pair of both palettes passing WCAG AA
(tests check the palettes, axe checks the page). Every text goes through `escape`.

The 90 daily bars are a list: each bar is an item whose text (hidden visually, read by screen readers,
and repeated as the hover title) gives the date and the uptime; days without data have their own colour
and say "no data".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from html import escape

from chalicelib.domain.clock import iso
from chalicelib.domain.status_pages.model import (
    ComponentStatus,
    Maintenance,
    MaintenanceState,
    PageSnapshot,
    Post,
)
from chalicelib.domain.status_pages.ordering import grouped_components, ordered_maintenances
from chalicelib.domain.status_pages.status import STATUS_LABELS, component_statuses, worst_status
from chalicelib.domain.status_pages.text import post_status_label, time_label
from chalicelib.domain.status_pages.threads import newest_first
from chalicelib.domain.status_pages.uptime import DayUptime, daily_series, window_uptime

BANNERS = {
    ComponentStatus.OPERATIONAL: "All systems operational",
    ComponentStatus.UNDER_MAINTENANCE: "Maintenance in progress",
    ComponentStatus.DEGRADED_PERFORMANCE: "Degraded performance",
    ComponentStatus.PARTIAL_OUTAGE: "Partial outage",
    ComponentStatus.MAJOR_OUTAGE: "Major outage",
}

# Each palette's colours: `fg`, `muted` and the status colours are text on `bg` (and on `surface`);
# `on_status` is the banner's text on every status colour. tests/unit check every pair for 4.5:1.
PALETTES: dict[str, dict[str, str]] = {
    "light": {
        "bg": "#ffffff",
        "surface": "#ffffff",
        "fg": "#1f2328",
        "muted": "#57606a",
        "border": "#d0d7de",
        "link": "#0550ae",
        "on_status": "#ffffff",
        "operational": "#1a7f37",
        "under_maintenance": "#0969da",
        "degraded_performance": "#9a6700",
        "partial_outage": "#bc4c00",
        "major_outage": "#cf222e",
        "no_data": "#d0d7de",
    },
    "dark": {
        "bg": "#0d1117",
        "surface": "#161b22",
        "fg": "#e6edf3",
        "muted": "#8b949e",
        "border": "#30363d",
        "link": "#58a6ff",
        "on_status": "#0d1117",
        "operational": "#3fb950",
        "under_maintenance": "#58a6ff",
        "degraded_performance": "#d29922",
        "partial_outage": "#f0883e",
        "major_outage": "#f85149",
        "no_data": "#484f58",
    },
}
TEXT_COLOURS = ("fg", "muted", "link", *(status.value for status in ComponentStatus))
BACKGROUNDS = ("bg", "surface")

# A day's bar: its class (a status colour) from its uptime.
BAR_LEVELS: tuple[tuple[float, ComponentStatus], ...] = (
    (99.9, ComponentStatus.OPERATIONAL),
    (99.0, ComponentStatus.DEGRADED_PERFORMANCE),
    (95.0, ComponentStatus.PARTIAL_OUTAGE),
    (0.0, ComponentStatus.MAJOR_OUTAGE),
)


def index_html(snapshot: PageSnapshot) -> bytes:
    """The complete page as UTF-8 HTML."""
    statuses = component_statuses(snapshot)
    overall = worst_status(statuses.values())
    names = {component.id: component.name for component in snapshot.components}
    title = escape(snapshot.title)
    feed = escape(f"{snapshot.page_url}/feed.atom")
    summary = escape(snapshot.description or f"Service status of {snapshot.title}")
    parts = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light dark">',
        f"<title>{title} status</title>",
        f'<meta name="description" content="{summary}">',
        f'<link rel="alternate" type="application/atom+xml" title="{title} status" href="{feed}">',
        f"<style>{_css()}</style>",
        "</head>",
        "<body>",
        '<header class="page-header">',
        f"<h1>{title}</h1>",
        f'<p class="description">{escape(snapshot.description)}</p>' if snapshot.description else "",
        "</header>",
        "<main>",
        f'<p class="banner s-{overall.value}"><strong>{escape(BANNERS[overall])}</strong></p>',
        _maintenances(snapshot.maintenances, names),
        _components(snapshot, statuses),
        _posts(snapshot.posts, names),
        "</main>",
        _footer(snapshot),
        "</body>",
        "</html>",
    ]
    return ("\n".join(part for part in parts if part) + "\n").encode()


def percent(value: float) -> str:
    """Uptime as people read it: `100%`, `99.95%`; rounded down, so a failed check never shows 100%."""
    if value >= 100:
        return "100%"
    return f"{math.floor(value * 100) / 100:.2f}%"


def bar_status(day: DayUptime) -> str:
    """The colour class of a day's bar: a status, `under_maintenance` or `no-data`."""
    if day.uptime_percentage is None:
        return ComponentStatus.UNDER_MAINTENANCE.value if day.maintenance_seconds else "no-data"
    for floor, status in BAR_LEVELS:
        if day.uptime_percentage >= floor:
            return status.value
    return ComponentStatus.MAJOR_OUTAGE.value  # pragma: no cover (0.0 is the last floor)


def bar_label(day: DayUptime) -> str:
    """What a day's bar says: `2026-11-30: 99.95% uptime, 2 h 10 min in maintenance`."""
    if not day.existed:
        return f"{day.date}: no data (not monitored yet)"
    if day.uptime_percentage is None:
        text = f"{day.date}: no data"
    else:
        text = f"{day.date}: {percent(day.uptime_percentage)} uptime"
    if day.downtime_seconds:
        text += f", {_duration(day.downtime_seconds)} down"
    if day.maintenance_seconds:
        text += f", {_duration(day.maintenance_seconds)} in maintenance"
    return text


def _duration(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


def _time(epoch_seconds: int) -> str:
    return f'<time datetime="{iso(epoch_seconds)}">{escape(time_label(epoch_seconds))}</time>'


def _affects(component_ids: Iterable[str], names: dict[str, str]) -> str:
    affected = [escape(names[cid]) for cid in dict.fromkeys(component_ids) if cid in names]
    return f'<p class="meta">Affects: {", ".join(affected)}</p>' if affected else ""


def _maintenances(maintenances: Sequence[Maintenance], names: dict[str, str]) -> str:
    if not maintenances:
        return ""
    items = []
    for maintenance in ordered_maintenances(maintenances):
        active = maintenance.state is MaintenanceState.ACTIVE
        state = "In progress" if active else "Scheduled"
        items.append(
            f'<li class="card" id="maintenance-{escape(maintenance.id)}">'
            f'<p class="card-head"><strong>{escape(maintenance.title)}</strong>'
            f' <span class="pill s-under_maintenance-text">{state}</span></p>'
            f'<p class="meta">{_time(maintenance.starts_at)} to {_time(maintenance.ends_at)}</p>'
            f"{_affects(maintenance.component_ids, names)}</li>"
        )
    return (
        '<section aria-labelledby="maintenance-heading">'
        '<h2 id="maintenance-heading">Maintenance</h2>'
        f'<ul class="cards">{"".join(items)}</ul></section>'
    )


def _components(snapshot: PageSnapshot, statuses: dict[str, ComponentStatus]) -> str:
    if not snapshot.components:
        return ""
    out = [
        '<section aria-labelledby="components-heading">',
        '<h2 id="components-heading">Components</h2>',
        '<p class="meta">Uptime over the last 90 days, one bar per day (UTC).</p>',
        _legend(),
    ]
    for group, members in grouped_components(snapshot.components):
        if group is not None:
            out.append(f'<h3 class="group">{escape(group)}</h3>')
        out.append('<ul class="cards">')
        for component in members:
            series = daily_series(component.service, now=snapshot.generated_at)
            uptime = window_uptime(series)
            status = statuses[component.id]
            name = escape(component.name)
            bars = "".join(_bar(day) for day in series)
            out.append(
                f'<li class="card component">'
                f'<p class="card-head"><strong>{name}</strong>'
                f' <span class="status s-{status.value}-text">{escape(STATUS_LABELS[status])}</span></p>'
                f'<ol class="bars" aria-label="{name}: daily uptime, oldest first">{bars}</ol>'
                f'<p class="axis"><span>90 days ago</span>'
                f"<span>{percent(uptime) + ' uptime' if uptime is not None else 'No data'}</span>"
                f"<span>Today</span></p></li>"
            )
        out.append("</ul>")
    out.append("</section>")
    return "".join(out)


def _bar(day: DayUptime) -> str:
    label = escape(bar_label(day))
    hidden = f'<span class="visually-hidden">{label}</span>'
    return f'<li class="bar s-{bar_status(day)}" title="{label}">{hidden}</li>'


def _legend() -> str:
    keys = (
        ("operational", "99.9% or more"),
        ("degraded_performance", "99% or more"),
        ("partial_outage", "95% or more"),
        ("major_outage", "below 95%"),
        ("under_maintenance", "maintenance"),
        ("no-data", "no data"),
    )
    items = "".join(
        f'<li><span class="swatch s-{cls}" aria-hidden="true"></span>{escape(text)}</li>'
        for cls, text in keys
    )
    return f'<ul class="legend" aria-label="Bar colours">{items}</ul>'


def _posts(posts: Sequence[Post], names: dict[str, str]) -> str:
    out = ['<section aria-labelledby="updates-heading">', '<h2 id="updates-heading">Updates</h2>']
    if not posts:
        out.append('<p class="meta">No updates posted.</p>')
    for post in newest_first(posts):
        out.append(
            f'<article class="card" id="post-{escape(post.id)}">'
            f"<h3>{escape(post.title)}</h3>"
            f'<p class="meta"><span class="pill">{escape(post_status_label(post.status))}</span> '
            f"{_time(post.created_at)}</p>"
            f"{_affects(post.component_ids, names)}"
            f'<p class="message">{escape(post.message)}</p></article>'
        )
    out.append("</section>")
    return "".join(out)


def _footer(snapshot: PageSnapshot) -> str:
    base = snapshot.page_url
    links = (
        (f"{base}/feed.atom", "Atom feed"),
        (f"{base}/status.json", "status.json"),
        (f"{base}/summary.json", "summary.json (Statuspage)"),
        (f"{base}/badge.svg", "Badge"),
    )
    anchors = " · ".join(f'<a href="{escape(href)}">{escape(text)}</a>' for href, text in links)
    return (
        '<footer class="page-footer">'
        f"<p>Last updated {_time(snapshot.generated_at)}</p>"
        f"<p>{anchors}</p>"
        "<p>Powered by Vigil</p>"
        "</footer>"
    )


def _variables(palette: dict[str, str]) -> str:
    return "".join(f"--{name.replace('_', '-')}:{colour};" for name, colour in palette.items())


def _css() -> str:
    status_rules = "".join(
        f".s-{status.value}{{--s:var(--{status.value.replace('_', '-')})}}"
        f".s-{status.value}-text{{color:var(--{status.value.replace('_', '-')})}}"
        for status in ComponentStatus
    )
    return (
        f":root{{{_variables(PALETTES['light'])}color-scheme:light dark}}"
        f"@media (prefers-color-scheme:dark){{:root{{{_variables(PALETTES['dark'])}}}}}"
        "*{box-sizing:border-box}"
        "body{margin:0 auto;max-width:56rem;padding:1rem;background:var(--bg);color:var(--fg);"
        "font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;overflow-wrap:anywhere}"
        "h1{font-size:1.75rem;margin:.5rem 0}h2{font-size:1.25rem;margin:2rem 0 .5rem}"
        "h3{font-size:1.05rem;margin:1rem 0 .5rem}p{margin:.25rem 0}"
        "a{color:var(--link)}"
        ".description,.meta,.axis,.legend,.page-footer{color:var(--muted)}"
        ".meta,.axis,.legend{font-size:.875rem}"
        ".banner{margin:1rem 0;padding:1rem;border-radius:6px;background:var(--s);color:var(--on-status);"
        "font-size:1.2rem}"
        ".cards{list-style:none;margin:0;padding:0}"
        ".card{background:var(--surface);border:1px solid var(--border);border-radius:6px;padding:.75rem;"
        "margin:0 0 .5rem}"
        "article.card h3{margin:0 0 .25rem}"
        ".card-head{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.25rem 1rem}"
        ".status{font-weight:600}"
        ".pill{display:inline-block;border:1px solid currentColor;border-radius:1rem;padding:0 .5rem;"
        "font-size:.8rem;font-weight:600}"
        ".bars{display:flex;gap:1px;list-style:none;margin:.5rem 0 .25rem;padding:0;height:2rem}"
        ".bar{flex:1 1 0;min-width:0;background:var(--s);border-radius:1px}"
        ".s-no-data{--s:var(--no-data)}"
        ".axis{display:flex;justify-content:space-between;gap:.5rem}"
        ".legend{display:flex;flex-wrap:wrap;gap:.25rem 1rem;list-style:none;margin:.5rem 0;padding:0}"
        ".swatch{display:inline-block;width:.75rem;height:.75rem;margin-right:.35rem;border-radius:2px;"
        "background:var(--s);vertical-align:-.05rem}"
        ".message{white-space:pre-line;margin-top:.5rem}"
        ".page-footer{margin-top:2rem;border-top:1px solid var(--border);padding-top:1rem;font-size:.875rem}"
        ".visually-hidden{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;"
        "clip:rect(0,0,0,0);white-space:nowrap;border:0}"
        f"{status_rules}"
    )
