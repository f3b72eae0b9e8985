"""Incidents and their timelines.

Table ``incidents``: hash ``org_id``, range ``incident_id`` (a ULID, so range
order is creation order). GSIs ``by-status`` (``<org_id>#<status>``) and
``by-service`` (``<org_id>#<service_id>``) serve the list filters with a Query;
sparse ``by-dedup`` (``<org_id>#<dedup_key>``, while not resolved) finds the
open incident of a dedup key; sparse ``by-due`` (``due_partition``, ``due_at``)
finds incidents with something due (an escalation step, the end of a snooze).
The stream (new and old images) drives escalation and notifications.

Table ``incident-events``: hash ``incident_key`` (``<org_id>#<incident_id>``),
range ``event_id`` (a ULID: oldest first). Each entry is written in the same
transaction as the change it records.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
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


class IncidentsByDedupKey(GlobalSecondaryIndex["Incident"]):
    class Meta:
        index_name = "by-dedup"
        projection = KeysOnlyProjection()

    org_dedup = UnicodeAttribute(hash_key=True)
    incident_id = UnicodeAttribute(range_key=True)


class IncidentsByDue(GlobalSecondaryIndex["Incident"]):
    class Meta:
        index_name = "by-due"
        projection = KeysOnlyProjection()

    due_partition = UnicodeAttribute(hash_key=True)
    due_at = NumberAttribute(range_key=True)


DUE_PARTITION = "due"


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
    integration_id = UnicodeAttribute(null=True)  # the integration whose alert opened it
    assignee_id = UnicodeAttribute(null=True)
    alert_count = NumberAttribute(default=0)
    created_at = NumberAttribute()
    acknowledged_at = NumberAttribute(null=True)
    resolved_at = NumberAttribute(null=True)
    resolution_note = UnicodeAttribute(null=True)
    snoozed_until = NumberAttribute(null=True)
    # Escalation: the policy as it was when the incident triggered, the last step fired (level)
    # and the next one with its due time.
    esc_policy = MapAttribute[str, Any](null=True)
    esc_level = NumberAttribute(null=True)
    esc_level_loop = NumberAttribute(null=True)
    esc_next_step = NumberAttribute(null=True)
    esc_next_loop = NumberAttribute(null=True)
    esc_next_at = NumberAttribute(null=True)
    version = NumberAttribute(default=0)

    org_status = UnicodeAttribute()
    service_key = UnicodeAttribute(null=True)
    org_dedup = UnicodeAttribute(null=True)
    due_partition = UnicodeAttribute(null=True)
    due_at = NumberAttribute(null=True)

    by_status = IncidentsByStatus()
    by_service = IncidentsByService()
    by_dedup = IncidentsByDedupKey()
    by_due = IncidentsByDue()

    @staticmethod
    def status_key(org_id: str, status: str) -> str:
        return f"{org_id}#{status}"

    @staticmethod
    def dedup_index_key(org_id: str, dedup_key: str) -> str:
        return f"{org_id}#{dedup_key}"

    @property
    def key(self) -> str:
        return f"{self.org_id}#{self.incident_id}"


class IncidentEvent(Model):
    class Meta:
        table_name = settings.table("incident-events")
        region = settings.region

    incident_key = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True)
    at = NumberAttribute()
    type = UnicodeAttribute()
    actor_id = UnicodeAttribute(null=True)
    data = MapAttribute[str, Any](default=dict)
