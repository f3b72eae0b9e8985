"""Prometheus Alertmanager's webhook (version 4): one notification carries a group of alerts.

Each element of ``alerts`` becomes one ``Alert`` keyed on its ``fingerprint`` (Alertmanager's hash
of the alert's labels, the same in every notification about it), so a repeat notification adds to
what the first one opened and ``resolved`` closes it. Grafana's unified alerting sends the same
shape with a few more fields; ``grafana`` reuses ``read_webhook`` and ``alert_from``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from chalicelib.domain.alerts import (
    Alert,
    AlertAction,
    Link,
    bounded_dedup_key,
    bounded_details,
    capped_links,
    clip,
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
from chalicelib.domain.incidents import TITLE_MAX

STATUSES = {"firing": AlertAction.TRIGGER, "resolved": AlertAction.RESOLVE}


def parse_webhook(body: Any) -> list[Alert]:
    body, items = read_webhook(body)
    return [alert_from(item, body, default_title="Alertmanager alert", home="Alertmanager") for item in items]


def read_webhook(body: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The body and its alerts, each checked to be an object with a known status and labels.

    Any ``version`` is read the same way: only the shape matters.
    """
    body = require_body(body)
    items = body.get("alerts")
    if items is None:
        raise InvalidInput("is required", field="alerts")
    if not isinstance(items, list):
        raise InvalidInput("must be a list", field="alerts")
    for index, item in enumerate(items):
        where = f"alerts[{index}]"
        if not isinstance(item, dict):
            raise InvalidInput("must be an object", field=where)
        status = item.get("status")
        if status is None:
            raise InvalidInput("is required", field=f"{where}.status")
        if not isinstance(status, str) or status not in STATUSES:
            raise InvalidInput(f"must be one of {', '.join(STATUSES)}", field=f"{where}.status")
        if item.get("labels") is None:
            raise InvalidInput("is required", field=f"{where}.labels")
        if not isinstance(item["labels"], dict):
            raise InvalidInput("must be an object", field=f"{where}.labels")
        if not isinstance(item.get("annotations") or {}, dict):
            raise InvalidInput("must be an object", field=f"{where}.annotations")
    return body, items


def alert_from(
    item: dict[str, Any],
    body: dict[str, Any],
    *,
    default_title: str,
    home: str,
    more_links: Iterable[Link | None] = (),
    more_details: dict[str, Any] | None = None,
) -> Alert:
    """One alert of a checked webhook body; ``home`` names the tool ``externalURL`` points to."""
    labels: dict[str, Any] = item["labels"]
    annotations: dict[str, Any] = item.get("annotations") or {}
    action = STATUSES[item["status"]]
    starts_at = _time(item.get("startsAt"))
    ends_at = _time(item.get("endsAt"))
    details = {
        "labels": labels,
        "annotations": annotations,
        "startsAt": starts_at,
        "endsAt": ends_at,
        "groupKey": body.get("groupKey"),
        "receiver": body.get("receiver"),
        **(more_details or {}),
    }
    return Alert(
        action=action,
        dedup_key=bounded_dedup_key(text_of(item.get("fingerprint")) or labels_key(labels)),
        title=_title(labels, annotations, default_title),
        description=clip_description(
            text_of(annotations.get("description")) or text_of(annotations.get("message"))
        ),
        severity=severity_from(labels.get("severity")),
        source=clip(text_of(labels.get("instance")) or text_of(labels.get("job")), TITLE_MAX) or None,
        details=bounded_details(without_blanks(details)),
        links=capped_links(
            [
                web_link(item.get("generatorURL"), "Source"),
                web_link(body.get("externalURL"), home),
                web_link(annotations.get("runbook_url"), "Runbook"),
                *more_links,
            ]
        ),
        occurred_at=(ends_at if action is AlertAction.RESOLVE else None) or starts_at,
    )


def labels_key(labels: dict[str, Any]) -> str:
    """A stable key for an alert that came without a fingerprint: its labels identify it."""
    canonical = json.dumps(labels, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "labels:" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _title(labels: dict[str, Any], annotations: dict[str, Any], default_title: str) -> str:
    written = text_of(annotations.get("summary")) or text_of(annotations.get("title"))
    if written:
        return clip_title(written)
    name, instance = text_of(labels.get("alertname")), text_of(labels.get("instance"))
    if name:
        return clip_title(f"{name} on {instance}" if instance else name)
    return clip_title(default_title)


def _time(value: Any) -> str | None:
    # A firing alert's endsAt is Go's zero time, "0001-01-01T00:00:00Z": no time at all.
    text = timestamp_of(value)
    return None if text is None or text.startswith("0001-01-01") else text
