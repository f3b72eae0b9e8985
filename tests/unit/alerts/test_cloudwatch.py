"""CloudWatch alarms delivered by SNS (chalicelib/domain/alerts/cloudwatch.py)."""

import json

import pytest

from chalicelib.domain.alerts import Alert, AlertAction, Link
from chalicelib.domain.alerts.cloudwatch import console_url, parse_alarm
from chalicelib.domain.errors import InvalidInput

ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:api-5xx-rate"

TRIGGER = {
    "MetricName": "HTTPCode_Target_5XX_Count",
    "Namespace": "AWS/ApplicationELB",
    "StatisticType": "Statistic",
    "Statistic": "SUM",
    "Unit": None,
    "Dimensions": [{"value": "app/api-prod/50dc6c495c0c9188", "name": "LoadBalancer"}],
    "Period": 60,
    "EvaluationPeriods": 3,
    "DatapointsToAlarm": 2,
    "ComparisonOperator": "GreaterThanThreshold",
    "Threshold": 25.0,
    "TreatMissingData": "notBreaching",
    "EvaluateLowSampleCountPercentile": "",
}

# The Message of an SNS notification from an alarm, as in CloudWatch's documentation.
ALARM = {
    "AlarmName": "api-5xx-rate",
    "AlarmDescription": "More than 25 5xx responses a minute from the API load balancer.",
    "AWSAccountId": "123456789012",
    "AlarmConfigurationUpdatedTimestamp": "2026-11-02T10:12:44.518+0000",
    "NewStateValue": "ALARM",
    "NewStateReason": (
        "Threshold Crossed: 2 out of the last 3 datapoints [61.0 (23/11/26 03:59:00), "
        "48.0 (23/11/26 03:58:00)] were greater than the threshold (25.0) "
        "(minimum 2 datapoints for OK -> ALARM transition)."
    ),
    "StateChangeTime": "2026-11-23T04:00:12.304+0000",
    "Region": "US East (N. Virginia)",
    "AlarmArn": ARN,
    "OldStateValue": "OK",
    "OKActions": ["arn:aws:sns:us-east-1:123456789012:vigil-alarms"],
    "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:vigil-alarms"],
    "InsufficientDataActions": [],
    "Trigger": TRIGGER,
}


def message(**changes):
    return json.dumps({**ALARM, **changes})


def test_alarm_opens_an_incident_keyed_on_the_alarm_arn():
    assert parse_alarm(message()) == [
        Alert(
            action=AlertAction.TRIGGER,
            dedup_key=ARN,
            title="api-5xx-rate is in ALARM",
            description=ALARM["NewStateReason"] + "\n\n" + ALARM["AlarmDescription"],
            severity=None,
            source="us-east-1/AWS/ApplicationELB",
            details={
                "AlarmName": "api-5xx-rate",
                "AWSAccountId": "123456789012",
                "Region": "US East (N. Virginia)",
                "OldStateValue": "OK",
                "NewStateValue": "ALARM",
                "StateChangeTime": "2026-11-23T04:00:12.304+0000",
                "Trigger": TRIGGER,
            },
            links=(
                Link(
                    "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1"
                    "#alarmsV2:alarm/api-5xx-rate",
                    "CloudWatch alarm",
                ),
            ),
            occurred_at="2026-11-23T04:00:12.304+0000",
        )
    ]


def test_ok_resolves_what_the_alarm_opened():
    [opened] = parse_alarm(message())
    [closed] = parse_alarm(message(NewStateValue="OK", OldStateValue="ALARM"))
    assert (closed.action, closed.dedup_key) == (AlertAction.RESOLVE, opened.dedup_key)
    assert closed.title == "api-5xx-rate is OK"


def test_insufficient_data_is_ignored():
    assert parse_alarm(message(NewStateValue="INSUFFICIENT_DATA")) == []


def test_repeat_delivery_gives_the_same_dedup_key():
    assert parse_alarm(message())[0].dedup_key == parse_alarm(message())[0].dedup_key == ARN


def test_console_link_takes_the_region_code_from_the_arn_and_quotes_the_name():
    name = "prod/api 5xx rate"
    arn = f"arn:aws:cloudwatch:eu-west-3:123456789012:alarm:{name}"
    [alert] = parse_alarm(message(AlarmName=name, AlarmArn=arn, Region="EU (Paris)"))
    assert alert.links == (
        Link(
            "https://eu-west-3.console.aws.amazon.com/cloudwatch/home?region=eu-west-3"
            "#alarmsV2:alarm/prod%2Fapi%205xx%20rate",
            "CloudWatch alarm",
        ),
    )
    assert alert.source == "eu-west-3/AWS/ApplicationELB"


def test_no_console_link_outside_the_commercial_partition():
    arn = "arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:api-5xx-rate"
    assert console_url(arn, "api-5xx-rate") is None
    [alert] = parse_alarm(message(AlarmArn=arn, Region="China (Beijing)"))
    assert alert.links == ()
    assert alert.source == "cn-north-1/AWS/ApplicationELB"


def test_metric_math_alarm_without_namespace_is_sourced_from_its_region():
    trigger = {"Period": 60, "EvaluationPeriods": 1, "Metrics": [{"Id": "e1", "Expression": "m1/m2*100"}]}
    [alert] = parse_alarm(message(Trigger=trigger))
    assert alert.source == "us-east-1"
    assert alert.details["Trigger"] == trigger


def test_alarm_without_description_is_described_by_its_reason():
    [alert] = parse_alarm(message(AlarmDescription=None))
    assert alert.description == ALARM["NewStateReason"]


def test_a_very_long_arn_is_bounded_and_stable():
    name = "a" * 255
    arn = f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"
    key = parse_alarm(message(AlarmName=name, AlarmArn=arn))[0].dedup_key
    assert key is not None
    assert len(key) == 255
    assert key.startswith("arn:aws:cloudwatch:us-east-1:123456789012:alarm:aaa")
    assert key == parse_alarm(message(AlarmName=name, AlarmArn=arn, NewStateValue="OK"))[0].dedup_key


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]", '"ALARM"'])
def test_a_message_that_is_not_an_alarm_is_refused(text):
    with pytest.raises(InvalidInput) as caught:
        parse_alarm(text)
    assert caught.value.field == "Message"


@pytest.mark.parametrize(
    ("changes", "field", "message_text"),
    [
        ({"AlarmArn": None}, "Message.AlarmArn", "is required"),
        ({"AlarmArn": ""}, "Message.AlarmArn", "is required"),
        ({"NewStateValue": None}, "Message.NewStateValue", "is required"),
        (
            {"NewStateValue": "PENDING"},
            "Message.NewStateValue",
            "must be one of ALARM, OK, INSUFFICIENT_DATA",
        ),
        (
            {"NewStateValue": ["ALARM"]},
            "Message.NewStateValue",
            "must be one of ALARM, OK, INSUFFICIENT_DATA",
        ),
    ],
)
def test_an_alarm_without_arn_or_state_is_reported_by_field(changes, field, message_text):
    with pytest.raises(InvalidInput) as caught:
        parse_alarm(message(**changes))
    assert str(caught.value) == f"{field}: {message_text}"
