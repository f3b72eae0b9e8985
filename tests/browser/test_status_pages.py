"""Status pages in the dashboard: an admin builds a page (two components in two groups, reordered from
the keyboard), posts an update, and a customer opens the public page without logging in; an update
posted from an incident starts prefilled, asks for a public title, and the next one follows it up."""

import uuid

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import Person, check_accessibility, log_in, screenshot, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OVERALL = {
    "operational": "All systems operational",
    "degraded_performance": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
    "under_maintenance": "Under maintenance",
}


def org_with_services(stack, owner: Person, target, *names: str) -> tuple[str, dict[str, str]]:
    org_id = requests.post(
        stack.url("/v1/orgs"), json={"name": "Acme"}, headers=owner.auth, timeout=10
    ).json()["id"]
    services = {}
    for name in names:
        services[name] = requests.post(
            stack.url(f"/v1/orgs/{org_id}/services"),
            json={"name": name, "url": target.url, "interval_seconds": 60},
            headers=owner.auth,
            timeout=10,
        ).json()["id"]
    return org_id, services


def legends(page: Page) -> list[str]:
    return page.locator("[data-component-row] > fieldset > legend").all_inner_texts()


def fits(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def published(stack, slug: str, text: str) -> bool:
    """Whether the web origin serves the page's published files (from the publisher's bucket) with `text`."""
    answer = requests.get(f"{stack.web_url}/status/{slug}/status.json", timeout=10)
    return answer.status_code == 200 and text in answer.text


def test_an_admin_builds_a_page_posts_and_a_customer_reads_it(stack, new_page, target):
    owner = Person(stack, name="Admin")
    org_id, _ = org_with_services(stack, owner, target, "Checkout", "Search")
    slug = f"acme-{uuid.uuid4().hex[:8]}"

    page = new_page()
    log_in(page, owner, then=f"/orgs/{org_id}/status-pages")
    expect(page.get_by_role("heading", name="Status pages")).to_be_visible()
    expect(page.get_by_text("No status pages yet.")).to_be_visible()
    page.get_by_role("link", name="New status page").click()
    expect(page.get_by_role("heading", name="New status page")).to_be_visible()

    page.get_by_label("Title").fill("Acme Status")
    expect(page.get_by_label("Slug")).to_have_value("acme-status")  # made from the title
    page.get_by_label("Slug").fill(slug)
    page.get_by_label("Description").fill("How Acme's shop is doing")
    for name, group in (("Checkout", "Shop"), ("Search", "Discovery")):
        page.get_by_label("Service to add").select_option(label=name)
        page.get_by_role("button", name="Add component").click()
        row = page.get_by_role("group", name=f"Component {len(legends(page))}: {name}")
        row.get_by_label("Group").fill(group)
    assert legends(page) == ["Component 1: Checkout", "Component 2: Search"]

    # Reordering from the keyboard: the focus stays with the moved component.
    page.get_by_role("button", name="Move Search up").focus()
    page.keyboard.press("Enter")
    assert legends(page) == ["Component 1: Search", "Component 2: Checkout"]
    expect(page.get_by_role("button", name="Move Search down")).to_be_focused()  # "up" is disabled at the top
    expect(page.get_by_role("status").filter(has_text="Search moved to position 1 of 2.")).to_be_attached()
    page.keyboard.press("Enter")
    assert legends(page) == ["Component 1: Checkout", "Component 2: Search"]
    check_accessibility(page)

    page.get_by_role("button", name="Create page").click()
    expect(page.get_by_role("status").filter(has_text="Status page created")).to_be_visible()
    expect(page.get_by_role("heading", name="Acme Status", level=1)).to_be_visible()
    expect(page.get_by_text("0 subscribers (0 confirmed, 0 pending)")).to_be_visible()
    page_id = page.url.split("/status-pages/")[1].split("?")[0]

    # The preview: the live public document, grouped as the public page, 90 days per component.
    preview = page.get_by_role("article", name="Preview of Acme Status")
    expect(preview.get_by_role("region", name="Shop")).to_contain_text("Checkout")
    expect(preview.get_by_role("region", name="Discovery")).to_contain_text("Search")
    expect(preview.locator("[data-component=Checkout] .uptime-days span")).to_have_count(90)

    page.get_by_label("Update title").fill("Slow checkout")
    page.get_by_label("Update status").select_option("identified")
    page.get_by_label("Message").fill("Payments take longer than usual; a fix is on its way.")
    page.get_by_role("group", name="Affected components").get_by_label("Checkout").check()
    page.get_by_role("button", name="Post update").click()
    posted_notice = "Update “Slow checkout” posted (identified)."
    expect(page.get_by_role("status").filter(has_text=posted_notice)).to_be_visible()
    posted = page.locator("[data-posted='Slow checkout']")
    expect(posted).to_contain_text("identified")
    expect(posted).to_contain_text("Checkout")
    expect(preview.locator("[data-post='Slow checkout']")).to_contain_text("a fix is on its way")
    expect(page.get_by_label("Update title")).to_have_value("")  # ready for the next one
    check_accessibility(page)
    screenshot(page, "status-page-editor")

    # The list: the page, its public address, its status and its subscribers.
    page.get_by_role("link", name="← Status pages").click()
    row = page.get_by_role("row").filter(has_text="Acme Status")
    expect(row).to_contain_text(f"/status/{slug}")
    live = requests.get(stack.url(f"/v1/status/{slug}"), timeout=10).json()["status"]
    expect(row.get_by_role("cell").nth(2)).to_have_text(OVERALL[live])
    expect(row.get_by_role("cell").nth(4)).to_have_text("0")  # subscribers
    check_accessibility(page)

    # 375 px wide (and dark): the editor fits without sideways scrolling and stays usable.
    phone = new_page(width=375, dark=True)
    log_in(phone, owner, then=f"/orgs/{org_id}/status-pages/{page_id}")
    expect(phone.get_by_role("heading", name="Acme Status", level=1)).to_be_visible()
    expect(phone.get_by_role("button", name="Move Checkout down")).to_be_visible()
    assert fits(phone)
    check_accessibility(phone)
    screenshot(phone, "status-page-editor-375")

    # A customer, not logged in, opens the public page: the static files the publisher wrote.
    wait_until(lambda: published(stack, slug, "Slow checkout"), seconds=30, what="the published page")
    customer = new_page()
    customer.goto(f"/status/{slug}")
    expect(customer.get_by_role("heading", name="Acme Status", level=1)).to_be_visible()
    cards = customer.locator("li.component")
    expect(cards).to_have_count(2)
    expect(cards.nth(0)).to_contain_text("Checkout")
    expect(cards.nth(1)).to_contain_text("Search")
    for card in (cards.nth(0), cards.nth(1)):
        expect(card.locator("ol.bars > li")).to_have_count(90)
    expect(customer.get_by_role("heading", name="Shop")).to_be_visible()
    expect(customer.get_by_role("heading", name="Discovery")).to_be_visible()
    update = customer.get_by_role("article").filter(has_text="Slow checkout")
    expect(update).to_contain_text("a fix is on its way")
    expect(update).to_contain_text("Identified")
    check_accessibility(customer)
    screenshot(customer, "status-page-public")


def test_an_update_from_an_incident_is_prefilled_and_the_next_follows_it_up(stack, new_page, target):
    owner = Person(stack, name="Responder")
    org_id, services = org_with_services(stack, owner, target, "Payments", "Docs")
    slug = f"pay-{uuid.uuid4().hex[:8]}"
    requests.post(
        stack.url(f"/v1/orgs/{org_id}/status-pages"),
        json={
            "slug": slug,
            "title": "Acme Payments",
            "components": [
                {"name": "Card payments", "service_id": services["Payments"], "group": "Payments"},
                {"name": "Documentation", "service_id": services["Docs"]},
            ],
        },
        headers=owner.auth,
        timeout=10,
    ).raise_for_status()
    internal = "pg-primary-3 OOM-killed on prod-eu (runbook RB-17)"
    incident = requests.post(
        stack.url(f"/v1/orgs/{org_id}/incidents"),
        json={"title": internal, "service_id": services["Payments"], "severity": "high"},
        headers=owner.auth,
        timeout=10,
    ).json()

    page = new_page()
    log_in(page, owner, then=f"/orgs/{org_id}/incidents/{incident['id']}")
    panel = page.get_by_role("region", name="Post an update to a status page")
    expect(panel.get_by_label("Update title")).to_have_value(internal)
    expect(panel).to_contain_text("Posts are public")
    expect(panel).to_contain_text("This is still the incident's internal title")
    expect(panel.get_by_label("Update status")).to_have_value("investigating")
    expect(panel.get_by_label("Card payments")).to_be_checked()
    expect(panel.get_by_label("Documentation")).not_to_be_checked()
    check_accessibility(page)

    panel.get_by_label("Update title").fill("Card payments fail for some customers")
    expect(panel).not_to_contain_text("still the incident's internal title")
    panel.get_by_label("Message").fill("We are investigating failed card payments.")
    panel.get_by_role("button", name="Post update").click()
    expect(panel.get_by_role("status")).to_contain_text("Update posted to Acme Payments (investigating).")

    # The next update follows the incident's story: same public title, the next stage.
    expect(panel).to_contain_text("Follows up this incident's story “Card payments fail for some customers”")
    expect(panel.get_by_label("Update status")).to_have_value("identified")
    panel.get_by_label("Message").fill("A database ran out of memory; it is being restarted.")
    panel.get_by_role("button", name="Post update").click()
    expect(panel.get_by_role("status")).to_contain_text("(identified)")
    expect(panel).to_contain_text("“Card payments fail for some customers” (identified")
    expect(panel.get_by_label("Update status")).to_have_value("monitoring")
    screenshot(page, "incident-status-update")

    document = requests.get(stack.url(f"/v1/status/{slug}"), timeout=10).json()
    assert [(p["title"], p["status"]) for p in document["posts"]] == [
        ("Card payments fail for some customers", "identified"),
        ("Card payments fail for some customers", "investigating"),
    ]
    assert internal not in str(document)
    posts = requests.get(
        stack.url(f"/v1/orgs/{org_id}/status-pages/{document_page_id(stack, owner, org_id)}/posts"),
        headers=owner.auth,
        timeout=10,
    ).json()["items"]
    assert {p["incident_id"] for p in posts} == {incident["id"]}
    assert len({p["thread_id"] for p in posts}) == 1  # one story


def document_page_id(stack, owner: Person, org_id: str) -> str:
    pages = requests.get(stack.url(f"/v1/orgs/{org_id}/status-pages"), headers=owner.auth, timeout=10).json()
    return pages["items"][0]["id"]


def test_an_admin_deletes_a_page_after_confirming(stack, new_page, target):
    owner = Person(stack, name="Owner")
    org_id, _ = org_with_services(stack, owner, target, "Checkout")
    slug = f"gone-{uuid.uuid4().hex[:8]}"
    made = requests.post(
        stack.url(f"/v1/orgs/{org_id}/status-pages"),
        json={"slug": slug, "title": "Short-lived", "components": []},
        headers=owner.auth,
        timeout=10,
    ).json()

    page = new_page()
    log_in(page, owner, then=f"/orgs/{org_id}/status-pages/{made['id']}")
    expect(page.get_by_role("heading", name="Short-lived", level=1)).to_be_visible()
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Delete page").click()
    expect(page.get_by_role("heading", name="Short-lived", level=1)).to_be_visible()  # kept
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete page").click()
    expect(page.get_by_text("No status pages yet.")).to_be_visible()
    assert requests.get(stack.url(f"/v1/status/{slug}"), timeout=10).status_code == 404


def test_the_preview_shows_an_outage_without_a_reload(stack, new_page, target):
    owner = Person(stack, name="Watcher")
    org_id = requests.post(
        stack.url("/v1/orgs"), json={"name": "Live"}, headers=owner.auth, timeout=10
    ).json()["id"]
    service = requests.post(
        stack.url(f"/v1/orgs/{org_id}/services"),
        json={"name": "Shop", "url": target.url, "interval_seconds": 2, "timeout_seconds": 1},
        headers=owner.auth,
        timeout=10,
    ).json()
    made = requests.post(
        stack.url(f"/v1/orgs/{org_id}/status-pages"),
        json={
            "slug": f"live-{uuid.uuid4().hex[:8]}",
            "title": "Live status",
            "components": [{"name": "Web shop", "service_id": service["id"]}],
        },
        headers=owner.auth,
        timeout=10,
    ).json()

    page = new_page()
    log_in(page, owner, then=f"/orgs/{org_id}/status-pages/{made['id']}")
    preview = page.get_by_role("article", name="Preview of Live status")
    expect(preview.get_by_text("All systems operational")).to_be_visible(timeout=20_000)
    target.status = 500
    expect(preview.get_by_text("Major outage").first).to_be_visible(timeout=30_000)
    expect(preview.locator("[data-component='Web shop']")).to_contain_text("Major outage")
