"""HTTP monitor options in the dashboard: an assertion added in the service form fails with its
reason when the health endpoint degrades, and the service page shows the certificate's expiry."""

import datetime
import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import Person, check_accessibility, log_in, screenshot
from tests.https_server import HttpsServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def https():
    server = HttpsServer(valid_for=datetime.timedelta(days=3, hours=1))
    yield server
    server.close()


def test_assertions_in_the_form_and_the_certificate_on_the_service_page(stack, new_page, https):
    owner = Person(stack, name="Tess")
    org_id = requests.post(
        stack.url("/v1/orgs"), json={"name": "TLS"}, headers=owner.auth, timeout=10
    ).json()["id"]
    page = new_page()
    log_in(page, owner, then=f"/orgs/{org_id}/services/new")
    page.get_by_label("Name", exact=True).fill("Orders health")
    page.get_by_label("URL").fill(https.url)
    page.get_by_label("Check interval (seconds)").fill("2")
    page.get_by_label("Timeout (seconds)").fill("1")
    page.get_by_label("Verify the certificate").uncheck()
    page.get_by_label("Warn before the certificate expires").fill("14, 7")
    page.get_by_role("button", name="Add assertion").click()
    page.get_by_label("Source").select_option("json")
    page.get_by_label("JMESPath").fill("status")
    page.get_by_label("Operator").select_option("==")
    page.get_by_label("Value", exact=True).fill("UP")
    check_accessibility(page)
    screenshot(page, "service-form-assertions")
    page.get_by_role("button", name="Create service").click()
    page.wait_for_url(re.compile(r"/services/[^/]+$"))

    certificate = page.get_by_role("region", name="TLS certificate")
    expect(certificate.get_by_text("3 days left")).to_be_visible(timeout=20_000)
    expect(certificate.get_by_text("CN=vigil-tls.test").first).to_be_visible()
    expect(certificate.get_by_text("14, 7 days before expiry")).to_be_visible()
    expect(page.get_by_role("region", name="Assertions").get_by_text('json status == "UP"')).to_be_visible()
    page.reload()  # the certificate's incident, listed on the service page
    expect(
        page.get_by_role("region", name="Incidents").get_by_text(
            "TLS certificate for 127.0.0.1 expires in 3 days"
        )
    ).to_be_visible(timeout=20_000)
    check_accessibility(page)
    screenshot(page, "service-tls")

    https.body = b'{"status": "DEGRADED"}'
    checks = page.get_by_role("region", name="Recent checks")
    expect(checks.get_by_text('json status == "UP": got "DEGRADED"').first).to_be_visible(timeout=30_000)

    page.get_by_role("link", name="Edit service").click()
    expect(page.get_by_label("JMESPath")).to_have_value("status")
    expect(page.get_by_label("Value", exact=True)).to_have_value("UP")
    expect(page.get_by_label("Verify the certificate")).not_to_be_checked()
    expect(page.get_by_label("Warn before the certificate expires")).to_have_value("14, 7")
