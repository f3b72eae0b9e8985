"""Grafana unified alerting webhook (chalicelib/domain/alerts/grafana.py)."""

import copy

import pytest

from chalicelib.domain.alerts import AlertAction, Link
from chalicelib.domain.alerts.grafana import parse_webhook
from chalicelib.domain.errors import InvalidInput

# Shaped like the example in Grafana's webhook notifier documentation.
FIRING = {
    "receiver": "Vigil",
    "status": "firing",
    "orgId": 1,
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "High memory usage",
                "grafana_folder": "Infrastructure",
                "team": "blue",
                "zone": "us-1",
            },
            "annotations": {
                "description": "The system has high memory usage",
                "runbook_url": "https://runbooks.example.com/memory",
                "summary": "This alert was triggered for zone us-1",
            },
            "startsAt": "2026-11-23T03:51:03.157076+01:00",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://grafana.example.com/alerting/grafana/1afz29v7z/view",
            "fingerprint": "c6eadffa33fcdf37",
            "silenceURL": "https://grafana.example.com/alerting/silence/new?matcher=alertname%3DHigh+memory+usage",
            "dashboardURL": "https://grafana.example.com/d/mem01",
            "panelURL": "https://grafana.example.com/d/mem01?viewPanel=4",
            "values": {"B": 44.23943737541908, "C": 1},
            "valueString": "[ var='B' labels={zone=us-1} value=44.23943737541908 ], [ var='C' value=1 ]",
        },
        {
            "status": "firing",
            "labels": {"alertname": "High CPU usage", "team": "blue", "zone": "eu-1"},
            "annotations": {"description": "The system has high CPU usage"},
            "startsAt": "2026-11-23T03:56:03.157076+01:00",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://grafana.example.com/alerting/grafana/d1rdpdv7k/view",
            "fingerprint": "bc97ff14869b13e3",
            "silenceURL": "https://grafana.example.com/alerting/silence/new?matcher=alertname%3DHigh+CPU+usage",
            "dashboardURL": "",
            "panelURL": "",
            "values": {"B": 88.1, "C": 1},
            "valueString": "[ var='B' labels={zone=eu-1} value=88.1 ], [ var='C' value=1 ]",
        },
    ],
    "groupLabels": {},
    "commonLabels": {"team": "blue"},
    "commonAnnotations": {},
    "externalURL": "https://grafana.example.com/",
    "version": "1",
    "groupKey": "{}:{}",
    "truncatedAlerts": 0,
    "title": "[FIRING:2]  (blue)",
    "state": "alerting",
    "message": "**Firing**\n\nValue: B=44.23943737541908, C=1\nLabels:\n - alertname = High memory usage\n",
}


def resolved(body, index=0):
    body = copy.deepcopy(body)
    body["status"] = "resolved"
    body["state"] = "ok"
    body["alerts"][index].update(status="resolved", endsAt="2026-11-23T04:06:03.157076+01:00")
    return body


def test_each_alert_is_keyed_on_its_fingerprint():
    alerts = parse_webhook(FIRING)
    assert [alert.dedup_key for alert in alerts] == ["c6eadffa33fcdf37", "bc97ff14869b13e3"]
    assert [alert.action for alert in alerts] == [AlertAction.TRIGGER, AlertAction.TRIGGER]


def test_title_and_description_come_from_the_annotations():
    first, second = parse_webhook(FIRING)
    assert (first.title, first.description) == (
        "This alert was triggered for zone us-1",
        "The system has high memory usage",
    )
    assert second.title == "High CPU usage"


def test_links_lead_to_the_rule_dashboard_panel_and_silence_page():
    assert parse_webhook(FIRING)[0].links == (
        Link("https://grafana.example.com/alerting/grafana/1afz29v7z/view", "Source"),
        Link("https://grafana.example.com/", "Grafana"),
        Link("https://runbooks.example.com/memory", "Runbook"),
        Link("https://grafana.example.com/d/mem01", "Dashboard"),
        Link("https://grafana.example.com/d/mem01?viewPanel=4", "Panel"),
        Link(
            "https://grafana.example.com/alerting/silence/new?matcher=alertname%3DHigh+memory+usage",
            "Silence",
        ),
    )


def test_empty_dashboard_and_panel_addresses_are_left_out():
    texts = [link.text for link in parse_webhook(FIRING)[1].links]
    assert texts == ["Source", "Grafana", "Silence"]


def test_image_url_becomes_a_link():
    body = copy.deepcopy(FIRING)
    body["alerts"][0]["imageURL"] = "https://grafana.example.com/render/mem01.png"
    assert Link("https://grafana.example.com/render/mem01.png", "Image") in parse_webhook(body)[0].links


def test_values_are_kept_in_the_details():
    details = parse_webhook(FIRING)[0].details
    assert details["values"] == {"B": 44.23943737541908, "C": 1}
    assert details["valueString"].startswith("[ var='B' labels={zone=us-1}")
    assert details["labels"]["grafana_folder"] == "Infrastructure"


def test_resolved_alert_resolves_what_its_firing_twin_opened():
    opened = parse_webhook(FIRING)[0]
    closed = parse_webhook(resolved(FIRING))[0]
    assert (closed.action, closed.dedup_key) == (AlertAction.RESOLVE, opened.dedup_key)
    assert closed.occurred_at == "2026-11-23T04:06:03.157076+01:00"


def test_repeat_notification_gives_the_same_dedup_keys():
    assert [a.dedup_key for a in parse_webhook(copy.deepcopy(FIRING))] == [
        a.dedup_key for a in parse_webhook(FIRING)
    ]


def test_an_alert_with_neither_summary_nor_alertname_takes_the_notification_title():
    body = copy.deepcopy(FIRING)
    body["alerts"][1]["labels"] = {"team": "blue"}
    assert parse_webhook(body)[1].title == "[FIRING:2] (blue)"
    del body["title"]
    assert parse_webhook(body)[1].title == "Grafana alert"


def test_severity_label_is_read_like_alertmanager():
    body = copy.deepcopy(FIRING)
    body["alerts"][0]["labels"]["severity"] = "critical"
    first, second = parse_webhook(body)
    assert (first.severity, second.severity) == ("critical", None)


def test_grafana_version_1_is_accepted():
    assert FIRING["version"] == "1"
    assert len(parse_webhook(FIRING)) == 2


def test_a_bad_status_is_reported_by_field():
    body = copy.deepcopy(FIRING)
    body["alerts"][1]["status"] = "alerting"
    with pytest.raises(InvalidInput, match=r"^alerts\[1\]\.status: must be one of firing, resolved$"):
        parse_webhook(body)


def test_a_body_that_is_not_an_object_is_refused():
    with pytest.raises(InvalidInput) as caught:
        parse_webhook([FIRING])
    assert caught.value.field == "body"
