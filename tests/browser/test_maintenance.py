"""Maintenance windows in the dashboard: plan one now for a service, see the service in maintenance,
plan a recurring one in another time zone, end the current one early."""

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import Person, check_accessibility, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_plan_a_window_see_the_service_in_maintenance_and_end_it(stack, new_page, target):
    owner = Person(stack, name="Ops")
    org_id = requests.post(
        stack.url("/v1/orgs"), json={"name": "Ops"}, headers=owner.auth, timeout=10
    ).json()["id"]
    service = requests.post(
        stack.url(f"/v1/orgs/{org_id}/services"),
        json={"name": "Checkout", "url": target.url, "interval_seconds": 60},
        headers=owner.auth,
        timeout=10,
    ).json()

    page = new_page()
    log_in(page, owner, then=f"/orgs/{org_id}/maintenance")
    expect(page.get_by_role("heading", name="Maintenance windows")).to_be_visible()
    check_accessibility(page)

    page.get_by_label("Title").fill("Deploy 2.4")
    page.get_by_label("Duration (minutes)").fill("30")
    page.get_by_label("Checkout").check()
    page.get_by_role("button", name="Create window").click()
    expect(page.get_by_role("status").filter(has_text="Deploy 2.4 is active")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Deploy 2.4")
    expect(row).to_contain_text("active")
    expect(row).to_contain_text("Checkout")

    # A recurring window planned in Berlin time: its next occurrence in both zones.
    page.get_by_label("Title").fill("Sunday backups")
    page.get_by_role("radio", name="At").check()
    page.get_by_label("Start time (in the window's time zone)").fill("2027-03-21T04:00")
    page.get_by_label("Duration (minutes)").fill("120")
    page.get_by_label("Repeats").select_option(label="Every week")
    page.get_by_label("Time zone", exact=True).select_option("Europe/Berlin")
    page.get_by_role("button", name="Create window").click()
    expect(page.get_by_role("status").filter(has_text="Sunday backups is scheduled")).to_be_visible()
    backups = page.get_by_role("row").filter(has_text="Sunday backups")
    expect(backups).to_contain_text("Europe/Berlin")
    expect(backups).to_contain_text("FREQ=WEEKLY")
    expect(backups).to_contain_text("04:00")  # in the window's own zone
    check_accessibility(page)
    screenshot(page, "maintenance-windows")

    # The service page and the overview show it in maintenance.
    page.goto(f"/orgs/{org_id}/services/{service['id']}")
    expect(page.get_by_role("heading", name="Checkout")).to_contain_text("maintenance")
    expect(page.get_by_text("maintenance window")).to_be_visible()
    check_accessibility(page)
    page.goto(f"/orgs/{org_id}")
    expect(page.get_by_text("maintenance").first).to_be_visible()

    page.goto(f"/orgs/{org_id}/maintenance")
    page.get_by_role("button", name="End Deploy 2.4 now").click()
    expect(page.get_by_role("status").filter(has_text="Deploy 2.4 ended.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Deploy 2.4")).to_contain_text("ended")
    page.get_by_label("Show").select_option("scheduled")
    expect(page.get_by_role("row").filter(has_text="Deploy 2.4")).to_have_count(0)
    expect(page.get_by_role("row").filter(has_text="Sunday backups")).to_have_count(1)
    page.goto(f"/orgs/{org_id}/services/{service['id']}")
    expect(page.get_by_role("heading", name="Checkout")).not_to_contain_text("maintenance")
