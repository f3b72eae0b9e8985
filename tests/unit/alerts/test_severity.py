"""One severity scale from every tool's words (chalicelib/domain/alerts severity_from)."""

import pytest

from chalicelib.domain.alerts import severity_from
from chalicelib.domain.alerts.alertmanager import parse_webhook
from chalicelib.domain.alerts.pagerduty import parse_event


@pytest.mark.parametrize(
    ("word", "ours"), [("critical", "critical"), ("error", "high"), ("warning", "medium"), ("info", "low")]
)
def test_pagerduty_words(word, ours):
    assert severity_from(word) == ours


def test_error_severity_maps_to_high():
    assert severity_from("error") == "high"


@pytest.mark.parametrize("word", ["low", "medium", "high", "critical"])
def test_our_own_words_read_as_themselves(word):
    assert severity_from(word) == word


def test_page_is_critical():
    assert severity_from("page") == "critical"


@pytest.mark.parametrize(
    ("word", "ours"), [("CRITICAL", "critical"), (" Warning ", "medium"), ("Info", "low")]
)
def test_labels_are_read_whatever_their_case_and_spacing(word, ours):
    assert severity_from(word) == ours


@pytest.mark.parametrize("value", ["", "sev-zero", "urgent!", None, 1, ["critical"], {"level": "critical"}])
def test_anything_else_leaves_it_to_the_integration(value):
    assert severity_from(value) is None


def test_pagerduty_and_alertmanager_agree_on_a_word():
    event = {
        "event_action": "trigger",
        "payload": {"summary": "Disk full", "source": "db1", "severity": "warning"},
    }
    webhook = {"alerts": [{"status": "firing", "labels": {"alertname": "DiskFull", "severity": "warning"}}]}
    assert parse_event(event).severity == parse_webhook(webhook)[0].severity == "medium"
