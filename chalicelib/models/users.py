"""Users and the claims that keep emails and slugs unique.

Tables: ``users`` (hash ``user_id``) and ``uniques`` (hash ``key``). A unique
value is claimed by putting ``email#<address>`` or ``slug#<slug>`` into
``uniques`` with ``attribute_not_exists`` in the same transaction as its owner.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import BooleanAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.settings import settings


class User(Model):
    class Meta:
        table_name = settings.table("users")
        region = settings.region

    user_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute()
    name = UnicodeAttribute(default="")
    password_hash = UnicodeAttribute()
    email_verified = BooleanAttribute(default=False)
    created_at = NumberAttribute()
    # Epoch milliseconds: tokens, access and refresh, issued before it are void (password change or reset).
    sessions_valid_after = NumberAttribute(default=0)
    # Logins ended by logout: {login id: ended at (epoch seconds)}, kept while an access token of
    # that login could still be presented. Every authenticated request reads these two attributes.
    ended_sessions = MapAttribute[str, Any](default=dict)


class UniqueClaim(Model):
    class Meta:
        table_name = settings.table("uniques")
        region = settings.region

    key = UnicodeAttribute(hash_key=True)
    owner_id = UnicodeAttribute()

    @staticmethod
    def email_key(email: str) -> str:
        return f"email#{email}"

    @staticmethod
    def slug_key(slug: str) -> str:
        return f"slug#{slug}"
