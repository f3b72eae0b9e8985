"""Monitored services: configuration and the state of their monitor.

Table ``services``: hash ``org_id``, range ``service_id``. The sparse GSI
``by-schedule`` (hash ``sched_interval``, range ``sched_offset``, keys only)
holds enabled HTTP services; the scheduler queries it per interval in use, which
the ``_scheduler`` item records. The sparse GSI ``by-deadline`` (hash
``deadline_partition``, range ``deadline_at``) holds the heartbeats that are up,
keyed by when they turn late; the overdue sweep queries it each minute. A
heartbeat's ping token is found through a ``PingTokenLookup`` item keyed by the
token's SHA-256 (one read for an unknown token). State moves by conditional writes on
``version``, so racing checkers and redeliveries agree on one transition.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    NumberSetAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.domain.heartbeats import DEFAULT_GRACE_SECONDS
from chalicelib.domain.service_config import DEFAULT_TIMEOUT_SECONDS, HTTP, ServiceConfig
from chalicelib.domain.tls import DEFAULT_TLS_EXPIRY_DAYS
from chalicelib.settings import settings

SCHEDULER_PARTITION = "_scheduler"  # not an org: the scheduler's own bookkeeping


class ServicesBySchedule(GlobalSecondaryIndex["Service"]):
    class Meta:
        index_name = "by-schedule"
        projection = KeysOnlyProjection()

    sched_interval = NumberAttribute(hash_key=True)
    sched_offset = NumberAttribute(range_key=True)


DEADLINE_PARTITION = "heartbeats"


class ServicesByDeadline(GlobalSecondaryIndex["Service"]):
    class Meta:
        index_name = "by-deadline"
        projection = KeysOnlyProjection()

    deadline_partition = UnicodeAttribute(hash_key=True)
    deadline_at = NumberAttribute(range_key=True)


class Service(Model):
    class Meta:
        table_name = settings.table("services")
        region = settings.region

    org_id = UnicodeAttribute(hash_key=True)
    service_id = UnicodeAttribute(range_key=True)

    name = UnicodeAttribute()
    type = UnicodeAttribute(default="http")  # "http" (probed) or "heartbeat" (pinged); never changes
    url = UnicodeAttribute(null=True)  # http only, like the other probe fields
    method = UnicodeAttribute(default="GET")
    interval_seconds = NumberAttribute(null=True)
    timeout_seconds = NumberAttribute(null=True)
    expected_status = UnicodeAttribute(default="200-399")
    keyword = UnicodeAttribute(null=True)
    failure_threshold = NumberAttribute(default=2)
    recovery_threshold = NumberAttribute(default=1)
    severity = UnicodeAttribute(default="high")
    escalation_policy_id = UnicodeAttribute(null=True)
    headers = MapAttribute[str, str](default=dict)
    enabled = BooleanAttribute(default=True)
    public = BooleanAttribute(default=False)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    created_by = UnicodeAttribute()
    # HTTP monitor options
    verify_tls = BooleanAttribute(default=True)
    tls_expiry_days = ListAttribute(of=NumberAttribute, null=True)  # None: the defaults (14, 7, 1)
    assertions = JSONAttribute(null=True)  # a list of assertion objects, as the API takes them

    # The monitor's state.
    status = UnicodeAttribute(default="pending")
    consecutive_failures = NumberAttribute(default=0)
    consecutive_successes = NumberAttribute(default=0)
    version = NumberAttribute(default=0)
    last_counted_at = NumberAttribute(default=0)  # scheduled time of the last check that moved the state
    down_since = NumberAttribute(null=True)
    open_incident_id = UnicodeAttribute(null=True)
    last_checked_at = NumberAttribute(null=True)  # written on transitions only; buckets have the rest
    status_before_maintenance = UnicodeAttribute(null=True)  # while status is "maintenance"
    # The served certificate (https only), written when read: at most once a day, never per check.
    tls = MapAttribute[str, Any](null=True)  # expires_at, days_remaining, issuer, subject
    tls_read_at = NumberAttribute(null=True)
    tls_incident_id = UnicodeAttribute(null=True)  # the certificate's incident, while one is open

    # Present only while enabled (sparse index).
    sched_interval = NumberAttribute(null=True)
    sched_offset = NumberAttribute(null=True)

    by_schedule = ServicesBySchedule()

    # Heartbeats only: the schedule, the ping token and what the pings told.
    period_seconds = NumberAttribute(null=True)
    cron = UnicodeAttribute(null=True)
    timezone = UnicodeAttribute(null=True)
    grace_seconds = NumberAttribute(null=True)
    ping_token = UnicodeAttribute(null=True)
    last_ping_at_ms = NumberAttribute(null=True)
    last_ping_kind = UnicodeAttribute(null=True)
    last_success_at = NumberAttribute(null=True)
    runs = UnicodeAttribute(null=True)  # heartbeats.Runs as compact JSON (at most 10 open starts)
    ping_requests = ListAttribute[str](null=True)  # the last request ids counted: a retry counts once
    # Present only while the heartbeat is up and enabled (sparse index).
    deadline_partition = UnicodeAttribute(null=True)
    deadline_at = NumberAttribute(null=True)

    by_deadline = ServicesByDeadline()

    @property
    def is_heartbeat(self) -> bool:
        return self.type == "heartbeat"

    def header_map(self) -> dict[str, str]:
        """The probe headers as a plain dict (a raw MapAttribute reads back as one or as a map)."""
        headers = self.headers
        return dict(headers.as_dict() if hasattr(headers, "as_dict") else headers or {})

    def tls_thresholds(self) -> list[int] | None:
        """tls_expiry_days as whole numbers; None when never set (the defaults apply)."""
        days: Any = self.tls_expiry_days
        return None if days is None else [int(day) for day in days]

    def tls_reading(self) -> dict[str, Any] | None:
        """The last certificate reading as a plain dict, or None before the first."""
        tls = self.tls
        if not tls:
            return None
        return dict(tls.as_dict() if hasattr(tls, "as_dict") else tls)


def config_of(service: Service) -> ServiceConfig:
    """The configuration a stored service holds (what the routes answer and the checker probes)."""
    return ServiceConfig(
        name=service.name,
        url=service.url or "",
        method=service.method,
        interval_seconds=int(service.interval_seconds or 60),
        timeout_seconds=int(service.timeout_seconds or DEFAULT_TIMEOUT_SECONDS),
        expected_status=service.expected_status,
        keyword=service.keyword,
        failure_threshold=int(service.failure_threshold),
        recovery_threshold=int(service.recovery_threshold),
        severity=service.severity,
        escalation_policy_id=service.escalation_policy_id,
        headers=service.header_map(),
        enabled=bool(service.enabled),
        public=bool(service.public),
        type=service.type or HTTP,
        period_seconds=None if service.period_seconds is None else int(service.period_seconds),
        cron=service.cron,
        timezone=service.timezone or "UTC",
        grace_seconds=int(service.grace_seconds or DEFAULT_GRACE_SECONDS),
        verify_tls=service.verify_tls is not False,
        tls_expiry_days=_or_default(service.tls_thresholds(), list(DEFAULT_TLS_EXPIRY_DAYS)),
        assertions=list(service.assertions or []),
    )


def _or_default(value: list[int] | None, default: list[int]) -> list[int]:
    return default if value is None else value  # [] stays []: warnings turned off


class SchedulerState(Model):
    """Intervals in use, how far probes have been dispatched and hours folded; one item."""

    class Meta:
        table_name = settings.table("services")
        region = settings.region

    org_id = UnicodeAttribute(hash_key=True, default=SCHEDULER_PARTITION)
    service_id = UnicodeAttribute(range_key=True, default="state")
    intervals = NumberSetAttribute(default=set)
    dispatched_until = NumberAttribute(default=0)
    folded_through = NumberAttribute(default=0)  # the last hour folded into daily rollups

    @classmethod
    def get_or_new(cls) -> SchedulerState:
        try:
            return cls.get(SCHEDULER_PARTITION, "state", consistent_read=True)
        except cls.DoesNotExist:
            return cls(SCHEDULER_PARTITION, "state", intervals=set(), dispatched_until=0, folded_through=0)


PING_TOKEN_PARTITION_PREFIX = "_ping:"  # noqa: S105 (a key prefix, not a secret); not an org (org ids have no ':'): one item per token


class PingTokenLookup(Model):
    """A ping token -> its heartbeat; keyed by the token's SHA-256, each in its own partition."""

    class Meta:
        table_name = settings.table("services")
        region = settings.region

    org_id = UnicodeAttribute(hash_key=True)  # PING_TOKEN_PARTITION_PREFIX + sha256 hex of the token
    service_id = UnicodeAttribute(range_key=True, default="token")
    target_org_id = UnicodeAttribute()
    target_service_id = UnicodeAttribute()
