"""Grafana unified alerting's webhook: Alertmanager's shape plus ``orgId``, ``title``, ``state``,
``message`` and, per alert, ``valueString``, ``values`` and links to the dashboard, panel and
silence page. Each alert is read as Alertmanager's is (one per ``fingerprint``).
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.alerts import Alert, text_of, web_link
from chalicelib.domain.alerts.alertmanager import alert_from, read_webhook


def parse_webhook(body: Any) -> list[Alert]:
    body, items = read_webhook(body)
    # The notification's title ("[FIRING:2] HighCPU (blue)") names the group; an alert's own wins.
    default_title = text_of(body.get("title")) or "Grafana alert"
    return [
        alert_from(
            item,
            body,
            default_title=default_title,
            home="Grafana",
            more_links=(
                web_link(item.get("dashboardURL"), "Dashboard"),
                web_link(item.get("panelURL"), "Panel"),
                web_link(item.get("imageURL"), "Image"),
                web_link(item.get("silenceURL"), "Silence"),
            ),
            more_details={"valueString": item.get("valueString"), "values": item.get("values")},
        )
        for item in items
    ]
