"""Maintenance windows of an organization.

Table ``maintenance-windows``: hash ``org_id``, range ``window_id`` (a ULID). An org's windows are
read with one Query (the checker, the alert consumer and the metrics fold ask about them).

The sparse GSI ``by-next-change`` (hash ``sweep``, always ``"due"`` while set; range
``next_change_at``) holds the next instant at which the window starts or ends an occurrence; the
minute sweep queries it for what is due and moves the services in or out of ``maintenance``.
A window with no occurrence left drops out of the index, and its item expires (TTL) 30 days later.
"""

from __future__ import annotations

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.settings import settings

SWEEP_DUE = "due"


class WindowsByNextChange(GlobalSecondaryIndex["MaintenanceWindowRecord"]):
    class Meta:
        index_name = "by-next-change"
        projection = KeysOnlyProjection()

    sweep = UnicodeAttribute(hash_key=True)
    next_change_at = NumberAttribute(range_key=True)


class EndedEarlyMap(MapAttribute[str, int]):
    occurrence_starts_at = NumberAttribute()
    ended_at = NumberAttribute()


class MaintenanceWindowRecord(Model):
    class Meta:
        table_name = settings.table("maintenance-windows")
        region = settings.region

    org_id = UnicodeAttribute(hash_key=True)
    window_id = UnicodeAttribute(range_key=True)
    title = UnicodeAttribute()
    starts_at = NumberAttribute()
    duration_seconds = NumberAttribute()
    recurrence = UnicodeAttribute(null=True)
    timezone = UnicodeAttribute(default="UTC")
    service_ids = UnicodeSetAttribute(default=set)  # empty: every service of the org
    ended_early = ListAttribute(of=EndedEarlyMap, default=list)
    suppressed_alerts = NumberAttribute(default=0)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    created_by = UnicodeAttribute(null=True)
    version = NumberAttribute(default=0)

    # Present only while an occurrence is still to start or end (sparse index).
    sweep = UnicodeAttribute(null=True)
    next_change_at = NumberAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # TTL, set once the window has no occurrence left

    by_next_change = WindowsByNextChange()
