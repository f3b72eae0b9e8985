"""A CloudWatch alarm's state change, as SNS delivers it: the JSON string in the notification's
``Message`` (the SNS envelope, its signature and SubscriptionConfirmation are read elsewhere).

ALARM opens (or adds to) the incident keyed on the alarm's ARN, OK resolves it, and
INSUFFICIENT_DATA says nothing about the thing watched, so it is ignored.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from chalicelib.domain.alerts import (
    Alert,
    AlertAction,
    bounded_dedup_key,
    bounded_details,
    capped_links,
    clip,
    clip_description,
    clip_title,
    text_of,
    timestamp_of,
    web_link,
    without_blanks,
)
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.incidents import TITLE_MAX

STATES = {"ALARM": AlertAction.TRIGGER, "OK": AlertAction.RESOLVE, "INSUFFICIENT_DATA": None}
_REGION_CODE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


def parse_alarm(message: str) -> list[Alert]:
    alarm = _decoded(message)
    arn = text_of(alarm.get("AlarmArn"))
    if not arn:
        raise InvalidInput("is required", field="Message.AlarmArn")
    state = alarm.get("NewStateValue")
    if state is None:
        raise InvalidInput("is required", field="Message.NewStateValue")
    if not isinstance(state, str) or state not in STATES:
        raise InvalidInput(f"must be one of {', '.join(STATES)}", field="Message.NewStateValue")
    action = STATES[state]
    if action is None:
        return []

    name = text_of(alarm.get("AlarmName")) or arn.split(":", 6)[-1]
    trigger = alarm.get("Trigger")
    trigger = trigger if isinstance(trigger, dict) else {}
    namespace = text_of(trigger.get("Namespace"))
    where = region_code(arn) or text_of(alarm.get("Region"))
    reason = text_of(alarm.get("NewStateReason"))
    about = text_of(alarm.get("AlarmDescription"))
    details = {
        "AlarmName": name,
        "AWSAccountId": alarm.get("AWSAccountId"),
        "Region": alarm.get("Region"),
        "OldStateValue": alarm.get("OldStateValue"),
        "NewStateValue": state,
        "StateChangeTime": alarm.get("StateChangeTime"),
        "Trigger": trigger or None,
    }
    return [
        Alert(
            action=action,
            dedup_key=bounded_dedup_key(arn),
            title=clip_title(f"{name} is in ALARM" if action is AlertAction.TRIGGER else f"{name} is OK"),
            description=clip_description("\n\n".join(text for text in (reason, about) if text)),
            severity=None,
            source=clip("/".join(part for part in (where, namespace) if part), TITLE_MAX) or None,
            details=bounded_details(without_blanks(details)),
            links=capped_links([web_link(console_url(arn, name), "CloudWatch alarm")]),
            occurred_at=timestamp_of(alarm.get("StateChangeTime")),
        )
    ]


def region_code(arn: str) -> str:
    """us-east-1 from arn:aws:cloudwatch:us-east-1:123456789012:alarm:Name. The message's own
    ``Region`` is a display name ("US East (N. Virginia)"), no use in a URL."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and _REGION_CODE.match(parts[3]) else ""


def console_url(arn: str, alarm_name: str) -> str | None:
    """The alarm's page in the console; None outside the commercial partition (China and GovCloud
    consoles live on other hosts) or for an ARN that is not a CloudWatch alarm's."""
    region = region_code(arn)
    if not region or not arn.startswith("arn:aws:cloudwatch:"):
        return None
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#alarmsV2:alarm/{quote(alarm_name, safe='')}"
    )


def _decoded(message: Any) -> dict[str, Any]:
    if not isinstance(message, str):
        raise InvalidInput("must be a string holding a CloudWatch alarm as JSON", field="Message")
    try:
        alarm = json.loads(message)
    except ValueError:
        raise InvalidInput("must be a CloudWatch alarm as JSON", field="Message") from None
    if not isinstance(alarm, dict):
        raise InvalidInput("must be a CloudWatch alarm as JSON", field="Message")
    return alarm
