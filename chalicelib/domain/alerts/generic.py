"""Vigil's own alert body, for scripts and tools without a format of their own:

    {
      "title": "Checkout error rate above 5%",        required to trigger; 1..200 characters
      "description": "...",                            optional; at most 10,000 characters
      "severity": "high",                              optional; low/medium/high/critical, or
                                                       PagerDuty's critical/error/warning/info
      "dedup_key": "checkout-errors",                  optional to trigger (a repeat with the same
                                                       key adds to the open incident); required
                                                       to acknowledge or resolve; 1..255 characters
      "action": "trigger",                             trigger (default), acknowledge or resolve
      "details": {"error_rate": 0.07},                 optional object, kept on the timeline
      "links": [{"href": "https://...", "text": "Dashboard"}]   optional; http(s), at most 10
    }

It is our format, so it is read strictly: an unknown field, a wrong type or a text too long is a
400 naming the field, where the foreign formats are forgiven what their tools may send.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.alerts import (
    DEDUP_KEY_MAX,
    LINKS_MAX,
    URL_MAX,
    Alert,
    AlertAction,
    Link,
    bounded_details,
    is_web_url,
    require_body,
    severity_from,
)
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.incidents import SEVERITIES, TEXT_MAX, TITLE_MAX

FIELDS = ("title", "description", "severity", "dedup_key", "action", "details", "links")
SEVERITY_WORDS = (*SEVERITIES, "error", "warning", "info")
ACTIONS = tuple(action.value for action in AlertAction)


def parse_body(body: Any) -> Alert:
    body = require_body(body)
    for name in body:
        if name not in FIELDS:
            raise InvalidInput("is not an accepted field", field=str(name))
    action = _action(body.get("action"))
    title = _text(body.get("title"), "title", limit=TITLE_MAX, required=action is AlertAction.TRIGGER)
    dedup_key = _dedup_key(body.get("dedup_key"))
    if dedup_key is None and action is not AlertAction.TRIGGER:
        raise InvalidInput(f"is required to {action.value}", field="dedup_key")
    return Alert(
        action=action,
        dedup_key=dedup_key,
        title=" ".join(title.split()),
        description=_text(body.get("description"), "description", limit=TEXT_MAX),
        severity=_severity(body.get("severity")),
        details=bounded_details(_details(body.get("details"))),
        links=_links(body.get("links")),
    )


def _action(value: Any) -> AlertAction:
    if value is None:
        return AlertAction.TRIGGER
    if not isinstance(value, str) or value not in ACTIONS:
        raise InvalidInput(f"must be one of {', '.join(ACTIONS)}", field="action")
    return AlertAction(value)


def _text(value: Any, field: str, *, limit: int, required: bool = False) -> str:
    if value is None:
        if required:
            raise InvalidInput("is required", field=field)
        return ""
    if not isinstance(value, str):
        raise InvalidInput("must be a string", field=field)
    value = value.strip()
    if required and not value:
        raise InvalidInput("must not be empty", field=field)
    if len(value) > limit:
        raise InvalidInput(f"must be at most {limit} characters", field=field)
    return value


def _dedup_key(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("must be a string", field="dedup_key")
    if not value:
        raise InvalidInput("must not be empty", field="dedup_key")
    if len(value) > DEDUP_KEY_MAX:
        raise InvalidInput(f"must be at most {DEDUP_KEY_MAX} characters", field="dedup_key")
    return value


def _severity(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in SEVERITY_WORDS:
        raise InvalidInput(f"must be one of {', '.join(SEVERITIES)}", field="severity")
    return severity_from(value)


def _details(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput("must be an object", field="details")
    return value


def _links(value: Any) -> tuple[Link, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidInput("must be a list", field="links")
    if len(value) > LINKS_MAX:
        raise InvalidInput(f"must have at most {LINKS_MAX} items", field="links")
    return tuple(_link(item, f"links[{index}]") for index, item in enumerate(value))


def _link(value: Any, where: str) -> Link:
    if not isinstance(value, dict):
        raise InvalidInput("must be an object", field=where)
    for name in value:
        if name not in ("href", "text"):
            raise InvalidInput("is not an accepted field", field=f"{where}.{name}")
    href = _text(value.get("href"), f"{where}.href", limit=URL_MAX, required=True)
    if not is_web_url(href):
        raise InvalidInput("must be an http or https URL", field=f"{where}.href")
    return Link(href=href, text=_text(value.get("text"), f"{where}.text", limit=TITLE_MAX))
