"""The served certificate of an https service: store the day's reading, and move its incident.

Read at most once a day per service (the checker asks domain/tls.certificate_read_due and the
prober does a handshake of its own), so a steady check costs no extra write: only the reading
itself writes, in one transaction with whatever it does to the certificate's incident. One
incident per certificate: it opens at the first threshold reached, later thresholds raise its
severity (a ``severity_changed`` entry), and a renewed certificate resolves it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aws_lambda_powertools import Logger
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.safe_connections import Certificate
from chalicelib.domain import tls, transitions
from chalicelib.domain.clock import iso
from chalicelib.domain.ids import new_id
from chalicelib.domain.incidents import Status
from chalicelib.domain.tls import TlsAction
from chalicelib.domain.transitions import Source
from chalicelib.models.incidents import Incident
from chalicelib.models.services import Service
from chalicelib.settings import settings
from chalicelib.usecases import incidents
from chalicelib.usecases.dynamo import condition_failed, transaction_connection

logger = Logger(service="vigil", child=True, level=settings.log_level)

RENEWED_NOTE = "the certificate was renewed"


def thresholds_of(service: Service) -> tuple[int, ...]:
    days = service.tls_thresholds()
    return tls.DEFAULT_TLS_EXPIRY_DAYS if days is None else tuple(sorted(days, reverse=True))


def record_certificate(service: Service, certificate: Certificate, *, at: int) -> bool:
    """Store the reading on ``service`` (as the checker read it) and open, raise or resolve the
    certificate's incident, in one transaction conditioned on the previous reading: a redelivered
    job, or a second checker, writes nothing. False when nothing was written."""
    days_left = tls.days_remaining(certificate.not_after, at)
    incident_id = service.tls_incident_id
    incident = incidents.get_incident_or_none(service.org_id, incident_id) if incident_id else None
    handled = incident is not None and incident.status == Status.RESOLVED.value  # resolved by hand
    decision = tls.decide(days_left, thresholds_of(service), incident.severity if incident else None)
    host = urlsplit(service.url).hostname or service.url
    actions: list[Any] = [
        Service.tls.set(
            {
                "expires_at": certificate.not_after,
                "days_remaining": days_left,
                "issuer": certificate.issuer,
                "subject": certificate.subject,
            }
        ),
        Service.tls_read_at.set(at),
    ]
    previous = service.tls_read_at
    condition = Service.tls_read_at.does_not_exist() if previous is None else Service.tls_read_at == previous
    title = tls.incident_title(host, days_left)
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            if decision.action is TlsAction.OPEN or (decision.action is TlsAction.RAISE and handled):
                assert decision.severity is not None
                opened = _new_incident(service, certificate, title=title, severity=decision.severity, at=at)
                actions.append(Service.tls_incident_id.set(opened.incident_id))
                reason = f"{days_left} days left (threshold {decision.threshold})"
                incidents.add_transition(
                    tx, opened, transitions.opened(Source.MONITOR, reason=reason), at=at, actor_id=None
                )
            elif decision.action is TlsAction.RAISE and incident is not None:
                assert decision.severity is not None
                change = transitions.severity_raised(
                    {"severity": incident.severity},
                    severity=decision.severity,
                    title=title,
                    reason=f"{days_left} days left (threshold {decision.threshold})",
                )
                incidents.add_transition(tx, incident, change, at=at, actor_id=None)
            elif decision.action is TlsAction.RESOLVE and incident is not None:
                actions.append(Service.tls_incident_id.remove())
                if not handled:
                    change = transitions.resolve(Status(incident.status), now=at, note=RENEWED_NOTE)
                    incidents.add_transition(tx, incident, change, at=at, actor_id=None)
            tx.update(service, actions=actions, condition=condition)
    except TransactWriteError as exc:
        if not condition_failed(exc):
            raise
        logger.info("certificate reading already recorded", extra={"service_id": service.service_id})
        return False
    if decision.action is not TlsAction.NONE:
        logger.info(
            "certificate incident moved",
            extra={"service_id": service.service_id, "action": decision.action.value, "days_left": days_left},
        )
    return True


def _new_incident(
    service: Service, certificate: Certificate, *, title: str, severity: str, at: int
) -> Incident:
    return incidents.new_open_incident(
        service.org_id,
        new_id(now_ms=at * 1000),
        title=title,
        description=(
            f"The certificate {service.url} serves ({certificate.subject}, issued by {certificate.issuer}) "
            f"expires at {iso(certificate.not_after)}: renew it. A renewed certificate resolves this."
        ),
        severity=severity,
        category="network",
        source=Source.MONITOR.value,
        service_id=service.service_id,
        service_policy_id=service.escalation_policy_id,
        dedup_key=f"tls:{service.service_id}",
        dedup_indexed=True,
        alert_count=0,
        created_at=at,
    )
