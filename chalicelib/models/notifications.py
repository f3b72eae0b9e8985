"""Notifications: one record per (incident, kind, step, loop, channel, target), queued -> sent | failed.

Table ``notifications``: hash ``incident_key`` (``<org_id>#<incident_id>``), range
``notification_id``, deterministic (see ``chalicelib.domain.notifications.notification_id``), so
writing one twice is a failed ``attribute_not_exists`` condition, not a second notification. The
record carries a snapshot of the incident (``summary``) and the ``reason``, so every retry says the
same thing. ``version`` goes up on every write; a delivery claims the record with a conditional write
on it and holds the claim until ``claimed_until``, so two copies of one SQS message send once.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.settings import settings

QUEUED = "queued"
SENT = "sent"
FAILED = "failed"
STATUSES = (QUEUED, SENT, FAILED)


def incident_key(org_id: str, incident_id: str) -> str:
    return f"{org_id}#{incident_id}"


class Notification(Model):
    class Meta:
        table_name = settings.table("notifications")
        region = settings.region

    incident_key = UnicodeAttribute(hash_key=True)
    notification_id = UnicodeAttribute(range_key=True)

    org_id = UnicodeAttribute()
    incident_id = UnicodeAttribute()
    channel = UnicodeAttribute()  # email | sms | webhook | slack
    target = UnicodeAttribute()  # the address, number or URL
    user_id = UnicodeAttribute(null=True)  # set when the target came from a user's preferences
    kind = UnicodeAttribute()  # escalation | acknowledged | resolved
    step = NumberAttribute(default=0)
    loop = NumberAttribute(default=0)
    reason = UnicodeAttribute(default="")  # "escalation step 2", "acknowledged by Ada"
    summary = MapAttribute[str, Any]()  # chalicelib.domain.notifications.IncidentSummary.to_dict()

    status = UnicodeAttribute(default=QUEUED)
    attempts = NumberAttribute(default=0)
    provider_id = UnicodeAttribute(null=True)  # SES/SNS message id, or the webhook's HTTP status
    error = UnicodeAttribute(null=True)  # the last error; kept when it finally failed
    created_at = NumberAttribute()
    sent_at = NumberAttribute(null=True)
    claimed_until = NumberAttribute(null=True)  # a delivery is sending it until then
    version = NumberAttribute(default=0)
