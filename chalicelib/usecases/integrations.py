"""Integrations: create (the key is shown once), list (keys masked), delete (the key dies at once),
and the lookup that authenticates an ingest request by its key.

A key is 32 random bytes, written as 64 hex characters (safe in a URL path and in every tool's
"routing key" field). Only its SHA-256 is stored: a key has 256 bits of entropy, so a fast hash
is as good as a slow one, and ingest pays one GetItem per request.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from aws_lambda_powertools import Logger
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.alerts import INTEGRATION_TYPES
from chalicelib.domain.clock import now_seconds
from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.domain.ids import new_id
from chalicelib.domain.incidents import SEVERITIES
from chalicelib.models.integrations import IngestKey, Integration
from chalicelib.models.services import Service
from chalicelib.settings import settings
from chalicelib.usecases.dynamo import condition_failed, transaction_connection
from chalicelib.usecases.pagination import Page, fetch_page

logger = Logger(service="vigil", child=True, level=settings.log_level)

KEY_BYTES = 32
KEY_HINT_CHARS = 4
DEFAULT_SEVERITY = "high"
_KEY_SHAPE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class NewIntegration:
    integration: Integration
    key: str  # shown once, in the answer to the request that created it


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def masked(hint: str) -> str:
    return "…" + hint


def ingest_url(key: str) -> str:
    return f"{settings.public_url}/v1/alerts/{key}"


def create_integration(
    org_id: str,
    *,
    actor_id: str,
    name: str,
    type: str,
    service_id: str | None,
    severity: str | None,
) -> NewIntegration:
    if type not in INTEGRATION_TYPES:
        raise InvalidInput(f"must be one of {', '.join(INTEGRATION_TYPES)}", field="type")
    severity = severity or DEFAULT_SEVERITY
    if severity not in SEVERITIES:
        raise InvalidInput(f"must be one of {', '.join(SEVERITIES)}", field="severity")
    if service_id is not None and not _service_exists(org_id, service_id):
        raise InvalidInput("is not a service of this organization", field="service_id")
    key = secrets.token_hex(KEY_BYTES)
    hashed = key_hash(key)
    integration = Integration(
        org_id,
        new_id(),
        name=name,
        type=type,
        severity=severity,
        service_id=service_id,
        key_hash=hashed,
        key_hint=key[-KEY_HINT_CHARS:],
        created_at=now_seconds(),
        created_by=actor_id,
    )
    lookup = IngestKey(
        hashed,
        org_id=org_id,
        integration_id=integration.integration_id,
        name=name,
        type=type,
        severity=severity,
        service_id=service_id,
    )
    with TransactWrite(connection=transaction_connection()) as tx:
        tx.save(integration, condition=Integration.integration_id.does_not_exist())
        tx.save(lookup, condition=IngestKey.key_hash.does_not_exist())
    logger.info(
        "integration created",
        extra={"org_id": org_id, "integration_id": integration.integration_id, "type": type},
    )
    return NewIntegration(integration=integration, key=key)


def _service_exists(org_id: str, service_id: str) -> bool:
    try:
        Service.get(org_id, service_id, attributes_to_get=["service_id"])
    except DoesNotExist:
        return False
    return True


def list_integrations(org_id: str, *, limit: int, cursor: str | None) -> Page[Integration]:
    """Oldest first, like the setup they describe."""
    return fetch_page(
        lambda **kw: Integration.query(org_id, **kw),
        limit=limit,
        cursor=cursor,
        scope=f"integrations:{org_id}",
    )


def get_integration(org_id: str, integration_id: str) -> Integration:
    try:
        return Integration.get(org_id, integration_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound("integration not found") from exc


def delete_integration(org_id: str, integration_id: str) -> None:
    """The integration and its key go in one transaction: the next request with the key gets 404.
    Incidents it opened stay, and can still be resolved by people."""
    integration = get_integration(org_id, integration_id)
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.delete(integration, condition=Integration.integration_id.exists())
            tx.delete(IngestKey(integration.key_hash))
    except TransactWriteError as exc:
        if condition_failed(exc):
            raise NotFound("integration not found") from exc
        raise
    logger.info("integration deleted", extra={"org_id": org_id, "integration_id": integration_id})


def integration_for_key(key: str) -> IngestKey:
    """The integration a key belongs to (a consistent read: a deleted key is refused at once)."""
    if not _KEY_SHAPE.match(key):
        raise NotFound("no integration has this key")
    try:
        return IngestKey.get(key_hash(key), consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound("no integration has this key") from exc


def delete_all_integrations(org_id: str) -> None:
    """A deleted org's keys stop working: its ingest keys go with its integrations."""
    with Integration.batch_write() as integrations, IngestKey.batch_write() as keys:
        for integration in Integration.query(org_id):
            keys.delete(IngestKey(integration.key_hash))
            integrations.delete(integration)
