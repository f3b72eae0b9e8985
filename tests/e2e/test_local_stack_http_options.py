"""HTTP monitor options against `make run`'s stack, over HTTP only: an HTTPS server whose certificate
expires in 3 days (generated here) opens one TLS incident, and a JSON health endpoint that turns
DEGRADED fails its assertion with the reason."""

import datetime
import time

import pytest
import requests

from tests.e2e.conftest import wait_for
from tests.https_server import HttpsServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def https():
    server = HttpsServer(valid_for=datetime.timedelta(days=3, hours=1))
    yield server
    server.close()


def test_a_certificate_expiring_in_3_days_opens_one_tls_incident(local_stack, https):
    me = local_stack.account()
    base = local_stack.url(f"/v1/orgs/{me['org_id']}")
    created = requests.post(
        f"{base}/services",
        json={
            "name": "Expiring",
            "url": https.url,
            "interval_seconds": 2,
            "timeout_seconds": 1,
            "verify_tls": False,
        },
        headers=me["auth"],
        timeout=10,
    )
    assert created.status_code == 201, created.text
    path = f"{base}/services/{created.json()['id']}"

    def service():
        return requests.get(path, headers=me["auth"], timeout=10).json()

    shown = wait_for(lambda: service()["tls"], seconds=60, what="the certificate to be read")
    assert shown["days_remaining"] == 3 and shown["subject"] == "CN=vigil-tls.test"

    def incidents():
        return requests.get(
            f"{base}/incidents?service_id={created.json()['id']}", headers=me["auth"], timeout=10
        ).json()["items"]

    wait_for(lambda: incidents(), seconds=30, what="the TLS incident")
    time.sleep(5)  # more checks run meanwhile: the certificate is not read again, no second incident
    [incident] = incidents()
    assert (incident["status"], incident["source"], incident["severity"]) == ("open", "monitor", "medium")
    assert incident["title"] == "TLS certificate for 127.0.0.1 expires in 3 days"
    assert service()["status"] == "up"  # the check itself passes: verify_tls is false


def test_a_degraded_json_health_endpoint_fails_its_assertion(local_stack, https):
    me = local_stack.account()
    base = local_stack.url(f"/v1/orgs/{me['org_id']}")
    created = requests.post(
        f"{base}/services",
        json={
            "name": "Health",
            "url": https.url,
            "interval_seconds": 2,
            "timeout_seconds": 1,
            "verify_tls": False,
            "tls_expiry_days": [],
            "assertions": [{"source": "json", "path": "status", "op": "==", "value": "UP"}],
        },
        headers=me["auth"],
        timeout=10,
    )
    assert created.status_code == 201, created.text
    path = f"{base}/services/{created.json()['id']}"

    def status():
        return requests.get(path, headers=me["auth"], timeout=10).json()["status"]

    wait_for(lambda: status() == "up", seconds=60, what="the service to come up")
    https.body = b'{"status": "DEGRADED"}'
    wait_for(lambda: status() == "down", seconds=60, what="the service to go down")
    checks = requests.get(f"{path}/checks?hours=1", headers=me["auth"], timeout=10).json()["items"]
    assert checks[0]["error"] == 'json status == "UP": got "DEGRADED"'
    incidents = requests.get(
        f"{base}/incidents?service_id={created.json()['id']}", headers=me["auth"], timeout=10
    ).json()["items"]
    assert [i["title"] for i in incidents] == ["Health is down"]  # no TLS incident: warnings are off
