"""TLS expiry: days left, thresholds and severities, one incident that climbs and resolves on renewal."""

import pytest

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.tls import (
    DAY,
    DEFAULT_TLS_EXPIRY_DAYS,
    TlsAction,
    TlsDecision,
    certificate_read_due,
    check_tls_expiry_days,
    days_remaining,
    decide,
    incident_title,
    reached_threshold,
    severity_for,
)

NOW = 1_798_761_600
HOUR = 3600


def test_the_default_thresholds_are_14_7_and_1_days():
    assert DEFAULT_TLS_EXPIRY_DAYS == (14, 7, 1)


def test_thresholds_are_kept_largest_first():
    assert check_tls_expiry_days([1, 30, 7]) == (30, 7, 1)
    assert check_tls_expiry_days([]) == ()
    assert check_tls_expiry_days([1, 365]) == (365, 1)


@pytest.mark.parametrize("days", [[0], [366], [14, 14], [1, 2, 3, 4, 5, 6], [True], [7.5], ["7"], "14", None])
def test_bad_thresholds_name_the_field(days):
    with pytest.raises(InvalidInput) as error:
        check_tls_expiry_days(days)
    assert error.value.field == "tls_expiry_days"


def test_days_remaining_rounds_down_and_goes_negative_after_expiry():
    assert days_remaining(NOW + 7 * DAY, NOW) == 7
    assert days_remaining(NOW + 7 * DAY - 1, NOW) == 6
    assert days_remaining(NOW + HOUR, NOW) == 0
    assert days_remaining(NOW - 1, NOW) == -1
    assert days_remaining(NOW - 3 * DAY, NOW) == -3


@pytest.mark.parametrize(
    ("days_left", "threshold"),
    [(30, None), (15, None), (14, 14), (8, 14), (7, 7), (2, 7), (1, 1), (0, 1), (-5, 1)],
)
def test_the_threshold_reached_is_the_smallest_one_at_or_above_the_days_left(days_left, threshold):
    assert reached_threshold(days_left, (14, 7, 1)) == threshold


@pytest.mark.parametrize(
    ("thresholds", "severities"),
    [
        ((14, 7, 1), ["low", "medium", "high"]),
        ((14, 3), ["low", "high"]),
        ((7,), ["high"]),
        ((60, 30, 14, 7, 1), ["low", "medium", "medium", "medium", "high"]),
    ],
)
def test_severity_is_low_at_the_first_threshold_high_at_the_last_medium_between(thresholds, severities):
    assert [severity_for(t, thresholds) for t in thresholds] == severities


def test_one_incident_opens_then_climbs_through_the_thresholds_then_resolves_on_renewal():
    thresholds = (14, 7, 1)
    assert decide(20, thresholds, None) == TlsDecision(TlsAction.NONE)
    assert decide(14, thresholds, None) == TlsDecision(TlsAction.OPEN, "low", 14)
    assert decide(10, thresholds, "low").action is TlsAction.NONE  # same threshold: nothing new
    assert decide(7, thresholds, "low") == TlsDecision(TlsAction.RAISE, "medium", 7)
    assert decide(1, thresholds, "medium") == TlsDecision(TlsAction.RAISE, "high", 1)
    assert decide(-2, thresholds, "high").action is TlsAction.NONE  # expired: stays high, still one incident
    assert decide(89, thresholds, "high") == TlsDecision(TlsAction.RESOLVE)  # renewed


def test_a_first_reading_already_past_several_thresholds_opens_at_the_reached_severity():
    assert decide(3, (14, 7, 1), None) == TlsDecision(TlsAction.OPEN, "medium", 7)
    assert decide(-1, (14, 7, 1), None) == TlsDecision(TlsAction.OPEN, "high", 1)


def test_severity_never_drops_when_thresholds_are_edited():
    # the incident is high; the user adds an earlier threshold so 5 days now maps to medium
    assert decide(5, (30, 7, 1), "high").action is TlsAction.NONE


def test_no_thresholds_means_no_incident_and_an_open_one_resolves():
    assert decide(0, (), None).action is TlsAction.NONE
    assert decide(0, (), "low").action is TlsAction.RESOLVE


def test_the_title_names_the_host_and_the_days_left():
    assert incident_title("api.example.com", 7) == "TLS certificate for api.example.com expires in 7 days"
    assert incident_title("api.example.com", 1) == "TLS certificate for api.example.com expires in 1 day"
    assert incident_title("a.example", 0) == "TLS certificate for a.example expires within a day"
    assert incident_title("a.example", -2) == "TLS certificate for a.example expired 2 days ago"


def test_the_certificate_is_read_at_most_once_a_day():
    assert certificate_read_due(None, NOW)
    assert not certificate_read_due(NOW - DAY + 1, NOW)
    assert certificate_read_due(NOW - DAY, NOW)
