"""The closed vocabularies of Vigil, defined once: the domain checks against them and the API's
pydantic models (and so the OpenAPI document) enumerate them."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    """Incident and service severity, lowest first (the order escalation ``min_severity`` ranks)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class IncidentStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class Channel(StrEnum):
    """How a person is notified."""

    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"
    SLACK = "slack"


SEVERITIES: tuple[str, ...] = tuple(severity.value for severity in Severity)
INCIDENT_STATUSES: tuple[str, ...] = tuple(status.value for status in IncidentStatus)
CHANNELS: tuple[str, ...] = tuple(channel.value for channel in Channel)
