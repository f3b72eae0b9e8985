"""Real-time events: tickets that open a socket, the connections of an org, the org event log and
pushing each event to the org's open sockets."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

from aws_lambda_powertools import Logger
from pynamodb.exceptions import PutError, UpdateError

from chalicelib.adapters.websocket_push import ConnectionGone
from chalicelib.domain import realtime as rules
from chalicelib.domain.clock import iso
from chalicelib.domain.errors import NotPermitted, Unauthenticated
from chalicelib.domain.realtime import Change, EventType, OrgEvent
from chalicelib.models.realtime import RealtimeConnection, RealtimeTicket, StoredOrgEvent
from chalicelib.security.tokens import hash_token, new_opaque_token
from chalicelib.settings import settings
from chalicelib.usecases.dynamo import condition_failed

logger = Logger(service="vigil", child=True, level=settings.log_level)

MAX_TICKET_LENGTH = 128
# Sends to one org's sockets run side by side; each is one HTTPS call to API Gateway.
MAX_PARALLEL_SENDS = 16


class Pusher(Protocol):
    def send(self, connection_id: str, frame: str) -> None:
        """Send one frame; raise ConnectionGone when the connection no longer exists."""


# ---- tickets and connections -----------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedTicket:
    ticket: str
    url: str
    expires_in: int

    def to_api(self) -> dict[str, Any]:
        return {"ticket": self.ticket, "url": self.url, "expires_in": self.expires_in}


def issue_ticket(org_id: str, user_id: str, *, now: int) -> IssuedTicket:
    """A single-use ticket for one connection to ``org_id``'s events; only its hash is stored."""
    ticket = new_opaque_token()
    RealtimeTicket(
        RealtimeTicket.key(hash_token(ticket)),
        org_id=org_id,
        user_id=user_id,
        expires_at=now + rules.TICKET_TTL_SECONDS,
    ).save(condition=RealtimeTicket.pk.does_not_exist())
    query = urlencode({"org_id": org_id, "ticket": ticket})
    return IssuedTicket(
        ticket=ticket, url=f"{settings.websocket_url}?{query}", expires_in=rules.TICKET_TTL_SECONDS
    )


def open_connection(ticket: str, *, connection_id: str, org_id: str | None, now: int) -> RealtimeConnection:
    """Spend ``ticket`` (one conditional write: it exists, is unused, unexpired and, when the client
    names an org, is that org's) and record the connection under the ticket's org.

    Unauthenticated (401) for a missing, unknown, used or expired ticket; NotPermitted (403) for a
    ticket of another org, which stays unspent.
    """
    if not ticket or len(ticket) > MAX_TICKET_LENGTH:
        raise Unauthenticated("connect with ?ticket= from POST /v1/orgs/{org_id}/realtime/tickets")
    item = RealtimeTicket(RealtimeTicket.key(hash_token(ticket)))
    condition = (
        RealtimeTicket.pk.exists()
        & RealtimeTicket.used_at.does_not_exist()
        & (RealtimeTicket.expires_at > now)
    )
    if org_id is not None:
        condition &= RealtimeTicket.org_id == org_id
    try:
        item.update(
            actions=[RealtimeTicket.used_at.set(now), RealtimeTicket.connection_id.set(connection_id)],
            condition=condition,
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        raise _ticket_refusal(item.pk, org_id=org_id, now=now) from exc
    connection = RealtimeConnection(
        item.org_id,
        connection_id,
        user_id=item.user_id,
        connected_at=now,
        expires_at=now + rules.CONNECTION_TTL_SECONDS,
    )
    connection.save()
    return connection


def _ticket_refusal(key: str, *, org_id: str | None, now: int) -> Exception:
    """Why a ticket was refused, read only once the conditional write has failed."""
    try:
        ticket = RealtimeTicket.get(key, consistent_read=True)
    except RealtimeTicket.DoesNotExist:
        return Unauthenticated("unknown ticket")
    if ticket.used_at is not None:
        return Unauthenticated("this ticket was used already; ask for a new one")
    if ticket.expires_at <= now:
        return Unauthenticated("this ticket has expired; ask for a new one")
    if org_id is not None and ticket.org_id != org_id:
        return NotPermitted("this ticket is for another organization")
    return Unauthenticated("this ticket cannot be used")


def close_connection(connection_id: str) -> int:
    """Forget a connection (`$disconnect` knows only its id); returns how many rows went."""
    removed = 0
    for key in RealtimeConnection.by_connection.query(connection_id):
        RealtimeConnection(key.org_id, key.connection_id).delete()
        removed += 1
    return removed


# ---- the event log and pushing -----------------------------------------------------------------------


def record_and_push(org_id: str, *, seq: str, at: int, change: Change, pusher: Pusher) -> OrgEvent:
    """Write the event once (a replayed stream record finds it written and pushes it again; clients
    drop a `seq` they have seen) and send it to every open socket of the org."""
    event = OrgEvent(org_id=org_id, seq=seq, type=change.type, at=iso(at), data=change.data)
    stored = StoredOrgEvent(
        org_id,
        seq,
        type=change.type.value,
        at=at,
        data=json.dumps(change.data, separators=(",", ":")),
        expires_at=at + rules.EVENT_RETENTION_SECONDS,
    )
    try:
        stored.save(condition=StoredOrgEvent.seq.does_not_exist())
    except PutError as exc:
        if not condition_failed(exc):
            raise
    push(event, pusher)
    return event


@dataclass(frozen=True)
class PushOutcome:
    sent: int
    gone: int
    failed: int


def push(event: OrgEvent, pusher: Pusher) -> PushOutcome:
    """Send ``event`` to the org's connections. A gone connection is deleted; any other failure is
    logged and skipped (that client catches up through GET .../events), never raised."""
    connections = list(RealtimeConnection.query(event.org_id))
    if not connections:
        return PushOutcome(sent=0, gone=0, failed=0)
    text = rules.frame(event)

    def send(connection: RealtimeConnection) -> str:
        try:
            pusher.send(connection.connection_id, text)
        except ConnectionGone:
            _forget(connection)
            return "gone"
        except Exception as error:  # one bad socket never stops the others
            logger.warning(
                "push failed",
                extra={"connection_id": connection.connection_id, "seq": event.seq, "error": str(error)},
            )
            return "failed"
        return "sent"

    if len(connections) == 1:
        results = [send(connections[0])]
    else:
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_SENDS, len(connections))) as pool:
            results = list(pool.map(send, connections))
    return PushOutcome(sent=results.count("sent"), gone=results.count("gone"), failed=results.count("failed"))


def _forget(connection: RealtimeConnection) -> None:
    try:
        connection.delete()
    except Exception as error:  # TTL removes it later anyway
        logger.warning("could not delete a gone connection", extra={"error": str(error)})


@dataclass(frozen=True)
class EventPage:
    items: list[OrgEvent]
    next_cursor: str | None  # the seq to pass as `after` for the next page


def list_events(org_id: str, *, after: str | None, limit: int) -> EventPage:
    """The org's events after ``after`` (a seq), oldest first."""
    condition = StoredOrgEvent.seq > after if after else None
    found = list(
        StoredOrgEvent.query(org_id, condition, scan_index_forward=True, limit=limit + 1, page_size=limit + 1)
    )
    items = [_from_stored(item) for item in found[:limit]]
    next_cursor = items[-1].seq if len(found) > limit else None
    return EventPage(items=items, next_cursor=next_cursor)


def _from_stored(item: StoredOrgEvent) -> OrgEvent:
    return OrgEvent(
        org_id=item.org_id,
        seq=item.seq,
        type=EventType(item.type),
        at=iso(item.at),
        data=json.loads(item.data),
    )
