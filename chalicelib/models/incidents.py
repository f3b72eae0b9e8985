"""Incidents. Table ``incidents``: hash ``org_id``, range ``incident_id`` (a ULID,
so range order is creation order). GSIs ``by-status`` (``<org_id>#<status>``)
and ``by-service`` (``<org_id>#<service_id>``) serve the list filters with a
Query. The stream (new and old images) drives escalation and notifications.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.settings import settings


class IncidentsByStatus(GlobalSecondaryIndex["Incident"]):
    class Meta:
        index_name = "by-status"
        projection = AllProjection()

    org_status = UnicodeAttribute(hash_key=True)
    incident_id = UnicodeAttribute(range_key=True)


class IncidentsByService(GlobalSecondaryIndex["Incident"]):
    class Meta:
        index_name = "by-service"
        projection = AllProjection()

    service_key = UnicodeAttribute(hash_key=True)
    incident_id = UnicodeAttribute(range_key=True)


class Incident(Model):
    class Meta:
        table_name = settings.table("incidents")
        region = settings.region

    org_id = UnicodeAttribute(hash_key=True)
    incident_id = UnicodeAttribute(range_key=True)
    title = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    severity = UnicodeAttribute()
    status = UnicodeAttribute()
    category = UnicodeAttribute(default="other")
    source = UnicodeAttribute()
    service_id = UnicodeAttribute(null=True)
    dedup_key = UnicodeAttribute(null=True)
    assignee_id = UnicodeAttribute(null=True)
    alert_count = NumberAttribute(default=0)
    created_at = NumberAttribute()
    acknowledged_at = NumberAttribute(null=True)
    resolved_at = NumberAttribute(null=True)
    resolution_note = UnicodeAttribute(null=True)
    escalation = MapAttribute[str, Any](null=True)
    version = NumberAttribute(default=0)

    org_status = UnicodeAttribute()
    service_key = UnicodeAttribute(null=True)

    by_status = IncidentsByStatus()
    by_service = IncidentsByService()

    @staticmethod
    def status_key(org_id: str, status: str) -> str:
        return f"{org_id}#{status}"
