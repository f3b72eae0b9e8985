"""Vigil's own alert body (chalicelib/domain/alerts/generic.py): read strictly."""

import pytest

from chalicelib.domain.alerts import Alert, AlertAction, Link
from chalicelib.domain.alerts.generic import parse_body
from chalicelib.domain.errors import InvalidInput


def refused(body):
    with pytest.raises(InvalidInput) as caught:
        parse_body(body)
    return str(caught.value)


def test_a_title_is_enough_to_trigger():
    assert parse_body({"title": "Checkout error rate above 5%"}) == Alert(
        action=AlertAction.TRIGGER, dedup_key=None, title="Checkout error rate above 5%"
    )


def test_every_field_is_read():
    body = {
        "title": "  Checkout error rate above 5%  ",
        "description": "Errors since the 04:00 deploy.\nRollback is one click away.",
        "severity": "high",
        "dedup_key": "checkout-errors",
        "action": "trigger",
        "details": {"error_rate": 0.07, "deploy": "v2026.11.23-1"},
        "links": [{"href": "https://grafana.example.com/d/checkout", "text": "Dashboard"}],
    }
    assert parse_body(body) == Alert(
        action=AlertAction.TRIGGER,
        dedup_key="checkout-errors",
        title="Checkout error rate above 5%",
        description="Errors since the 04:00 deploy.\nRollback is one click away.",
        severity="high",
        details={"error_rate": 0.07, "deploy": "v2026.11.23-1"},
        links=(Link("https://grafana.example.com/d/checkout", "Dashboard"),),
    )


def test_an_unknown_field_is_refused():
    assert refused({"title": "Disk full", "priority": "P1"}) == "priority: is not an accepted field"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "title: is required"),
        ({"title": None}, "title: is required"),
        ({"title": "   "}, "title: must not be empty"),
        ({"title": 42}, "title: must be a string"),
        ({"title": "x" * 201}, "title: must be at most 200 characters"),
    ],
)
def test_a_trigger_needs_a_title_of_1_to_200_characters(body, message):
    assert refused(body) == message


def test_title_length_is_counted_after_strip():
    assert parse_body({"title": "  " + "x" * 200 + "\n"}).title == "x" * 200


def test_description_longer_than_10000_characters_is_refused():
    assert (
        refused({"title": "t", "description": "d" * 10_001})
        == "description: must be at most 10000 characters"
    )
    assert len(parse_body({"title": "t", "description": "d" * 10_000}).description) == 10_000


@pytest.mark.parametrize(
    ("severity", "ours"),
    [
        ("low", "low"),
        ("medium", "medium"),
        ("high", "high"),
        ("critical", "critical"),
        ("error", "high"),
        ("warning", "medium"),
        ("info", "low"),
    ],
)
def test_severity_is_ours_or_pagerdutys(severity, ours):
    assert parse_body({"title": "t", "severity": severity}).severity == ours


@pytest.mark.parametrize("severity", ["urgent", "p1", "page", "HIGH", 3, ""])
def test_any_other_severity_is_refused(severity):
    assert (
        refused({"title": "t", "severity": severity})
        == "severity: must be one of low, medium, high, critical"
    )


def test_without_severity_the_integration_decides():
    assert parse_body({"title": "t"}).severity is None


@pytest.mark.parametrize(
    ("dedup_key", "message"),
    [
        ("", "dedup_key: must not be empty"),
        ("k" * 256, "dedup_key: must be at most 255 characters"),
        (17, "dedup_key: must be a string"),
    ],
)
def test_dedup_key_is_1_to_255_characters(dedup_key, message):
    assert refused({"title": "t", "dedup_key": dedup_key}) == message


def test_a_255_character_dedup_key_is_kept_as_is():
    assert parse_body({"title": "t", "dedup_key": "k" * 255}).dedup_key == "k" * 255


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_acknowledge_and_resolve_need_a_dedup_key_and_no_title(action):
    assert refused({"action": action}) == f"dedup_key: is required to {action}"
    alert = parse_body({"action": action, "dedup_key": "checkout-errors"})
    assert (alert.action, alert.dedup_key, alert.title) == (AlertAction(action), "checkout-errors", "")


def test_a_resolve_closes_what_its_trigger_opened():
    opened = parse_body({"title": "Checkout errors", "dedup_key": "checkout-errors"})
    closed = parse_body({"action": "resolve", "dedup_key": "checkout-errors"})
    assert closed.dedup_key == opened.dedup_key
    assert closed.action is AlertAction.RESOLVE


@pytest.mark.parametrize("action", ["fire", "RESOLVE", "", 1])
def test_an_unknown_action_is_refused(action):
    assert refused({"title": "t", "action": action}) == "action: must be one of trigger, acknowledge, resolve"


def test_details_must_be_an_object():
    assert refused({"title": "t", "details": ["a"]}) == "details: must be an object"


def test_oversized_details_are_kept_cut():
    details = parse_body({"title": "t", "details": {"log": "x" * 40_000}}).details
    assert set(details) == {"truncated"}


@pytest.mark.parametrize(
    ("links", "message"),
    [
        ({"href": "https://example.com"}, "links: must be a list"),
        (["https://example.com"], "links[0]: must be an object"),
        ([{"text": "Dashboard"}], "links[0].href: is required"),
        ([{"href": "javascript:alert(1)"}], "links[0].href: must be an http or https URL"),
        ([{"href": "https://example.com", "title": "x"}], "links[0].title: is not an accepted field"),
        ([{"href": "https://example.com", "text": 5}], "links[0].text: must be a string"),
        ([{"href": f"https://example.com/{n}"} for n in range(11)], "links: must have at most 10 items"),
    ],
)
def test_links_are_web_addresses_with_optional_text(links, message):
    assert refused({"title": "t", "links": links}) == message


def test_link_text_is_optional():
    assert parse_body({"title": "t", "links": [{"href": "https://example.com"}]}).links == (
        Link("https://example.com", ""),
    )


@pytest.mark.parametrize("body", [[{"title": "t"}], "t", None, 1])
def test_a_body_that_is_not_an_object_is_refused(body):
    assert refused(body) == "body: must be a JSON object"
