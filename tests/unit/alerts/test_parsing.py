"""Which parser reads which integration's body, and the limits every parser keeps."""

import pytest

from chalicelib.domain.alerts import (
    DEDUP_KEY_MAX,
    LINKS_MAX,
    AlertAction,
    Link,
    bounded_dedup_key,
    capped_links,
    web_link,
)
from chalicelib.domain.alerts.parsing import parse_native
from chalicelib.domain.errors import InvalidInput

BODIES = {
    "generic": {"title": "Disk full on db1"},
    "pagerduty": {
        "event_action": "trigger",
        "payload": {"summary": "Disk full on db1", "source": "db1", "severity": "error"},
    },
    "alertmanager": {"version": "4", "alerts": [{"status": "firing", "labels": {"alertname": "DiskFull"}}]},
    "grafana": {"version": "1", "alerts": [{"status": "firing", "labels": {"alertname": "DiskFull"}}]},
    "elastic": {
        "rule": {"id": "r1", "name": "Disk full"},
        "alert": {"id": "db1", "actionGroup": "threshold met"},
    },
}


@pytest.mark.parametrize("integration_type", sorted(BODIES))
def test_each_native_type_gives_a_list_of_alerts(integration_type):
    [alert] = parse_native(integration_type, BODIES[integration_type])
    assert alert.action is AlertAction.TRIGGER
    assert alert.title


def test_a_body_of_one_format_is_not_read_as_another():
    with pytest.raises(InvalidInput) as caught:
        parse_native("pagerduty", BODIES["generic"])
    assert caught.value.field == "event_action"
    with pytest.raises(InvalidInput) as caught:
        parse_native("generic", BODIES["pagerduty"])
    assert caught.value.field == "event_action"


@pytest.mark.parametrize("integration_type", sorted(BODIES))
def test_a_body_that_is_not_an_object_is_refused_by_every_parser(integration_type):
    with pytest.raises(InvalidInput, match=r"^body: must be a JSON object$"):
        parse_native(integration_type, ["not", "an", "object"])


@pytest.mark.parametrize("integration_type", ["cloudwatch", "nagios", ""])
def test_cloudwatch_and_unknown_types_have_no_native_parser(integration_type):
    with pytest.raises(ValueError, match="no native body parser"):
        parse_native(integration_type, {})


def test_dedup_keys_that_fit_are_kept_and_longer_ones_hashed_with_a_readable_prefix():
    assert bounded_dedup_key("k" * DEDUP_KEY_MAX) == "k" * DEDUP_KEY_MAX
    long_key = "service/checkout/" + "x" * 300
    bounded = bounded_dedup_key(long_key)
    assert len(bounded) == DEDUP_KEY_MAX
    assert bounded.startswith("service/checkout/xxx")
    assert bounded == bounded_dedup_key(long_key)
    assert bounded != bounded_dedup_key(long_key + "y")


@pytest.mark.parametrize(
    "href",
    ["javascript:alert(1)", "data:text/html,hi", "//example.com", "http://", "http://[::1", "", None, 7],
)
def test_only_http_and_https_addresses_become_links(href):
    assert web_link(href, "Link") is None


def test_links_are_kept_once_each_and_at_most_ten():
    links = [web_link(f"https://example.com/{n % 12}", f"#{n}") for n in range(30)]
    kept = capped_links([None, *links])
    assert len(kept) == LINKS_MAX
    assert kept[0] == Link("https://example.com/0", "#0")
    assert len({link.href for link in kept}) == LINKS_MAX
