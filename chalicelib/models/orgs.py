"""Organizations, their members and pending invitations.

Tables: ``orgs`` (hash ``org_id``); ``memberships`` (hash ``org_id``, range
``user_id``, GSI ``by-user``); ``invitations`` (hash ``org_id``, range
``email``, GSI ``by-email``, TTL ``expires_at``). Every org-scoped item is
keyed under its org. ``Org.admin_count`` moves in the same transaction as a
role change, so no race can leave an org without an admin.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.settings import settings


class Org(Model):
    class Meta:
        table_name = settings.table("orgs")
        region = settings.region

    org_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    slug = UnicodeAttribute()
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()
    admin_count = NumberAttribute(default=1)


class MembershipsByUser(GlobalSecondaryIndex["Membership"]):
    class Meta:
        index_name = "by-user"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    org_id = UnicodeAttribute(range_key=True)


class Membership(Model):
    class Meta:
        table_name = settings.table("memberships")
        region = settings.region

    org_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)
    role = UnicodeAttribute()
    joined_at = NumberAttribute()

    by_user = MembershipsByUser()


class InvitationsByEmail(GlobalSecondaryIndex["Invitation"]):
    class Meta:
        index_name = "by-email"
        projection = AllProjection()

    email = UnicodeAttribute(hash_key=True)
    org_id = UnicodeAttribute(range_key=True)


class Invitation(Model):
    class Meta:
        table_name = settings.table("invitations")
        region = settings.region

    org_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(range_key=True)
    role = UnicodeAttribute()
    invited_by = UnicodeAttribute()
    created_at = NumberAttribute()
    expires_at = NumberAttribute()

    by_email = InvitationsByEmail()
