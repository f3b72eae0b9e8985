"""Alert ingest against `make run`'s stack, over HTTP, with the tools' own clients and payloads:
pdpyras and its successor `pagerduty`, an Alertmanager v4 pair, Grafana, CloudWatch through the
embedded SNS, Elastic, generic."""

import json
import ssl
import threading
import uuid
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pagerduty
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.certificates import self_signed_certificate
from tests.e2e.conftest import wait_for

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pdpyras announces its successor on import
    import pdpyras

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def me(local_stack):
    return local_stack.account()


def new_integration(local_stack, me, type):
    reply = requests.post(
        local_stack.url(f"/v1/orgs/{me['org_id']}/integrations"),
        json={"name": f"{type} e2e", "type": type},
        headers=me["auth"],
        timeout=10,
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


def incident(local_stack, me, incident_id):
    reply = requests.get(
        local_stack.url(f"/v1/orgs/{me['org_id']}/incidents/{incident_id}"), headers=me["auth"], timeout=10
    )
    return reply.json() if reply.status_code == 200 else None


def incidents_with_dedup_key(local_stack, me, dedup_key):
    items = requests.get(
        local_stack.url(f"/v1/orgs/{me['org_id']}/incidents"), headers=me["auth"], timeout=10
    ).json()["items"]
    return [i for i in items if i["dedup_key"] == dedup_key]


def wait_for_status(local_stack, me, incident_id, status):
    return wait_for(
        lambda: (found := incident(local_stack, me, incident_id)) and found["status"] == status and found,
        seconds=30,
        what=f"incident {incident_id} to be {status}",
    )


def post_alert(local_stack, integration, body):
    reply = requests.post(integration["ingest_url"], json=body, timeout=10)
    assert reply.status_code == 202, reply.text
    return reply.json()


@pytest.fixture(scope="module")
def https_front(local_stack, tmp_path_factory):
    """HTTPS in front of the local stack, as API Gateway is in front of a deployed one: PagerDuty's
    current client (`pagerduty`) refuses any base URL that is not https://."""
    key = ec.generate_private_key(ec.SECP256R1())
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(self_signed_certificate(key, "vigil.test", ip_address="127.0.0.1"))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )

    class Forward(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            reply = requests.post(
                local_stack.url(self.path),
                data=body,
                headers={"Content-Type": self.headers.get("Content-Type", "application/json")},
                timeout=30,
            )
            self.send_response(reply.status_code)
            self.send_header("Content-Type", reply.headers.get("Content-Type", "application/json"))
            self.send_header("Content-Length", str(len(reply.content)))
            self.end_headers()
            self.wfile.write(reply.content)

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    server.socket = server_side.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield (
        f"https://127.0.0.1:{server.server_address[1]}",
        ssl.create_default_context(cafile=folder / "cert.pem"),
    )
    server.shutdown()
    server.server_close()


@pytest.fixture(params=["pdpyras", "pagerduty"])
def events_client(request, local_stack):
    """PagerDuty's Python clients with only their URL changed, as a PagerDuty user would."""
    if request.param == "pdpyras":

        def pdpyras_session(routing_key):
            session = pdpyras.EventsAPISession(routing_key)
            session.url = local_stack.api_url
            return session

        return pdpyras_session
    base_url, trust = request.getfixturevalue("https_front")
    return lambda routing_key: pagerduty.EventsApiV2Client(routing_key, base_url=base_url, verify=trust)


def test_pagerduty_clients_trigger_acknowledge_and_resolve_one_incident(local_stack, me, events_client):
    integration = new_integration(local_stack, me, "pagerduty")
    session = events_client(integration["key"])
    dedup_key = session.trigger(
        "Example alert on host1.example.com",
        "host1.example.com",
        severity="warning",
        custom_details={"ping time": "1500ms", "load avg": 0.75},
    )
    [opened] = wait_for(
        lambda: incidents_with_dedup_key(local_stack, me, dedup_key),
        seconds=30,
        what="the triggered incident",
    )
    assert opened["severity"] == "medium" and opened["source"] == "alert"
    assert session.acknowledge(dedup_key) == dedup_key
    wait_for_status(local_stack, me, opened["id"], "acknowledged")
    assert session.resolve(dedup_key) == dedup_key
    wait_for_status(local_stack, me, opened["id"], "resolved")
    assert len(incidents_with_dedup_key(local_stack, me, dedup_key)) == 1


def alertmanager_notification(status, fingerprint, *, group_key):
    alert = {
        "status": status,
        "labels": {"alertname": "HighErrorRate", "instance": "api-1:9090", "job": "api", "severity": "page"},
        "annotations": {
            "summary": "Checkout service throws unhandled exceptions after the last deploy",
            "description": "TypeError exceptions in checkout-api rose to 5% of requests since v2.14.0",
        },
        "startsAt": "2026-11-23T04:00:00.000Z",
        "endsAt": "2026-11-23T04:10:00.000Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=rate",
        "fingerprint": fingerprint,
    }
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "vigil",
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": alert["labels"],
        "commonAnnotations": alert["annotations"],
        "externalURL": "http://alertmanager:9093",
        "alerts": [alert],
    }


def test_alertmanager_firing_then_resolved_and_a_repeat_opens_nothing_new(local_stack, me):
    integration = new_integration(local_stack, me, "alertmanager")
    fingerprint = uuid.uuid4().hex[:16]
    group_key = '{}:{alertname="HighErrorRate"}'
    firing = post_alert(
        local_stack, integration, alertmanager_notification("firing", fingerprint, group_key=group_key)
    )
    assert firing["dedup_keys"] == [fingerprint]
    [opened] = wait_for(
        lambda: incidents_with_dedup_key(local_stack, me, fingerprint), seconds=30, what="the firing incident"
    )
    incident_id = opened["id"]
    assert opened["severity"] == "critical"  # severity="page"
    assert opened["category"] == "software"
    post_alert(
        local_stack, integration, alertmanager_notification("firing", fingerprint, group_key=group_key)
    )
    wait_for(
        lambda: incident(local_stack, me, incident_id)["alert_count"] == 2,
        seconds=30,
        what="the repeat to group",
    )
    post_alert(
        local_stack, integration, alertmanager_notification("resolved", fingerprint, group_key=group_key)
    )
    wait_for_status(local_stack, me, incident_id, "resolved")
    assert len(incidents_with_dedup_key(local_stack, me, fingerprint)) == 1


def test_grafana_elastic_and_generic_payloads_open_categorized_incidents(local_stack, me):
    grafana = {
        "receiver": "vigil",
        "status": "firing",
        "orgId": 1,
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "DiskFull", "grafana_folder": "infra", "instance": "db-2"},
                "annotations": {"summary": "Disk /var/lib/postgresql on db-2 is 97% full"},
                "startsAt": "2026-11-23T04:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://grafana:3000/alerting/grafana/abc/view",
                "fingerprint": uuid.uuid4().hex[:16],
                "silenceURL": "http://grafana:3000/alerting/silence/new",
                "dashboardURL": "",
                "panelURL": "",
                "values": {"B": 97.2},
                "valueString": "[ var='B' labels={instance=db-2} value=97.2 ]",
            }
        ],
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {"alertname": "DiskFull"},
        "commonAnnotations": {},
        "externalURL": "http://grafana:3000/",
        "version": "1",
        "groupKey": '{}:{alertname="DiskFull"}',
        "truncatedAlerts": 0,
        "title": "[FIRING:1] DiskFull infra",
        "state": "alerting",
        "message": "**Firing**\nDisk /var/lib/postgresql on db-2 is 97% full",
    }
    elastic = {
        "rule": {
            "id": str(uuid.uuid4()),
            "name": "Packet loss to eu-west gateway",
            "tags": "network",
            "url": "",
        },
        "alert": {
            "id": "gateway-eu-west-1",
            "actionGroup": "threshold met",
            "actionGroupName": "Threshold met",
            "flapping": False,
        },
        "context": {
            "reason": "Packet loss to the eu-west VPN gateway is 35%, pings time out",
            "alertDetailsUrl": "https://kibana.example.com/app/observability/alerts/abc",
        },
        "date": "2026-11-23T04:00:00.000Z",
        "kibanaBaseUrl": "https://kibana.example.com",
    }
    generic = {"title": "Users cannot log in: password reset emails never arrive", "severity": "high"}
    expected = [
        ("grafana", grafana, "server"),
        ("elastic", elastic, "network"),
        ("generic", generic, "login"),
    ]
    for type, body, category in expected:
        [dedup_key] = post_alert(local_stack, new_integration(local_stack, me, type), body)["dedup_keys"]
        [opened] = wait_for(
            lambda dedup_key=dedup_key: incidents_with_dedup_key(local_stack, me, dedup_key),
            seconds=30,
            what=f"the {type} incident",
        )
        assert (opened["source"], opened["category"]) == ("alert", category), (type, opened)


def test_a_cloudwatch_alarm_through_the_embedded_sns_opens_and_closes_an_incident(local_stack, me):
    integration = new_integration(local_stack, me, "cloudwatch")
    sns = boto3.client(
        "sns",
        region_name="us-east-1",
        endpoint_url=local_stack.aws_url,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    topic = sns.create_topic(Name=f"alarms-{uuid.uuid4().hex[:8]}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=integration["ingest_url"])
    name = f"checkout-latency-{uuid.uuid4().hex[:6]}"
    alarm_arn = f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"

    def alarm(state):
        return json.dumps(
            {
                "AlarmName": name,
                "AlarmDescription": "p99 latency of checkout above 2 s",
                "AWSAccountId": "123456789012",
                "NewStateValue": state,
                "NewStateReason": "Threshold Crossed: 3 datapoints were greater than the threshold (2000.0).",
                "StateChangeTime": "2026-11-23T04:00:00.000+0000",
                "Region": "US East (N. Virginia)",
                "AlarmArn": alarm_arn,
                "OldStateValue": "OK" if state == "ALARM" else "ALARM",
                "Trigger": {"MetricName": "Latency", "Namespace": "AWS/ApplicationELB", "Threshold": 2000.0},
            }
        )

    sns.publish(TopicArn=topic, Message=alarm("ALARM"), Subject=f'ALARM: "{name}"')
    [opened] = wait_for(
        lambda: incidents_with_dedup_key(local_stack, me, alarm_arn), seconds=30, what="the alarm's incident"
    )
    assert opened["status"] == "open"
    sns.publish(TopicArn=topic, Message=alarm("OK"), Subject=f'OK: "{name}"')
    wait_for_status(local_stack, me, opened["id"], "resolved")


def test_a_revoked_key_stops_working(local_stack, me):
    integration = new_integration(local_stack, me, "generic")
    post_alert(local_stack, integration, {"title": "Backups failed"})
    deleted = requests.delete(
        local_stack.url(f"/v1/orgs/{me['org_id']}/integrations/{integration['id']}"),
        headers=me["auth"],
        timeout=10,
    )
    assert deleted.status_code == 204
    assert (
        requests.post(integration["ingest_url"], json={"title": "Backups failed"}, timeout=10).status_code
        == 404
    )
