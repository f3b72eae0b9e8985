"""PagerDuty Events API v2: one event (trigger, acknowledge or resolve) per request.

PagerDuty answers a bad event with 400 "Event object is invalid" and the list of every problem;
``validation_errors`` gives that list ("payload.summary: is required"); ``parse_event`` raises
``InvalidEvent``, named after the first problem and carrying the whole list. ``routing_key`` is
read by ingest (it names the integration), not here.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.alerts import (
    DEDUP_KEY_MAX,
    Alert,
    AlertAction,
    Link,
    bounded_details,
    capped_links,
    clip,
    clip_description,
    clip_title,
    severity_from,
    text_of,
    timestamp_of,
    web_link,
    without_blanks,
)
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.incidents import TITLE_MAX

EVENT_ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
SUMMARY_MAX = 1024  # PagerDuty's limit

Problem = tuple[str, str]  # (field, message)


class InvalidEvent(InvalidInput):
    def __init__(self, problems: list[Problem]) -> None:
        field, message = problems[0]
        super().__init__(message, field=field)
        self.errors = [f"{f}: {m}" for f, m in problems]


def validation_errors(body: Any) -> list[str]:
    """Every problem with the event, as "field: message", in the order PagerDuty would list them."""
    return [f"{field}: {message}" for field, message in _problems(body)]


def parse_event(body: Any) -> Alert:
    problems = _problems(body)
    if problems:
        raise InvalidEvent(problems)
    action = AlertAction(body["event_action"])
    payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
    summary = text_of(payload.get("summary"))
    title = clip_title(summary)
    trigger = action is AlertAction.TRIGGER
    dedup_key = body.get("dedup_key")
    return Alert(
        action=action,
        dedup_key=dedup_key if isinstance(dedup_key, str) and dedup_key.strip() else None,
        title=title,
        # The title is the summary cut to 200 characters; the rest of it is not lost.
        description=clip_description(summary) if len(" ".join(summary.split())) > TITLE_MAX else "",
        severity=severity_from(payload.get("severity")) if trigger else None,
        source=clip(text_of(payload.get("source")), TITLE_MAX) or None,
        details=bounded_details(_details(body, payload)),
        links=capped_links(_links(body)),
        occurred_at=timestamp_of(payload.get("timestamp")),
    )


def _problems(body: Any) -> list[Problem]:
    if not isinstance(body, dict):
        return [("body", "must be a JSON object")]
    problems: list[Problem] = []
    action = body.get("event_action")
    if action is None:
        problems.append(("event_action", "is required"))
    elif action not in EVENT_ACTIONS:
        problems.append(("event_action", f"must be one of {', '.join(EVENT_ACTIONS)}"))

    dedup_key = body.get("dedup_key")
    if dedup_key is not None and not isinstance(dedup_key, str):
        problems.append(("dedup_key", "must be a string"))
    elif isinstance(dedup_key, str) and len(dedup_key) > DEDUP_KEY_MAX:
        problems.append(("dedup_key", f"must be at most {DEDUP_KEY_MAX} characters"))
    elif action in ("acknowledge", "resolve") and not text_of(dedup_key):
        problems.append(("dedup_key", f"is required to {action}"))

    if action == "trigger":
        problems += _payload_problems(body.get("payload"))
    problems += _list_problems(body, "links", required="href")
    problems += _list_problems(body, "images", required="src")
    return problems


def _payload_problems(payload: Any) -> list[Problem]:
    if payload is None:
        return [("payload", "is required")]
    if not isinstance(payload, dict):
        return [("payload", "must be an object")]
    problems: list[Problem] = []
    summary = payload.get("summary")
    if summary is not None and not isinstance(summary, str):
        problems.append(("payload.summary", "must be a string"))
    elif not text_of(summary):
        problems.append(("payload.summary", "is required"))
    elif len(summary or "") > SUMMARY_MAX:
        problems.append(("payload.summary", f"must be at most {SUMMARY_MAX} characters"))
    source = payload.get("source")
    if source is not None and not isinstance(source, str):
        problems.append(("payload.source", "must be a string"))
    elif not text_of(source):
        problems.append(("payload.source", "is required"))
    severity = payload.get("severity")
    if severity is None:
        problems.append(("payload.severity", "is required"))
    elif severity not in SEVERITIES:
        problems.append(("payload.severity", f"must be one of {', '.join(SEVERITIES)}"))
    return problems


def _list_problems(body: dict[str, Any], name: str, *, required: str) -> list[Problem]:
    items = body.get(name)
    if items is None:
        return []
    if not isinstance(items, list):
        return [(name, "must be a list")]
    problems: list[Problem] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append((f"{name}[{index}]", "must be an object"))
        elif not isinstance(item.get(required), str) or not item[required].strip():
            problems.append((f"{name}[{index}].{required}", "is required"))
    return problems


def _details(body: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    details = {name: payload.get(name) for name in ("custom_details", "component", "group", "class")}
    details["client"] = body.get("client")
    return without_blanks(details)


def _links(body: dict[str, Any]) -> list[Link | None]:
    links = [_link(item, "href", "text", "Link") for item in body.get("links") or ()]
    # PagerDuty shows an image; here only where it leads is kept, when it leads somewhere.
    links += [_link(item, "href", "alt", "Image") for item in body.get("images") or ()]
    links.append(web_link(body.get("client_url"), text_of(body.get("client")) or "Client"))
    return links


def _link(item: dict[str, Any], href: str, text: str, default_text: str) -> Link | None:
    return web_link(item.get(href), text_of(item.get(text)) or default_text)
