"""Which parser reads an integration's native body (what ``POST /v1/alerts/{key}`` receives)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.domain.alerts import Alert, alertmanager, elastic, generic, grafana, pagerduty

_PARSERS: dict[str, Callable[[Any], list[Alert]]] = {
    "generic": lambda body: [generic.parse_body(body)],
    "pagerduty": lambda body: [pagerduty.parse_event(body)],
    "alertmanager": alertmanager.parse_webhook,
    "grafana": grafana.parse_webhook,
    "elastic": lambda body: [elastic.parse_connector_body(body)],
}


def parse_native(integration_type: str, body: Any) -> list[Alert]:
    """The alerts in ``body``; InvalidInput naming the field when it cannot be read.

    Not for ``cloudwatch``: its body is an SNS envelope, opened (and confirmed) before
    ``cloudwatch.parse_alarm`` reads the alarm in its ``Message``.
    """
    parser = _PARSERS.get(integration_type)
    if parser is None:
        raise ValueError(f"no native body parser for integration type {integration_type!r}")
    return parser(body)
