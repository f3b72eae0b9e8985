"""Integrations: where other tools send their alerts, and what their alerts have opened.

Table ``integrations``: hash ``org_id``, range ``integration_id`` (a ULID: creation order). Lists
an org's integrations with one Query.

Table ``ingest-keys``: hash ``key_hash`` (SHA-256 of the key, hex). The only way from a key to its
integration: ingest reads it with one consistent GetItem, and deleting the integration deletes it
in the same transaction, so a revoked key stops working at once. The key itself is never stored.
The item repeats what ingest needs (org, type, default severity, service) so that one read is all.

Table ``alert-dedup``: hash ``dedup_id`` (``<integration_id>#<sha256 of the dedup key>``). Names
the incident that a dedup key of an integration groups into; ingest claims it with a conditional
write, so two concurrent triggers of one key agree on one incident. An entry may name an incident
that was resolved since (by a person, or by a later alert): the next trigger then claims a new one.
TTL (``expires_at``) removes entries nobody triggered for a long time.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.settings import settings


class Integration(Model):
    class Meta:
        table_name = settings.table("integrations")
        region = settings.region

    org_id = UnicodeAttribute(hash_key=True)
    integration_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    type = UnicodeAttribute()
    severity = UnicodeAttribute()
    service_id = UnicodeAttribute(null=True)
    key_hash = UnicodeAttribute()
    key_hint = UnicodeAttribute()  # the key's last characters, so people can tell keys apart
    created_at = NumberAttribute()
    created_by = UnicodeAttribute(null=True)


class IngestKey(Model):
    class Meta:
        table_name = settings.table("ingest-keys")
        region = settings.region

    key_hash = UnicodeAttribute(hash_key=True)
    org_id = UnicodeAttribute()
    integration_id = UnicodeAttribute()
    name = UnicodeAttribute()
    type = UnicodeAttribute()
    severity = UnicodeAttribute()
    service_id = UnicodeAttribute(null=True)


class AlertDedup(Model):
    class Meta:
        table_name = settings.table("alert-dedup")
        region = settings.region

    dedup_id = UnicodeAttribute(hash_key=True)
    org_id = UnicodeAttribute()
    incident_id = UnicodeAttribute()
    dedup_key = UnicodeAttribute()
    updated_at = NumberAttribute()
    expires_at = NumberAttribute()
