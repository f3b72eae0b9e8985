"""HTTP monitor options against moto and real local HTTPS servers: verify_tls, certificate expiry
(one incident per certificate that climbs through the thresholds and resolves on renewal, the
certificate read at most once a day) and response assertions."""

import datetime
import json
import socket
import time

import pytest
import requests.adapters

from chalicelib.adapters import probe_queue as probe_queue_adapter
from chalicelib.adapters import prober, safe_connections
from chalicelib.adapters.probe_queue import ProbeJob, ProbeMessage
from chalicelib.adapters.prober import ProbeRequest, probe
from chalicelib.models.incidents import Incident
from chalicelib.models.services import Service
from tests.https_server import HttpsServer

DAY = 86_400


@pytest.fixture(autouse=True)
def empty_queue(probe_queue):
    probe_queue.purge()


@pytest.fixture
def https():
    server = HttpsServer()
    yield server
    server.close()


def create(api, org_id, owner, url, **fields):
    body = {"name": "Payments", "url": url, "interval_seconds": 60, "failure_threshold": 1, **fields}
    reply = api.post(f"/v1/orgs/{org_id}/services", body, token=owner.access_token)
    assert reply.status == 201, reply.body
    return reply.body


def check(org_id, service_id, at):
    probe_queue_adapter.send([ProbeMessage(jobs=(ProbeJob(org_id, service_id, at),), delay_seconds=0)])


def next_second():
    """A new scheduled second that is not in the future (the checks list ends at now)."""
    time.sleep(1.05 - time.time() % 1)
    return int(time.time())


def last_check(api, org_id, owner, service_id):
    return api.get(f"/v1/orgs/{org_id}/services/{service_id}/checks", token=owner.access_token).body["items"][
        0
    ]


def tls_incidents(org_id, service_id):
    return [
        i
        for i in Incident.query(org_id, filter_condition=Incident.service_id == service_id)
        if (i.dedup_key or "").startswith("tls:")
    ]


def a_day_passes(org_id, service_id):
    """The last reading moves back a day: the next check reads the certificate again."""
    service = Service.get(org_id, service_id, consistent_read=True)
    service.update(actions=[Service.tls_read_at.set(int(service.tls_read_at) - DAY - 60)])


# ---- the API ------------------------------------------------------------------------------------


def test_the_options_have_documented_defaults_and_round_trip(api, monitored_org, target):
    org_id, owner = monitored_org
    service = create(api, org_id, owner, target.url)
    assert (service["verify_tls"], service["tls_expiry_days"], service["assertions"], service["tls"]) == (
        True,
        [14, 7, 1],
        [],
        None,
    )
    assertions = [
        {"source": "json", "path": "status", "op": "==", "value": "UP"},
        {"source": "header", "name": "X-Version", "op": "exists"},
        {"source": "response_time_ms", "op": "<", "value": 500},
    ]
    changed = api.patch(
        f"/v1/orgs/{org_id}/services/{service['id']}",
        {"verify_tls": False, "tls_expiry_days": [3, 30], "assertions": assertions},
        token=owner.access_token,
    )
    assert changed.status == 200, changed.body
    assert changed.body["verify_tls"] is False
    assert changed.body["tls_expiry_days"] == [30, 3]  # largest first
    assert [(a["source"], a["op"], a["value"]) for a in changed.body["assertions"]] == [
        ("json", "==", "UP"),
        ("header", "exists", True),
        ("response_time_ms", "<", 500),
    ]
    off = api.patch(
        f"/v1/orgs/{org_id}/services/{service['id']}", {"tls_expiry_days": []}, token=owner.access_token
    )
    assert off.body["tls_expiry_days"] == []
    again = api.get(f"/v1/orgs/{org_id}/services/{service['id']}", token=owner.access_token).body
    assert again["tls_expiry_days"] == [] and again["assertions"] == changed.body["assertions"]


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"assertions": [{"source": "json", "path": "status", "op": "=="}]}, "assertions.0.value"),
        ({"assertions": [{"source": "json", "path": "a[", "op": "exists"}]}, "assertions.0.path"),
        ({"assertions": [{"source": "xml", "op": "exists"}]}, "assertions.0.source"),
        (
            {
                "assertions": [
                    {"source": "response_time_ms", "op": "<", "value": 500},
                    {"source": "response_time_ms", "op": "contains", "value": 5},
                ]
            },
            "assertions.1.op",
        ),
        ({"assertions": [{"source": "header", "name": "X", "op": "==", "value": 2}]}, "assertions.0.value"),
        ({"assertions": [{"source": "response_time_ms", "op": ">", "value": 1}] * 11}, "assertions"),
        ({"tls_expiry_days": [0]}, "tls_expiry_days"),
        ({"tls_expiry_days": [7, 7]}, "tls_expiry_days"),
        ({"verify_tls": "no"}, "verify_tls"),
    ],
)
def test_bad_options_are_a_400_naming_the_field(api, monitored_org, target, fields, named):
    org_id, owner = monitored_org
    reply = api.post(
        f"/v1/orgs/{org_id}/services",
        {"name": "x", "url": target.url, **fields},
        token=owner.access_token,
    )
    assert reply.status == 400, reply.body
    assert named in json.dumps(reply.body)


# ---- verify_tls ---------------------------------------------------------------------------------


def test_verify_tls_false_passes_a_self_signed_certificate_and_true_fails_saying_why(
    api, monitored_org, https, probe_queue
):
    org_id, owner = monitored_org
    lenient = create(api, org_id, owner, https.url, verify_tls=False)
    strict = create(api, org_id, owner, https.url)
    probe_queue.run_checker()
    assert last_check(api, org_id, owner, lenient["id"])["status"] == "up"
    failed = last_check(api, org_id, owner, strict["id"])
    assert failed["status"] == "down"
    assert failed["error"] == "tls: certificate verify failed (self-signed certificate)"


def test_an_expired_certificate_fails_the_check_saying_so(
    api, monitored_org, https, probe_queue, monkeypatch
):
    org_id, owner = monitored_org
    https.renew(datetime.timedelta(hours=-1))
    monkeypatch.setattr(requests.adapters, "DEFAULT_CA_BUNDLE_PATH", str(https.cert_file))  # trusted
    expired = create(api, org_id, owner, https.url)
    lenient = create(api, org_id, owner, https.url, verify_tls=False)
    probe_queue.run_checker()
    failed = last_check(api, org_id, owner, expired["id"])
    assert (failed["status"], failed["error"]) == (
        "down",
        "tls: certificate verify failed (certificate has expired)",
    )
    assert last_check(api, org_id, owner, lenient["id"])["status"] == "up"
    [incident] = tls_incidents(org_id, lenient["id"])  # read all the same: past the last threshold
    assert incident.severity == "high"
    assert incident.title == "TLS certificate for 127.0.0.1 expired 1 day ago"


# ---- certificate expiry -------------------------------------------------------------------------


def test_an_expiring_certificate_opens_one_incident_that_climbs_and_resolves_on_renewal(
    api, monitored_org, https, probe_queue
):
    org_id, owner = monitored_org
    https.renew(datetime.timedelta(days=3, hours=1))
    service = create(api, org_id, owner, https.url, verify_tls=False)
    probe_queue.run_checker()

    shown = api.get(f"/v1/orgs/{org_id}/services/{service['id']}", token=owner.access_token).body
    assert shown["status"] == "up"
    assert shown["tls"]["days_remaining"] == 3
    assert shown["tls"]["subject"] == "CN=vigil-tls.test" and shown["tls"]["issuer"] == "CN=vigil-tls.test"
    [incident] = tls_incidents(org_id, service["id"])
    assert (incident.status, incident.source, incident.severity) == ("open", "monitor", "medium")
    assert incident.title == "TLS certificate for 127.0.0.1 expires in 3 days"

    base = int(time.time())
    for second in (1, 2, 3):  # more checks the same day: no new reading, no new incident
        check(org_id, service["id"], base + second)
    probe_queue.run_checker()
    assert [i.incident_id for i in tls_incidents(org_id, service["id"])] == [incident.incident_id]

    https.renew(datetime.timedelta(hours=12))  # a day later, below the last threshold
    a_day_passes(org_id, service["id"])
    check(org_id, service["id"], base + 10)
    probe_queue.run_checker()
    [raised] = tls_incidents(org_id, service["id"])
    assert (raised.incident_id, raised.severity, raised.status) == (incident.incident_id, "high", "open")
    assert raised.title == "TLS certificate for 127.0.0.1 expires within a day"
    timeline = api.get(
        f"/v1/orgs/{org_id}/incidents/{incident.incident_id}/timeline", token=owner.access_token
    ).body["items"]
    [entry] = [e for e in timeline if e["type"] == "severity_changed"]
    assert (entry["data"]["from"], entry["data"]["to"]) == ("medium", "high")

    https.renew(datetime.timedelta(days=90))
    a_day_passes(org_id, service["id"])
    check(org_id, service["id"], base + 20)
    probe_queue.run_checker()
    [resolved] = tls_incidents(org_id, service["id"])
    assert resolved.status == "resolved"
    assert Service.get(org_id, service["id"]).tls_incident_id is None
    shown = api.get(f"/v1/orgs/{org_id}/services/{service['id']}", token=owner.access_token).body
    assert shown["tls"]["days_remaining"] in (89, 90)


def test_the_certificate_is_read_at_most_once_a_day(api, monitored_org, https, probe_queue):
    org_id, owner = monitored_org
    service = create(api, org_id, owner, https.url, verify_tls=False)
    probe_queue.run_checker()
    assert https.connections == 2  # the check, and the certificate's own handshake
    first_read = Service.get(org_id, service["id"]).tls_read_at
    base = int(time.time())
    for second in (1, 2, 3):
        check(org_id, service["id"], base + second)
    probe_queue.run_checker()
    assert https.connections == 5  # three checks, no more readings
    assert Service.get(org_id, service["id"]).tls_read_at == first_read
    assert tls_incidents(org_id, service["id"]) == []  # 90 days left: nothing to warn about

    moved = api.patch(
        f"/v1/orgs/{org_id}/services/{service['id']}", {"url": https.url + "?v=2"}, token=owner.access_token
    )
    assert moved.body["tls"] is None  # a new URL: its certificate is read at the next check
    check(org_id, service["id"], base + 4)
    probe_queue.run_checker()
    assert https.connections == 7
    assert Service.get(org_id, service["id"]).tls_read_at == base + 4


def test_plain_http_services_have_no_certificate(api, monitored_org, target, probe_queue):
    org_id, owner = monitored_org
    service = create(api, org_id, owner, target.url)
    probe_queue.run_checker()
    assert (
        api.get(f"/v1/orgs/{org_id}/services/{service['id']}", token=owner.access_token).body["tls"] is None
    )


# ---- assertions ---------------------------------------------------------------------------------


def test_a_degraded_health_endpoint_fails_its_json_assertion_with_the_reason(
    api, monitored_org, https, probe_queue
):
    org_id, owner = monitored_org
    service = create(
        api,
        org_id,
        owner,
        https.url,
        verify_tls=False,
        assertions=[{"source": "json", "path": "status", "op": "==", "value": "UP"}],
    )
    probe_queue.run_checker()
    assert last_check(api, org_id, owner, service["id"])["status"] == "up"

    https.body = b'{"status": "DEGRADED"}'
    check(org_id, service["id"], next_second())
    probe_queue.run_checker()
    failed = last_check(api, org_id, owner, service["id"])
    assert (failed["status"], failed["error"]) == ("down", 'json status == "UP": got "DEGRADED"')
    [incident] = [i for i in Incident.query(org_id, filter_condition=Incident.service_id == service["id"])]
    assert 'json status == "UP": got "DEGRADED"' in incident.description

    https.body = b"<html>oops</html>"
    check(org_id, service["id"], next_second())
    probe_queue.run_checker()
    assert last_check(api, org_id, owner, service["id"])["error"] == 'json status == "UP": body is not JSON'


def test_header_and_response_time_assertions(api, monitored_org, target, probe_queue):
    org_id, owner = monitored_org
    wants_header = create(
        api, org_id, owner, target.url, assertions=[{"source": "header", "name": "X-Version", "op": "exists"}]
    )
    fast_enough = create(
        api, org_id, owner, target.url, assertions=[{"source": "response_time_ms", "op": "<", "value": 5000}]
    )
    too_slow = create(
        api, org_id, owner, target.url, assertions=[{"source": "response_time_ms", "op": "<", "value": 100}]
    )
    target.delay = 0.3
    probe_queue.run_checker()
    assert last_check(api, org_id, owner, wants_header["id"])["error"] == "header X-Version exists: missing"
    assert last_check(api, org_id, owner, fast_enough["id"])["status"] == "up"
    slow = last_check(api, org_id, owner, too_slow["id"])
    assert slow["status"] == "down"
    assert slow["error"].startswith("response_time_ms < 100: got ")
    assert int(slow["error"].rsplit(" ", 1)[1]) >= 300


# ---- the certificate read keeps the prober's address rules --------------------------------------


def test_the_certificate_read_refuses_internal_addresses_as_checks_do(https, monkeypatch):
    real = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):  # a public-looking name that resolves to loopback
        return real("127.0.0.1" if host == "status.example.com" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    url = f"https://status.example.com:{https.port}/health"
    with pytest.raises(safe_connections.BlockedAddress):
        safe_connections.read_certificate(url, allow_private=False, timeout_seconds=2)
    assert https.connections == 0  # no packet reached the server
    result = probe(ProbeRequest(url=url, verify_tls=False, read_certificate=True, allow_private=False))
    assert (result.up, result.error, result.certificate) == (False, "blocked address 127.0.0.1", None)
    allowed = probe(ProbeRequest(url=https.url, verify_tls=False, read_certificate=True, allow_private=True))
    assert allowed.up and allowed.certificate is not None
    assert allowed.certificate.subject == "CN=vigil-tls.test"


def test_resolving_the_certificates_incident_by_hand_silences_it_until_the_next_threshold(
    api, monitored_org, https, probe_queue
):
    org_id, owner = monitored_org
    https.renew(datetime.timedelta(days=3, hours=1))
    service = create(api, org_id, owner, https.url, verify_tls=False)
    probe_queue.run_checker()
    [incident] = tls_incidents(org_id, service["id"])
    resolved = api.post(
        f"/v1/orgs/{org_id}/incidents/{incident.incident_id}/resolve", {}, token=owner.access_token
    )
    assert resolved.status == 200, resolved.body

    base = int(time.time())
    a_day_passes(org_id, service["id"])  # read again, still at the same threshold: no new incident
    check(org_id, service["id"], base + 1)
    probe_queue.run_checker()
    assert [i.incident_id for i in tls_incidents(org_id, service["id"])] == [incident.incident_id]

    https.renew(datetime.timedelta(hours=12))  # the next threshold is news: a new incident
    a_day_passes(org_id, service["id"])
    check(org_id, service["id"], base + 2)
    probe_queue.run_checker()
    opened = [i for i in tls_incidents(org_id, service["id"]) if i.status == "open"]
    assert [(i.severity, i.incident_id != incident.incident_id) for i in opened] == [("high", True)]


def test_a_slow_certificate_read_does_not_turn_a_good_check_into_a_timeout(https, monkeypatch):
    def hanging_read(url, *, allow_private, timeout_seconds):
        time.sleep(timeout_seconds + 1)  # a handshake that never finishes in time
        raise TimeoutError

    monkeypatch.setattr(prober, "read_certificate", hanging_read)
    started = time.monotonic()
    result = probe(
        ProbeRequest(
            url=https.url, verify_tls=False, read_certificate=True, timeout_seconds=1.0, allow_private=True
        )
    )
    assert (result.up, result.error, result.certificate) == (True, None, None)
    assert time.monotonic() - started < 1.5  # nobody waits for the read past the check's deadline
