"""Prometheus Alertmanager webhook v4 (chalicelib/domain/alerts/alertmanager.py)."""

import copy
import hashlib
import json

import pytest

from chalicelib.domain.alerts import Alert, AlertAction, Link
from chalicelib.domain.alerts.alertmanager import labels_key, parse_webhook
from chalicelib.domain.errors import InvalidInput

DB1_LABELS = {
    "alertname": "InstanceDown",
    "instance": "db1.example.com:9100",
    "job": "node",
    "severity": "page",
}
DB2_LABELS = {
    "alertname": "InstanceDown",
    "instance": "db2.example.com:9100",
    "job": "node",
    "severity": "page",
}

# Shaped like notify/webhook's Message: template.Data plus version, groupKey and truncatedAlerts.
FIRING = {
    "version": "4",
    "groupKey": '{}/{severity="page"}:{alertname="InstanceDown"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "vigil",
    "groupLabels": {"alertname": "InstanceDown"},
    "commonLabels": {"alertname": "InstanceDown", "job": "node", "severity": "page"},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager.example.com:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": DB1_LABELS,
            "annotations": {
                "summary": "Instance db1.example.com:9100 down",
                "description": "db1.example.com:9100 of job node has been down for more than 5 minutes.",
                "runbook_url": "https://runbooks.example.com/InstanceDown",
            },
            "startsAt": "2026-11-23T03:55:00.000Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1",
            "fingerprint": "8f7e2c1d9a4b6e53",
        },
        {
            "status": "firing",
            "labels": DB2_LABELS,
            "annotations": {},
            "startsAt": "2026-11-23T03:56:30.000Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1",
            "fingerprint": "0c4d5e6f7a8b9c0d",
        },
    ],
}


def resolved(body, index=0, ends_at="2026-11-23T04:10:00.000Z"):
    """The notification Alertmanager sends when alert ``index`` of ``body`` stops firing."""
    body = copy.deepcopy(body)
    body["alerts"][index]["status"] = "resolved"
    body["alerts"][index]["endsAt"] = ends_at
    return body


def firing_one(**changes):
    body = copy.deepcopy(FIRING)
    body["alerts"] = [{**body["alerts"][0], **changes}]
    return body


def test_each_alert_of_the_group_becomes_one_alert():
    alerts = parse_webhook(FIRING)
    assert [alert.dedup_key for alert in alerts] == ["8f7e2c1d9a4b6e53", "0c4d5e6f7a8b9c0d"]
    assert {alert.action for alert in alerts} == {AlertAction.TRIGGER}


def test_firing_alert_reads_its_labels_and_annotations():
    assert parse_webhook(FIRING)[0] == Alert(
        action=AlertAction.TRIGGER,
        dedup_key="8f7e2c1d9a4b6e53",
        title="Instance db1.example.com:9100 down",
        description="db1.example.com:9100 of job node has been down for more than 5 minutes.",
        severity="critical",
        source="db1.example.com:9100",
        details={
            "labels": DB1_LABELS,
            "annotations": FIRING["alerts"][0]["annotations"],
            "startsAt": "2026-11-23T03:55:00.000Z",
            "groupKey": '{}/{severity="page"}:{alertname="InstanceDown"}',
            "receiver": "vigil",
        },
        links=(
            Link("http://prometheus.example.com:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1", "Source"),
            Link("http://alertmanager.example.com:9093", "Alertmanager"),
            Link("https://runbooks.example.com/InstanceDown", "Runbook"),
        ),
        occurred_at="2026-11-23T03:55:00.000Z",
    )


def test_resolved_alert_resolves_what_its_firing_twin_opened():
    opened = parse_webhook(FIRING)[0]
    closed = parse_webhook(resolved(FIRING))[0]
    assert closed.action is AlertAction.RESOLVE
    assert closed.dedup_key == opened.dedup_key
    assert closed.occurred_at == "2026-11-23T04:10:00.000Z"


def test_a_group_can_resolve_one_alert_and_keep_the_other_firing():
    alerts = parse_webhook(resolved(FIRING, index=1))
    assert [(alert.dedup_key, alert.action) for alert in alerts] == [
        ("8f7e2c1d9a4b6e53", AlertAction.TRIGGER),
        ("0c4d5e6f7a8b9c0d", AlertAction.RESOLVE),
    ]


def test_repeat_notification_gives_the_same_dedup_keys():
    first = parse_webhook(FIRING)
    repeat = copy.deepcopy(FIRING)  # group_interval later: same alerts, maybe in another order
    repeat["alerts"].reverse()
    assert sorted(alert.dedup_key for alert in parse_webhook(repeat)) == sorted(a.dedup_key for a in first)


def test_alert_without_fingerprint_is_keyed_on_its_labels():
    body = copy.deepcopy(FIRING)
    for item in body["alerts"]:
        del item["fingerprint"]
    reordered = copy.deepcopy(body)
    reordered["alerts"][0]["labels"] = dict(reversed(list(DB1_LABELS.items())))

    first, second = parse_webhook(body)
    assert first.dedup_key == parse_webhook(reordered)[0].dedup_key
    assert first.dedup_key != second.dedup_key
    canonical = json.dumps(DB1_LABELS, sort_keys=True, separators=(",", ":"))
    assert first.dedup_key == "labels:" + hashlib.sha256(canonical.encode()).hexdigest()[:32]
    assert parse_webhook(resolved(body))[0].dedup_key == first.dedup_key


def test_labels_key_is_stable_whatever_the_label_order():
    assert labels_key({"b": "2", "a": "1"}) == labels_key({"a": "1", "b": "2"})
    assert labels_key({"a": "1"}) != labels_key({"a": "2"})


def test_title_without_summary_is_alertname_on_instance():
    assert parse_webhook(FIRING)[1].title == "InstanceDown on db2.example.com:9100"


def test_title_annotation_serves_when_there_is_no_summary():
    assert parse_webhook(firing_one(annotations={"title": "Disk almost full"}))[0].title == "Disk almost full"


def test_title_without_instance_is_alertname_and_without_labels_is_generic():
    body = firing_one(labels={"alertname": "Watchdog"}, annotations={})
    assert parse_webhook(body)[0].title == "Watchdog"
    body = firing_one(labels={}, annotations={})
    assert parse_webhook(body)[0].title == "Alertmanager alert"


def test_description_falls_back_to_the_message_annotation():
    body = firing_one(annotations={"message": "Disk /var is 97% full."})
    assert parse_webhook(body)[0].description == "Disk /var is 97% full."


@pytest.mark.parametrize(
    ("severity", "ours"),
    [
        ("critical", "critical"),
        ("page", "critical"),
        ("warning", "medium"),
        ("info", "low"),
        ("high", "high"),
    ],
)
def test_severity_label_is_read(severity, ours):
    assert parse_webhook(firing_one(labels={**DB1_LABELS, "severity": severity}))[0].severity == ours


@pytest.mark.parametrize("labels", [{"alertname": "Watchdog"}, {"alertname": "X", "severity": "whatever"}])
def test_without_a_known_severity_the_integration_decides(labels):
    assert parse_webhook(firing_one(labels=labels))[0].severity is None


def test_source_is_the_instance_or_else_the_job():
    assert parse_webhook(firing_one(labels={"alertname": "X", "job": "api"}))[0].source == "api"
    assert parse_webhook(firing_one(labels={"alertname": "X"}))[0].source is None


def test_links_that_are_not_web_addresses_are_left_out():
    body = firing_one(generatorURL="", annotations={"runbook_url": "javascript:alert(1)"})
    body["externalURL"] = "not a url"
    assert parse_webhook(body)[0].links == ()


def test_a_firing_alert_has_no_end_time_in_its_details():
    details = parse_webhook(FIRING)[0].details
    assert "endsAt" not in details
    assert parse_webhook(resolved(FIRING))[0].details["endsAt"] == "2026-11-23T04:10:00.000Z"


def test_resolved_without_end_time_occurred_when_it_started():
    assert parse_webhook(resolved(FIRING, ends_at="0001-01-01T00:00:00Z"))[0].occurred_at == (
        "2026-11-23T03:55:00.000Z"
    )


def test_empty_alerts_list_gives_nothing():
    assert parse_webhook({**FIRING, "alerts": []}) == []


@pytest.mark.parametrize("version", ["3", "5", None])
def test_other_versions_are_read_when_the_shape_fits(version):
    assert len(parse_webhook({**FIRING, "version": version})) == 2


def test_a_very_long_fingerprint_is_bounded():
    key = parse_webhook(firing_one(fingerprint="f" * 400))[0].dedup_key
    assert key is not None
    assert len(key) == 255
    assert key == parse_webhook(firing_one(fingerprint="f" * 400))[0].dedup_key
    assert key != parse_webhook(firing_one(fingerprint="f" * 401))[0].dedup_key


@pytest.mark.parametrize(
    ("mutate", "field", "message"),
    [
        (lambda body: body.pop("alerts"), "alerts", "is required"),
        (lambda body: body.update(alerts={"0": {}}), "alerts", "must be a list"),
        (lambda body: body["alerts"].append("firing"), "alerts[2]", "must be an object"),
        (
            lambda body: body["alerts"][1].update(status="pending"),
            "alerts[1].status",
            "must be one of firing, resolved",
        ),
        (
            lambda body: body["alerts"][1].update(status=["firing"]),
            "alerts[1].status",
            "must be one of firing, resolved",
        ),
        (lambda body: body["alerts"][0].pop("status"), "alerts[0].status", "is required"),
        (lambda body: body["alerts"][0].pop("labels"), "alerts[0].labels", "is required"),
        (lambda body: body["alerts"][0].update(labels=["a=b"]), "alerts[0].labels", "must be an object"),
        (
            lambda body: body["alerts"][0].update(annotations="x"),
            "alerts[0].annotations",
            "must be an object",
        ),
    ],
)
def test_malformed_webhook_is_reported_by_field(mutate, field, message):
    body = copy.deepcopy(FIRING)
    mutate(body)
    with pytest.raises(InvalidInput) as caught:
        parse_webhook(body)
    assert caught.value.field == field
    assert str(caught.value) == f"{field}: {message}"


@pytest.mark.parametrize("body", [[FIRING], "firing", None])
def test_a_body_that_is_not_an_object_is_refused(body):
    with pytest.raises(InvalidInput, match=r"^body: must be a JSON object$"):
        parse_webhook(body)
