"""The published status page (index.html) as a customer's browser shows it: opened from a file, the
way S3 serves it, with no API and no script; at phone and desktop widths, light and dark."""

from __future__ import annotations

from dataclasses import replace

import pytest
from playwright.sync_api import Browser, Page, expect

from chalicelib.domain.status_pages import index_html
from tests.browser.conftest import check_accessibility, screenshot
from tests.status_page_snapshots import realistic_snapshot

pytestmark = [pytest.mark.browser]

VIEWS = [(375, False), (375, True), (1280, False), (1280, True)]


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("status") / "index.html"
    path.write_bytes(index_html(realistic_snapshot()))
    return path


@pytest.fixture
def open_page(browser: Browser, page_file):
    contexts = []

    def make(*, width: int, dark: bool) -> Page:
        context = browser.new_context(
            viewport={"width": width, "height": 900}, color_scheme="dark" if dark else "light"
        )
        contexts.append(context)
        page = context.new_page()
        page.goto(page_file.as_uri())
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.mark.parametrize(("width", "dark"), VIEWS, ids=[f"{w}-{'dark' if d else 'light'}" for w, d in VIEWS])
def test_status_page_reads_at_every_width_and_scheme(open_page, width, dark):
    page = open_page(width=width, dark=dark)

    expect(page.get_by_role("heading", name="Acme", level=1)).to_be_visible()
    expect(page.get_by_text("Major outage").first).to_be_visible()
    expect(page.get_by_role("heading", name="Core")).to_be_visible()
    expect(page.get_by_role("heading", name="Maintenance")).to_be_visible()
    expect(page.get_by_text("Mail relay upgrade")).to_be_visible()
    expect(page.get_by_role("heading", name="Elevated API errors").first).to_be_visible()
    expect(page.get_by_role("link", name="Atom feed")).to_have_attribute(
        "href", "https://status.example.com/status/acme/feed.atom"
    )
    expect(page.get_by_text("Last updated 2026-12-01 14:05 UTC")).to_be_visible()

    # 90 bars per component, each named by its date and uptime; days without data say so.
    api_bars = page.get_by_role("list", name="Public API: daily uptime, oldest first").get_by_role("listitem")
    expect(api_bars).to_have_count(90)
    expect(api_bars.nth(89)).to_have_accessible_name("2026-12-01: 100% uptime")
    expect(api_bars.nth(86)).to_have_accessible_name("2026-11-28: 97.91% uptime, 30 min down")
    expect(api_bars.nth(64)).to_have_accessible_name("2026-11-06: no data")
    search_bars = page.get_by_role("list", name="Search: daily uptime, oldest first").get_by_role("listitem")
    expect(search_bars.first).to_have_accessible_name("2026-09-03: no data (not monitored yet)")
    assert _bar_colour(search_bars.first) != _bar_colour(search_bars.nth(89))

    if width == 375:
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 375px"
        bar_width = api_bars.first.bounding_box()["width"]
        assert bar_width >= 1.5, f"bars too thin to see at 375px: {bar_width}px"

    check_accessibility(page)
    screenshot(page, f"status-page-{width}-{'dark' if dark else 'light'}")


def _bar_colour(bar) -> str:
    return bar.evaluate("element => getComputedStyle(element).backgroundColor")


def test_long_unbroken_text_does_not_widen_the_page_at_375px(browser: Browser, tmp_path):
    long_word = "Checkout" * 25
    page_data = realistic_snapshot()
    page_data = replace(
        page_data,
        title=long_word,
        components=(replace(page_data.components[0], name=long_word), *page_data.components[1:]),
        posts=(replace(page_data.posts[0], title=long_word, message=f"See https://example.com/{long_word}"),),
    )
    path = tmp_path / "index.html"
    path.write_bytes(index_html(page_data))
    context = browser.new_context(viewport={"width": 375, "height": 900})
    try:
        page = context.new_page()
        page.goto(path.as_uri())
        expect(page.get_by_role("heading", level=1)).to_have_text(long_word)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 375px"
    finally:
        context.close()
