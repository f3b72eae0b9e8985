"""Alerts from other tools, as one internal shape.

Each module of this package reads one tool's native payload (already decoded from JSON) and turns
it into ``Alert``s: ``pagerduty`` (Events API v2), ``alertmanager`` (webhook v4), ``grafana``
(unified alerting), ``cloudwatch`` (an alarm's JSON, as SNS delivers it in ``Message``),
``elastic`` (the Kibana webhook-connector body documented in README) and ``generic``. Parsers are
pure: no clock, no I/O. A payload they cannot read raises ``InvalidInput`` naming the field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.incidents import SEVERITIES, TEXT_MAX, TITLE_MAX

INTEGRATION_TYPES = ("generic", "pagerduty", "alertmanager", "grafana", "cloudwatch", "elastic")
DEDUP_KEY_MAX = 255  # PagerDuty's limit
DETAILS_MAX_BYTES = 16_384  # what one alert may add to the timeline
LINKS_MAX = 10
URL_MAX = 2048
TIMESTAMP_MAX = 64


class AlertAction(StrEnum):
    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class Link:
    href: str
    text: str = ""


@dataclass(frozen=True)
class Alert:
    """One event about one thing that is (or stopped being) wrong.

    ``dedup_key`` None on a trigger means "groups with nothing": ingest gives it a fresh key.
    ``severity`` None means "the payload does not say": the integration's default applies.
    """

    action: AlertAction
    dedup_key: str | None
    title: str = ""
    description: str = ""
    severity: str | None = None
    source: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    links: tuple[Link, ...] = ()
    occurred_at: str | None = None


# Read the same way from PagerDuty's `severity` and from Alertmanager/Grafana `labels.severity`.
_SEVERITY_WORDS = {
    "critical": "critical",
    "crit": "critical",
    "page": "critical",
    "fatal": "critical",
    "emergency": "critical",
    "p1": "critical",
    "sev1": "critical",
    "error": "high",
    "err": "high",
    "high": "high",
    "major": "high",
    "p2": "high",
    "sev2": "high",
    "warning": "medium",
    "warn": "medium",
    "medium": "medium",
    "moderate": "medium",
    "p3": "medium",
    "sev3": "medium",
    "info": "low",
    "informational": "low",
    "low": "low",
    "minor": "low",
    "notice": "low",
    "p4": "low",
    "p5": "low",
    "sev4": "low",
}


def severity_from(value: Any) -> str | None:
    """Our severity for a tool's word (PagerDuty critical/error/warning/info; labels also
    low/medium/high/critical and page); None for anything else (the integration's default then)."""
    if not isinstance(value, str):
        return None
    return _SEVERITY_WORDS.get(value.strip().lower())


def clip(text: str, limit: int) -> str:
    """Foreign payloads are not refused for a long text: it is cut, with an ellipsis."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def clip_title(text: str) -> str:
    return clip(" ".join(text.split()), TITLE_MAX)


def clip_description(text: str) -> str:
    return clip(text, TEXT_MAX)


def without_blanks(details: dict[str, Any]) -> dict[str, Any]:
    """The entries that say something: a payload's unset fields come as null, "", [] or {}."""
    return {name: value for name, value in details.items() if value not in (None, "", [], {})}


def bounded_details(details: dict[str, Any]) -> dict[str, Any]:
    """The details as given when they fit in DETAILS_MAX_BYTES of JSON; otherwise their JSON, cut."""
    encoded = json.dumps(details, ensure_ascii=False, default=str, separators=(",", ":"))
    if len(encoded.encode()) <= DETAILS_MAX_BYTES:
        return json.loads(encoded)  # plain JSON types only (no sets, dates or objects)
    return {"truncated": encoded.encode()[: DETAILS_MAX_BYTES - 64].decode(errors="ignore")}


def require_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("must be a JSON object", field="body")
    return body


def text_of(value: Any) -> str:
    """A payload's string, stripped; "" for anything else (foreign payloads put nulls anywhere)."""
    return value.strip() if isinstance(value, str) else ""


def timestamp_of(value: Any) -> str | None:
    """The tool's own timestamp string, as it wrote it; None when there is none worth keeping."""
    text = text_of(value)
    return text if text and len(text) <= TIMESTAMP_MAX else None


def bounded_dedup_key(key: str) -> str:
    """The key itself when it fits in DEDUP_KEY_MAX; otherwise a readable prefix and the sha256 of it all."""
    if len(key) <= DEDUP_KEY_MAX:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{key[: DEDUP_KEY_MAX - len(digest) - 1]}~{digest}"


def is_web_url(href: str) -> bool:
    try:
        parts = urlsplit(href)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc) and len(href) <= URL_MAX


def web_link(href: Any, text: str) -> Link | None:
    """A link when ``href`` is an http(s) URL: anything else (javascript:, data:) never reaches a page."""
    href = text_of(href)
    return Link(href=href, text=clip_title(text)) if is_web_url(href) else None


def capped_links(links: Iterable[Link | None]) -> tuple[Link, ...]:
    """The links that are there, each address once, at most LINKS_MAX."""
    kept: dict[str, Link] = {}
    for link in links:
        if link is not None and link.href not in kept and len(kept) < LINKS_MAX:
            kept[link.href] = link
    return tuple(kept.values())


__all__ = [
    "DEDUP_KEY_MAX",
    "INTEGRATION_TYPES",
    "LINKS_MAX",
    "SEVERITIES",
    "TIMESTAMP_MAX",
    "URL_MAX",
    "Alert",
    "AlertAction",
    "Link",
    "bounded_dedup_key",
    "bounded_details",
    "capped_links",
    "clip",
    "clip_description",
    "clip_title",
    "is_web_url",
    "require_body",
    "severity_from",
    "text_of",
    "timestamp_of",
    "web_link",
    "without_blanks",
]
