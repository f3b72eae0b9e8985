"""Kibana alerting through a Webhook connector, with the body ``BODY_TEMPLATE`` (shown in README).

Kibana renders a Webhook connector's body as mustache and JSON-escapes every ``{{variable}}`` it
puts there (quotes, backslashes, newlines become \\", \\\\, \\n), so a template whose variables all sit
inside JSON strings gives valid JSON whatever a rule's reason says. Arrays render joined with
commas (``{{rule.tags}}`` → "prod,db") and booleans as words, hence the quotes around both.

Use it on a rule action run "for each alert" "on status changes", and add the same action to the
rule's Recovered group: ``alert.actionGroup`` is then "recovered" and the incident is resolved.
The incident is keyed on ``rule.id`` and ``alert.id``, so each alert of a rule (one per host, say)
is an incident of its own. A top-level ``severity`` (critical/error/warning/info or our words) may
be added to the template; without one the integration's default applies.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.alerts import (
    Alert,
    AlertAction,
    bounded_dedup_key,
    bounded_details,
    capped_links,
    clip_description,
    clip_title,
    require_body,
    severity_from,
    text_of,
    timestamp_of,
    web_link,
    without_blanks,
)
from chalicelib.domain.errors import InvalidInput

BODY_TEMPLATE = """\
{
  "rule": {
    "id": "{{rule.id}}",
    "name": "{{rule.name}}",
    "tags": "{{rule.tags}}",
    "url": "{{rule.url}}"
  },
  "alert": {
    "id": "{{alert.id}}",
    "actionGroup": "{{alert.actionGroup}}",
    "actionGroupName": "{{alert.actionGroupName}}",
    "flapping": "{{alert.flapping}}"
  },
  "context": {
    "reason": "{{context.reason}}",
    "alertDetailsUrl": "{{context.alertDetailsUrl}}"
  },
  "date": "{{date}}",
  "kibanaBaseUrl": "{{kibanaBaseUrl}}"
}
"""

RECOVERED = "recovered"  # the action group Kibana runs when an alert stops


def parse_connector_body(body: Any) -> Alert:
    body = require_body(body)
    rule, alert, context = (_section(body, name) for name in ("rule", "alert", "context"))
    rule_id = _identifier(rule.get("id"), "rule.id")
    alert_id = _identifier(alert.get("id"), "alert.id")
    name = text_of(rule.get("name"))
    # A rule without groups names its one alert after itself or "query matched": say it once.
    title = f"{name}: {alert_id}" if name and alert_id not in (rule_id, name) else name or alert_id
    # Unset variables render as "" (rule.url without server.publicBaseUrl, say): left out.
    details = {
        **body,
        "rule": without_blanks({**rule, "tags": _tags(rule.get("tags"))}),
        "alert": without_blanks({**alert, "flapping": _flag(alert.get("flapping"))}),
        "context": without_blanks({key: value for key, value in context.items() if key != "reason"}),
    }
    return Alert(
        action=AlertAction.RESOLVE if text_of(alert.get("actionGroup")) == RECOVERED else AlertAction.TRIGGER,
        dedup_key=bounded_dedup_key(f"{rule_id}:{alert_id}"),
        title=clip_title(title),
        description=clip_description(text_of(context.get("reason"))),
        severity=severity_from(body.get("severity")),
        details=bounded_details(without_blanks(details)),
        links=capped_links(
            [web_link(context.get("alertDetailsUrl"), "Alert details"), web_link(rule.get("url"), "Rule")]
        ),
        occurred_at=timestamp_of(body.get("date")),
    )


def _section(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput("must be an object", field=name)
    return value


def _identifier(value: Any, field: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInput("is required", field=field)
    if not isinstance(value, str):
        raise InvalidInput("must be a string", field=field)
    if "{{" in value:
        # The template sent without rendering (a connector test, a curl of the README's example).
        raise InvalidInput("must be filled in by a Kibana rule action, not a {{placeholder}}", field=field)
    return value.strip()


def _tags(value: Any) -> list[str]:
    if isinstance(value, list):
        return [tag.strip() for tag in value if isinstance(tag, str) and tag.strip()]
    return [tag.strip() for tag in text_of(value).split(",") if tag.strip()]


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    return {"true": True, "false": False}.get(text_of(value).lower())
