"""Heartbeats in the dashboard: add one, copy its ping URL and crontab line, see its pings arrive."""

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import Person, check_accessibility, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_add_a_heartbeat_copy_its_crontab_line_and_see_its_pings(stack, new_page):
    owner = Person(stack, name="Cron")
    org = requests.post(stack.url("/v1/orgs"), json={"name": "Backups"}, headers=owner.auth, timeout=10)
    org_id = org.json()["id"]

    page = new_page()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, owner, then=f"/orgs/{org_id}")
    page.get_by_role("link", name="Add heartbeat").click()
    page.wait_for_url(re.compile(r"/heartbeats/new$"))
    check_accessibility(page)
    page.get_by_label("Name").fill("Nightly backup")
    page.get_by_label("Schedule").select_option("cron")
    page.get_by_label("Cron expression").fill("30 2 * * *")
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_label("Grace (seconds)").fill("900")
    page.get_by_role("button", name="Create heartbeat").click()

    expect(page.get_by_role("heading", name=re.compile("waiting for its first ping"))).to_be_visible()
    ping_url = page.get_by_label("Ping URL").input_value()
    assert re.fullmatch(r"https?://[^/]+/ping/[A-Za-z0-9_-]{43}", ping_url), ping_url
    crontab = page.get_by_label("Crontab line").input_value()
    assert crontab.startswith("30 2 * * * ") and crontab.endswith(f"&& curl -fsS -m 10 --retry 5 {ping_url}")
    page.get_by_role("button", name="Copy crontab line").click()
    expect(page.get_by_role("status")).to_have_text("Crontab line copied")
    assert page.evaluate("navigator.clipboard.readText()") == crontab
    check_accessibility(page)
    screenshot(page, "heartbeat-created")

    # The job runs: a start, then a success with its output, paired by run id.
    assert requests.get(f"{ping_url}/start?rid=run-1", timeout=10).text == "OK"
    assert requests.post(f"{ping_url}/0?rid=run-1", data=b"3 files backed up", timeout=10).text == "OK"

    page.get_by_role("link", name="Open heartbeat").click()
    expect(page.get_by_role("heading", name=re.compile("Nightly backup"))).to_be_visible()
    expect(page.get_by_text("Status: up")).to_be_visible()
    expect(page.get_by_text("cron 30 2 * * * (Europe/Berlin), 900 s of grace")).to_be_visible()
    expect(page.get_by_text(re.compile(r"\(success\)$"))).to_be_visible()  # last seen
    pings = page.get_by_role("table")
    expect(pings.get_by_role("row")).to_have_count(3)  # the header, the success and the start
    expect(pings.get_by_role("row").nth(1)).to_contain_text("success (exit 0)")
    expect(pings.get_by_role("row").nth(1)).to_contain_text("3 files backed up")
    expect(pings.get_by_role("row").nth(1)).to_contain_text("run-1")
    expect(pings.get_by_role("row").nth(1)).to_contain_text(re.compile(r"\d+ ms"))
    expect(page.get_by_role("button", name="Check now")).to_have_count(0)
    check_accessibility(page)
    screenshot(page, "heartbeat-detail")

    # A new ping URL: the old one stops.
    page.get_by_role("button", name="New ping URL").click()
    expect(page.get_by_label("Ping URL")).not_to_have_value(ping_url)
    assert requests.get(ping_url, timeout=10).status_code == 404
