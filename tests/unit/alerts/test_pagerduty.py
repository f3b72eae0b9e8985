"""PagerDuty Events API v2 events (chalicelib/domain/alerts/pagerduty.py)."""

import copy

import pytest

from chalicelib.domain.alerts import Alert, AlertAction, Link
from chalicelib.domain.alerts.pagerduty import parse_event, validation_errors
from chalicelib.domain.errors import InvalidInput

# Shaped like the trigger example in PagerDuty's Events API v2 documentation.
TRIGGER = {
    "payload": {
        "summary": "DISK at 99% on machine prod-datapipe03.example.com",
        "timestamp": "2026-11-23T03:58:42.315+0000",
        "severity": "critical",
        "source": "prod-datapipe03.example.com",
        "component": "mysql",
        "group": "prod-datapipe",
        "class": "disk",
        "custom_details": {"free space": "1%", "ping time": "1500ms", "load avg": 0.75},
    },
    "routing_key": "e93facc04764012d7bfb002500d5d1a6",
    "dedup_key": "srv01/mysql",
    "event_action": "trigger",
    "client": "Sample Monitoring Service",
    "client_url": "https://monitoring.example.com",
    "links": [{"href": "https://wiki.example.com/disk-full", "text": "Disk full runbook"}],
    "images": [
        {
            "src": "https://chart.example.com/disk.png",
            "href": "https://grafana.example.com/d/disk",
            "alt": "Disk usage, last 24 hours",
        }
    ],
}

RESOLVE = {
    "routing_key": "e93facc04764012d7bfb002500d5d1a6",
    "dedup_key": "srv01/mysql",
    "event_action": "resolve",
}


def event(**changes):
    body = copy.deepcopy(TRIGGER)
    body.update(changes)
    return body


def with_payload(**changes):
    body = copy.deepcopy(TRIGGER)
    body["payload"].update(changes)
    return body


def test_documented_trigger_becomes_one_alert():
    assert parse_event(TRIGGER) == Alert(
        action=AlertAction.TRIGGER,
        dedup_key="srv01/mysql",
        title="DISK at 99% on machine prod-datapipe03.example.com",
        description="",
        severity="critical",
        source="prod-datapipe03.example.com",
        details={
            "custom_details": {"free space": "1%", "ping time": "1500ms", "load avg": 0.75},
            "component": "mysql",
            "group": "prod-datapipe",
            "class": "disk",
            "client": "Sample Monitoring Service",
        },
        links=(
            Link("https://wiki.example.com/disk-full", "Disk full runbook"),
            Link("https://grafana.example.com/d/disk", "Disk usage, last 24 hours"),
            Link("https://monitoring.example.com", "Sample Monitoring Service"),
        ),
        occurred_at="2026-11-23T03:58:42.315+0000",
    )


@pytest.mark.parametrize(
    ("severity", "ours"),
    [("critical", "critical"), ("error", "high"), ("warning", "medium"), ("info", "low")],
)
def test_pagerduty_severities_map_to_ours(severity, ours):
    assert parse_event(with_payload(severity=severity)).severity == ours


def test_missing_summary_is_reported_by_field():
    body = copy.deepcopy(TRIGGER)
    del body["payload"]["summary"]
    assert validation_errors(body) == ["payload.summary: is required"]
    with pytest.raises(InvalidInput) as caught:
        parse_event(body)
    assert caught.value.field == "payload.summary"
    assert str(caught.value) == "payload.summary: is required"


def test_every_problem_is_listed_and_the_first_is_raised():
    body = {"routing_key": "e93facc04764012d7bfb002500d5d1a6", "event_action": "trigger", "payload": {}}
    assert validation_errors(body) == [
        "payload.summary: is required",
        "payload.source: is required",
        "payload.severity: is required",
    ]
    with pytest.raises(InvalidInput, match=r"^payload\.summary: is required$"):
        parse_event(body)


def test_a_trigger_without_payload_is_refused():
    body = event()
    del body["payload"]
    assert validation_errors(body) == ["payload: is required"]


@pytest.mark.parametrize("action", [None, "fire", "RESOLVE", 3])
def test_event_action_must_be_one_of_three(action):
    body = event(event_action=action)
    if action is None:
        del body["event_action"]
    message = "is required" if action is None else "must be one of trigger, acknowledge, resolve"
    assert validation_errors(body)[0] == f"event_action: {message}"
    with pytest.raises(InvalidInput) as caught:
        parse_event(body)
    assert caught.value.field == "event_action"


def test_severity_outside_pagerduty_words_is_refused():
    assert validation_errors(with_payload(severity="high")) == [
        "payload.severity: must be one of critical, error, warning, info"
    ]


def test_summary_longer_than_pagerduty_allows_is_refused():
    assert validation_errors(with_payload(summary="x" * 1025)) == [
        "payload.summary: must be at most 1024 characters"
    ]
    assert validation_errors(with_payload(summary="x" * 1024)) == []


def test_long_summary_is_cut_for_the_title_and_kept_whole_in_the_description():
    summary = "Replication lag above 30 s on " + ", ".join(f"db{n}.example.com" for n in range(40))
    alert = parse_event(with_payload(summary=summary))
    assert len(alert.title) == 200
    assert alert.title.endswith("…")
    assert alert.description == summary


def test_dedup_key_longer_than_255_characters_is_refused():
    assert validation_errors(event(dedup_key="k" * 256)) == ["dedup_key: must be at most 255 characters"]
    assert parse_event(event(dedup_key="k" * 255)).dedup_key == "k" * 255


def test_trigger_without_dedup_key_groups_with_nothing():
    body = event()
    del body["dedup_key"]
    assert parse_event(body).dedup_key is None


def test_resolve_closes_what_the_trigger_opened():
    opened, closed = parse_event(TRIGGER), parse_event(RESOLVE)
    assert closed.action is AlertAction.RESOLVE
    assert closed.dedup_key == opened.dedup_key
    assert closed.title == ""
    assert closed.severity is None


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_acknowledge_and_resolve_need_a_dedup_key(action):
    body = {"routing_key": "e93facc04764012d7bfb002500d5d1a6", "event_action": action}
    assert validation_errors(body) == [f"dedup_key: is required to {action}"]
    assert validation_errors({**body, "dedup_key": "  "}) == [f"dedup_key: is required to {action}"]


def test_acknowledge_needs_no_payload():
    alert = parse_event({"dedup_key": "srv01/mysql", "event_action": "acknowledge"})
    assert (alert.action, alert.dedup_key, alert.title) == (AlertAction.ACKNOWLEDGE, "srv01/mysql", "")


def test_routing_key_is_not_read_here():
    body = event()
    del body["routing_key"]
    assert parse_event(body).dedup_key == "srv01/mysql"


@pytest.mark.parametrize("body", [[], "trigger", None, 42])
def test_a_body_that_is_not_an_object_is_refused(body):
    assert validation_errors(body) == ["body: must be a JSON object"]
    with pytest.raises(InvalidInput) as caught:
        parse_event(body)
    assert caught.value.field == "body"


def test_malformed_links_and_images_are_reported_by_position():
    body = event(links=[{"href": "https://ok.example.com"}, {"text": "no address"}, "https://x.example.com"])
    body["images"] = [{"href": "https://example.com"}]
    assert validation_errors(body) == [
        "links[1].href: is required",
        "links[2]: must be an object",
        "images[0].src: is required",
    ]
    assert validation_errors(event(links={"href": "https://ok.example.com"})) == ["links: must be a list"]


def test_only_web_addresses_become_links():
    body = event(
        links=[{"href": "javascript:alert(1)", "text": "click"}, {"href": "https://ok.example.com"}],
        images=[{"src": "https://chart.example.com/only-a-picture.png"}],
        client_url="ftp://monitoring.example.com",
    )
    assert parse_event(body).links == (Link("https://ok.example.com", "Link"),)


def test_timestamp_is_kept_as_written_and_ignored_when_not_a_string():
    assert parse_event(with_payload(timestamp="2026-11-23T04:00:00Z")).occurred_at == "2026-11-23T04:00:00Z"
    assert parse_event(with_payload(timestamp=1763870400)).occurred_at is None


def test_oversized_custom_details_are_cut_not_refused():
    alert = parse_event(with_payload(custom_details={"log": "x" * 50_000}))
    assert set(alert.details) == {"truncated"}
    assert len(alert.details["truncated"].encode()) < 16_384
