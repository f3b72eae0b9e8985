"""Escalation policies of an organization.

Table ``escalation-policies``: hash ``org_id``, range ``policy_id`` (a ULID, so range order is
creation order, which is also the order in which policies are tried on a new incident).

One more item lives in each org's partition: ``DefaultPolicyMarker`` under the range key
``~default``, which sorts after every ULID. It names the org's default policy and carries a
``version``; every change of the default writes it with a condition on that version, in the same
transaction as the ``is_default`` flags, so two racing requests cannot leave two defaults.
Queries for policies stop below it (``policy_id < DEFAULT_MARKER``).
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.models import Model

from chalicelib.settings import settings

DEFAULT_MARKER = "~default"  # '~' sorts after the digits and capitals of every ULID


class TargetMap(MapAttribute[str, str]):
    """``type`` and the one field that type uses: id, role, address, number or url."""

    type = UnicodeAttribute()
    id = UnicodeAttribute(null=True)
    role = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)
    number = UnicodeAttribute(null=True)
    url = UnicodeAttribute(null=True)


class StepMap(MapAttribute[str, object]):
    delay_minutes = NumberAttribute()
    targets = ListAttribute(of=TargetMap)


class MatchMap(MapAttribute[str, object]):
    min_severity = UnicodeAttribute(default="low")
    service_ids = ListAttribute(of=UnicodeAttribute, default=list)


class EscalationPolicy(Model):
    class Meta:
        table_name = settings.table("escalation-policies")
        region = settings.region

    org_id = UnicodeAttribute(hash_key=True)
    policy_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    is_default = BooleanAttribute(default=False)
    repeat = NumberAttribute(default=0)
    match = MatchMap(null=True)  # null: chosen only as a service's policy or as the default
    steps = ListAttribute(of=StepMap)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    version = NumberAttribute(default=0)


class DefaultPolicyMarker(Model):
    """Which policy is the org's default; written on every change of it (see the module doc)."""

    class Meta:
        table_name = settings.table("escalation-policies")
        region = settings.region

    org_id = UnicodeAttribute(hash_key=True)
    policy_id = UnicodeAttribute(range_key=True, default=DEFAULT_MARKER)
    default_policy_id = UnicodeAttribute(null=True)
    version = NumberAttribute(default=0)
