"""Public status pages against `make run`'s stack, over HTTP only: an outage reaches the published
page within a minute, a post reaches the feed within seconds, and the page is served by the web
origin (from the embedded S3) with the API stopped."""

import signal
import uuid

import pytest
import requests

from tests.e2e.conftest import running_stack, wait_for
from tests.e2e.test_local_stack_monitoring import Target

pytestmark = pytest.mark.e2e


@pytest.fixture
def target():
    server = Target()
    yield server
    server.server.shutdown()


def make_page(stack, me, service_id: str) -> dict:
    body = {
        "slug": f"e2e-{uuid.uuid4().hex[:10]}",
        "title": "E2E status",
        "components": [{"name": "Website", "service_id": service_id}],
    }
    reply = requests.post(
        stack.url(f"/v1/orgs/{me['org_id']}/status-pages"), json=body, headers=me["auth"], timeout=10
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


def published(stack, slug: str, name: str = "") -> requests.Response:
    """A file of the page as a visitor gets it: from the web origin, never from the API."""
    return requests.get(f"{stack.web_url}/status/{slug}{'/' + name if name else ''}", timeout=10)


def published_status(stack, slug: str) -> str | None:
    reply = published(stack, slug, "status.json")
    return reply.json()["status"] if reply.status_code == 200 else None


def test_an_outage_reaches_the_published_page_within_a_minute(local_stack, target):
    me = local_stack.account()
    service = requests.post(
        local_stack.url(f"/v1/orgs/{me['org_id']}/services"),
        json={"name": "Local target", "url": target.url, "interval_seconds": 2, "timeout_seconds": 1},
        headers=me["auth"],
        timeout=10,
    ).json()
    page = make_page(local_stack, me, service["id"])
    slug = page["slug"]
    wait_for(lambda: published_status(local_stack, slug) == "operational", seconds=60, what="the page")
    html = published(local_stack, slug)
    assert html.status_code == 200 and html.headers["Content-Type"].startswith("text/html")
    assert html.headers["Cache-Control"] == "public, max-age=30"

    target.status = 503
    wait_for(
        lambda: published_status(local_stack, slug) == "major_outage",
        seconds=60,
        what="the outage on the page",
    )
    for path in (slug, f"{slug}/", f"{slug}/index.html"):
        assert (
            "banner s-major_outage" in requests.get(f"{local_stack.web_url}/status/{path}", timeout=10).text
        )
    assert published(local_stack, slug, "badge.svg").headers["Content-Type"] == "image/svg+xml"


def test_a_post_appears_in_the_published_feed_within_seconds(local_stack):
    me = local_stack.account()
    service = requests.post(
        local_stack.url(f"/v1/orgs/{me['org_id']}/services"),
        json={"name": "Paused", "url": "https://example.com/", "enabled": False},
        headers=me["auth"],
        timeout=10,
    ).json()
    page = make_page(local_stack, me, service["id"])
    title = f"Checkout degraded {uuid.uuid4().hex[:6]}"
    reply = requests.post(
        local_stack.url(f"/v1/orgs/{me['org_id']}/status-pages/{page['id']}/posts"),
        json={"title": title, "status": "investigating", "message": "We are looking into it."},
        headers=me["auth"],
        timeout=10,
    )
    assert reply.status_code == 201, reply.text

    def in_feed() -> bool:
        feed = published(local_stack, page["slug"], "feed.atom")
        return feed.status_code == 200 and title in feed.text

    wait_for(in_feed, seconds=20, what="the post in feed.atom")
    assert published(local_stack, page["slug"], "feed.atom").headers["Content-Type"] == "application/atom+xml"


@pytest.fixture(scope="module")
def stack_to_stop():
    """A stack of its own: this test stops its API."""
    yield from running_stack()


def test_the_page_is_served_with_the_api_stopped(stack_to_stop):
    stack = stack_to_stop
    me = stack.account()
    service = requests.post(
        stack.url(f"/v1/orgs/{me['org_id']}/services"),
        json={"name": "Paused", "url": "https://example.com/", "enabled": False},
        headers=me["auth"],
        timeout=10,
    ).json()
    page = make_page(stack, me, service["id"])
    wait_for(lambda: published(stack, page["slug"]).status_code == 200, seconds=30, what="the page")

    stack.process.send_signal(signal.SIGUSR1)  # the local stack stops its API, nothing else

    def api_down() -> bool:
        try:
            requests.get(stack.url("/health"), timeout=1)
        except requests.ConnectionError:
            return True
        return False

    wait_for(api_down, seconds=20, what="the API to stop")
    assert requests.get(f"{stack.web_url}/v1/status/{page['slug']}", timeout=10).status_code == 502
    html = published(stack, page["slug"])
    assert html.status_code == 200 and "E2E status" in html.text
    assert published(stack, page["slug"], "status.json").json()["slug"] == page["slug"]
    assert published(stack, "no-such-page").status_code == 404
