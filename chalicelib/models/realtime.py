"""Real-time events: tickets, open WebSocket connections and the org event log.

Tickets live in the ``auth`` table (hash ``pk`` = ``ticket#<sha256>``, TTL ``expires_at``) with the
other short-lived secrets: only the token's hash is stored, and `$connect` spends it with one
conditional UpdateItem.

Table ``connections``: hash ``org_id``, range ``connection_id`` (API Gateway's id), TTL
``expires_at`` (two hours, API Gateway's maximum). Pushing an org's event is one Query of its
partition; the keys-only GSI ``by-connection`` finds the row when `$disconnect`, which knows only
the connection id, removes it.

Table ``events``: hash ``org_id``, range ``seq`` (sorts in the order events happened), TTL
``expires_at`` (72 h); ``data`` is the JSON text of the object as the REST API shows it.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.settings import settings


class RealtimeTicket(Model):
    class Meta:
        table_name = settings.table("auth")
        region = settings.region

    pk = UnicodeAttribute(hash_key=True)  # ticket#<sha256 of the ticket>
    org_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    expires_at = NumberAttribute()
    used_at = NumberAttribute(null=True)
    connection_id = UnicodeAttribute(null=True)  # the connection it opened

    @staticmethod
    def key(ticket_hash: str) -> str:
        return f"ticket#{ticket_hash}"


class ConnectionsById(GlobalSecondaryIndex["RealtimeConnection"]):
    class Meta:
        index_name = "by-connection"
        projection = KeysOnlyProjection()

    connection_id = UnicodeAttribute(hash_key=True)


class RealtimeConnection(Model):
    class Meta:
        table_name = settings.table("connections")
        region = settings.region

    org_id = UnicodeAttribute(hash_key=True)
    connection_id = UnicodeAttribute(range_key=True)
    user_id = UnicodeAttribute()
    connected_at = NumberAttribute()
    expires_at = NumberAttribute()

    by_connection = ConnectionsById()


class StoredOrgEvent(Model):
    class Meta:
        table_name = settings.table("events")
        region = settings.region

    org_id = UnicodeAttribute(hash_key=True)
    seq = UnicodeAttribute(range_key=True)
    type = UnicodeAttribute()
    at = NumberAttribute()
    data = UnicodeAttribute()  # JSON text: the REST shape, kept as it was sent
    expires_at = NumberAttribute()
