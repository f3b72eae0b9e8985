"""How each user wants to be notified.

Table ``notification-preferences``: hash ``user_id``, range ``channel`` (email, sms, webhook,
slack). A channel without an item has its default: email on at the account's address, the others
off. ``address`` null on the email channel means the account's own address.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.settings import settings


class NotificationPreference(Model):
    class Meta:
        table_name = settings.table("notification-preferences")
        region = settings.region

    user_id = UnicodeAttribute(hash_key=True)
    channel = UnicodeAttribute(range_key=True)
    enabled = BooleanAttribute()
    address = UnicodeAttribute(null=True)
    min_severity = UnicodeAttribute(default="low")
    updated_at = NumberAttribute()
