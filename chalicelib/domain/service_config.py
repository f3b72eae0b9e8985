"""Rules for a service's configuration that depend on each other or on the deployment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib.domain.assertions import Assertion, check_assertions
from chalicelib.domain.enums import SEVERITIES
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.heartbeats import DEFAULT_GRACE_SECONDS, HeartbeatSchedule, check_heartbeat_schedule
from chalicelib.domain.status_codes import StatusRanges
from chalicelib.domain.targets import check_url
from chalicelib.domain.tls import DEFAULT_TLS_EXPIRY_DAYS, check_tls_expiry_days

MAX_INTERVAL_SECONDS = 86_400
MAX_TIMEOUT_SECONDS = 60
DEFAULT_TIMEOUT_SECONDS = 10
MAX_HEADERS = 20
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
HTTP = "http"
HEARTBEAT = "heartbeat"
SERVICE_TYPES = (HTTP, HEARTBEAT)
# What only a probed (http) service has; a heartbeat refuses them.
PROBE_FIELDS = (
    "url",
    "method",
    "interval_seconds",
    "timeout_seconds",
    "expected_status",
    "keyword",
    "headers",
)
HEARTBEAT_FIELDS = ("period_seconds", "cron", "timezone", "grace_seconds")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
_HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer"}


@dataclass(frozen=True)
class ServiceConfig:
    name: str
    url: str
    method: str = "GET"
    interval_seconds: int = 60
    timeout_seconds: int | None = None  # None: default_timeout(interval_seconds)
    expected_status: str = "200-399"
    keyword: str | None = None
    failure_threshold: int = 2
    recovery_threshold: int = 1
    severity: str = "high"
    escalation_policy_id: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    enabled: bool = True
    public: bool = False
    # Heartbeats (type "heartbeat"): pinged by the job they watch, never probed.
    type: str = "http"
    period_seconds: int | None = None
    cron: str | None = None
    timezone: str = "UTC"
    grace_seconds: int = DEFAULT_GRACE_SECONDS

    @property
    def is_heartbeat(self) -> bool:
        return self.type == HEARTBEAT

    # HTTP monitor options
    verify_tls: bool = True
    tls_expiry_days: list[int] = field(default_factory=lambda: list(DEFAULT_TLS_EXPIRY_DAYS))
    assertions: list[dict[str, Any]] = field(default_factory=list)

    def with_changes(self, changes: Mapping[str, object]) -> ServiceConfig:
        return replace(self, **changes)  # type: ignore[arg-type]


def check_service_config(
    config: ServiceConfig, *, min_interval: int, allow_private: bool, min_heartbeat_seconds: int = 60
) -> ServiceConfig:
    """The config, normalized; InvalidInput naming the first field that breaks a rule."""
    if config.type not in SERVICE_TYPES:
        raise InvalidInput(f"must be one of {', '.join(SERVICE_TYPES)}", field="type")
    if config.is_heartbeat:
        return _check_heartbeat_config(config, min_seconds=min_heartbeat_seconds)
    url = check_url(config.url, allow_private=allow_private)
    method = config.method.upper()
    if method not in METHODS:
        raise InvalidInput(f"must be one of {', '.join(METHODS)}", field="method")
    if not min_interval <= config.interval_seconds <= MAX_INTERVAL_SECONDS:
        raise InvalidInput(f"must be from {min_interval} to {MAX_INTERVAL_SECONDS}", field="interval_seconds")
    timeout = config.timeout_seconds
    if timeout is None:
        timeout = default_timeout(config.interval_seconds)
    if not 1 <= timeout <= MAX_TIMEOUT_SECONDS:
        raise InvalidInput(f"must be from 1 to {MAX_TIMEOUT_SECONDS}", field="timeout_seconds")
    if timeout >= config.interval_seconds:
        raise InvalidInput("must be below interval_seconds", field="timeout_seconds")
    expected = str(StatusRanges.parse(config.expected_status))
    for name, value in (
        ("failure_threshold", config.failure_threshold),
        ("recovery_threshold", config.recovery_threshold),
    ):
        if not 1 <= value <= 10:
            raise InvalidInput("must be from 1 to 10", field=name)
    if config.severity not in SEVERITIES:
        raise InvalidInput(f"must be one of {', '.join(SEVERITIES)}", field="severity")
    if config.keyword is not None and not config.keyword:
        raise InvalidInput("must not be empty (omit it or send null)", field="keyword")
    headers = check_headers(config.headers)
    return replace(
        config,
        url=url,
        method=method,
        timeout_seconds=timeout,
        expected_status=expected,
        headers=headers,
        tls_expiry_days=list(check_tls_expiry_days(config.tls_expiry_days)),
        assertions=[assertion_to_dict(a) for a in check_assertions(config.assertions)],
    )


def _check_heartbeat_config(config: ServiceConfig, *, min_seconds: int) -> ServiceConfig:
    schedule = check_heartbeat_schedule(heartbeat_schedule(config), min_seconds=min_seconds)
    if config.severity not in SEVERITIES:
        raise InvalidInput(f"must be one of {', '.join(SEVERITIES)}", field="severity")
    # Heartbeats go down at the first failure or missed deadline, and up at the next success.
    return replace(
        config,
        period_seconds=schedule.period_seconds,
        cron=schedule.cron,
        timezone=schedule.timezone,
        grace_seconds=schedule.grace_seconds,
        failure_threshold=1,
        recovery_threshold=1,
    )


def heartbeat_schedule(config: ServiceConfig) -> HeartbeatSchedule:
    return HeartbeatSchedule(
        period_seconds=config.period_seconds,
        cron=config.cron,
        timezone=config.timezone,
        grace_seconds=config.grace_seconds,
    )


def assertion_to_dict(assertion: Assertion) -> dict[str, Any]:
    """An assertion as stored and answered: its source, op and value, and its path or name."""
    stored: dict[str, Any] = {"source": assertion.source}
    if assertion.path is not None:
        stored["path"] = assertion.path
    if assertion.name is not None:
        stored["name"] = assertion.name
    return {**stored, "op": assertion.op, "value": assertion.value}


def default_timeout(interval_seconds: int) -> int:
    """10 s, or 80% of a shorter interval (whole seconds, at least 1) so a check ends before the next."""
    return max(1, min(DEFAULT_TIMEOUT_SECONDS, interval_seconds * 4 // 5))


def check_headers(headers: Mapping[str, str]) -> dict[str, str]:
    if len(headers) > MAX_HEADERS:
        raise InvalidInput(f"may have at most {MAX_HEADERS} entries", field="headers")
    checked = {}
    for name, value in headers.items():
        if not _HEADER_NAME.match(name):
            raise InvalidInput(f"{name!r} is not a valid header name", field="headers")
        if name.lower() in _HOP_BY_HOP:
            raise InvalidInput(f"{name!r} is set by the prober itself", field="headers")
        if not isinstance(value, str) or len(value) > 1000 or any(ch in value for ch in "\r\n\x00"):
            raise InvalidInput(
                f"{name!r} must be a single-line string of at most 1000 characters", field="headers"
            )
        checked[name] = value
    return checked
