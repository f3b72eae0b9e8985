"""Uptime, MTTR/MTTA and response-time figures from additive rollups.

The checker and the incident handlers add small `Rollup`s into hourly and daily
buckets (atomic ADD); a dashboard sums the buckets of its window and turns the
sum into the API's metrics object here. Everything in a rollup is a count or a
sum, so any span is the sum of its parts and a year costs what a day costs.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from chalicelib.domain.enums import SEVERITIES

# Upper bounds (inclusive) of the latency histogram's buckets; one more bucket holds everything slower.
LATENCY_BUCKETS_MS: tuple[int, ...] = (
    5,
    10,
    25,
    50,
    100,
    200,
    300,
    500,
    750,
    1000,
    1500,
    2000,
    3000,
    5000,
    10000,
)
HISTOGRAM_SIZE = len(LATENCY_BUCKETS_MS) + 1


_SERVICE_STATUSES = ("up", "down", "paused", "pending", "maintenance")


def latency_bucket(response_time_ms: int) -> int:
    """The index of the histogram bucket a response time falls in: 0 .. len(LATENCY_BUCKETS_MS)."""
    return bisect_left(LATENCY_BUCKETS_MS, response_time_ms)


@dataclass(frozen=True)
class Rollup:
    """Additive counters of one service over some time span (an hour, a day, a sum of days)."""

    total_checks: int = 0  # up + down checks (missed ones are not counted here)
    failed_checks: int = 0
    missed_checks: int = 0
    response_time_sum_ms: int = 0  # over checks that got a response time
    response_time_count: int = 0
    histogram: tuple[int, ...] = (0,) * HISTOGRAM_SIZE
    downtime_seconds: int = 0  # of outages that have ended; the running one is added at read time
    incident_count: int = 0
    resolved_count: int = 0
    resolve_seconds_sum: int = 0  # sum over resolved incidents of resolved_at - created_at
    acknowledged_count: int = 0
    acknowledge_seconds_sum: int = 0
    severity_counts: tuple[int, int, int, int] = (0, 0, 0, 0)  # in SEVERITIES order
    # Time in a maintenance window; its checks are left out of the check counters above.
    maintenance_seconds: int = 0

    def __post_init__(self) -> None:
        if len(self.histogram) != HISTOGRAM_SIZE:
            raise ValueError(f"histogram must have {HISTOGRAM_SIZE} buckets, not {len(self.histogram)}")
        if len(self.severity_counts) != len(SEVERITIES):
            raise ValueError(f"severity_counts must have {len(SEVERITIES)} entries")

    def __add__(self, other: Rollup) -> Rollup:
        if not isinstance(other, Rollup):
            return NotImplemented
        sums: dict[str, Any] = {}
        for counter in fields(self):
            mine, theirs = getattr(self, counter.name), getattr(other, counter.name)
            if isinstance(mine, tuple):
                sums[counter.name] = tuple(a + b for a, b in zip(mine, theirs, strict=True))
            else:
                sums[counter.name] = mine + theirs
        return Rollup(**sums)

    @classmethod
    def of_check(cls, *, up: bool | None, response_time_ms: int | None) -> Rollup:
        """One check's contribution; `up=None` means the check was missed."""
        if up is None:
            # A missed check never reached the service, so it has no response time to count.
            return cls(missed_checks=1)
        if response_time_ms is None:
            return cls(total_checks=1, failed_checks=0 if up else 1)
        histogram = [0] * HISTOGRAM_SIZE
        histogram[latency_bucket(response_time_ms)] = 1
        return cls(
            total_checks=1,
            failed_checks=0 if up else 1,
            response_time_sum_ms=response_time_ms,
            response_time_count=1,
            histogram=tuple(histogram),
        )


def uptime_percentage(rollup: Rollup) -> float:
    """Share of up checks, in percent to 3 decimals; 100.0 before the first check."""
    return _uptime(rollup.total_checks, rollup.failed_checks)


def percentile_ms(histogram: Sequence[int], quantile: float) -> float | None:
    """The response time below which `quantile` of the checks fall, estimated from bucket counts.

    Linear interpolation inside the bucket assumes its checks spread evenly over it. The true value is in
    the same bucket, so the error is below that bucket's width (100 ms in 100..200 ms), reached only when
    the bucket's checks all sit at one edge; reporting the midpoint would bound it by half a width but
    would make every percentile in a bucket the same. The overflow bucket has no upper bound, so a
    percentile there reports its lower bound (10 s), a floor.
    """
    if not 0.0 <= quantile <= 1.0:
        raise ValueError(f"quantile must be in [0, 1], not {quantile}")
    total = sum(histogram)
    if total == 0:
        return None
    rank = quantile * total
    below = 0
    for index, count in enumerate(histogram):
        if count and below + count >= rank:
            lower = LATENCY_BUCKETS_MS[index - 1] if index > 0 else 0
            if index == len(LATENCY_BUCKETS_MS):
                return float(lower)
            upper = LATENCY_BUCKETS_MS[index]
            return round(lower + (upper - lower) * (rank - below) / count, 1)
        below += count
    raise AssertionError("unreachable: rank <= total")  # pragma: no cover


def mean_or_none(total: float, count: int) -> float | None:
    """The mean to 1 decimal; None (JSON null) when there is nothing to average."""
    if count == 0:
        return None
    return round(total / count, 1)


@dataclass(frozen=True)
class ServiceMetrics:
    """API.md's metrics object of one service."""

    service_id: str
    status: str
    uptime_percentage: float
    total_checks: int
    failed_checks: int
    incident_count: int
    mttr_seconds: float | None
    mtta_seconds: float | None
    total_downtime_seconds: int
    current_downtime_seconds: int
    severity_distribution: dict[str, int]  # {"low": n, "medium": n, "high": n, "critical": n}
    response_time_ms: dict[str, float | None]  # {"avg": ..., "p50": ..., "p95": ...}
    # Not shown by the API: the weights that let org_totals average MTTR/MTTA over incidents, not services.
    resolved_count: int = 0
    acknowledged_count: int = 0
    maintenance_seconds: int = 0  # neither uptime nor downtime

    def to_api(self) -> dict[str, object]:
        return {
            "service_id": self.service_id,
            "status": self.status,
            "uptime_percentage": self.uptime_percentage,
            "total_checks": self.total_checks,
            "failed_checks": self.failed_checks,
            "incident_count": self.incident_count,
            "mttr_seconds": self.mttr_seconds,
            "mtta_seconds": self.mtta_seconds,
            "total_downtime_seconds": self.total_downtime_seconds,
            "current_downtime_seconds": self.current_downtime_seconds,
            "maintenance_seconds": self.maintenance_seconds,
            "severity_distribution": dict(self.severity_distribution),
            "response_time_ms": dict(self.response_time_ms),
        }


def service_metrics(
    *, service_id: str, status: str, rollup: Rollup, down_since: int | None, now: int
) -> ServiceMetrics:
    """The metrics object from the rollup of the window; `down_since` is set while the service is down."""
    current_downtime = max(0, now - down_since) if down_since is not None else 0
    return ServiceMetrics(
        service_id=service_id,
        status=status,
        uptime_percentage=uptime_percentage(rollup),
        total_checks=rollup.total_checks,
        failed_checks=rollup.failed_checks,
        incident_count=rollup.incident_count,
        mttr_seconds=mean_or_none(rollup.resolve_seconds_sum, rollup.resolved_count),
        mtta_seconds=mean_or_none(rollup.acknowledge_seconds_sum, rollup.acknowledged_count),
        total_downtime_seconds=rollup.downtime_seconds + current_downtime,
        current_downtime_seconds=current_downtime,
        severity_distribution=dict(zip(SEVERITIES, rollup.severity_counts, strict=True)),
        response_time_ms={
            "avg": mean_or_none(rollup.response_time_sum_ms, rollup.response_time_count),
            "p50": percentile_ms(rollup.histogram, 0.50),
            "p95": percentile_ms(rollup.histogram, 0.95),
        },
        resolved_count=rollup.resolved_count,
        acknowledged_count=rollup.acknowledged_count,
        maintenance_seconds=rollup.maintenance_seconds,
    )


def org_totals(metrics: Sequence[ServiceMetrics]) -> dict[str, object]:
    """The `totals` of the org's metrics: counts summed, uptime weighted by checks, MTTR/MTTA by incidents."""
    total_checks = sum(m.total_checks for m in metrics)
    failed_checks = sum(m.failed_checks for m in metrics)
    # The per-service means are rounded to 0.1 s, so the org means are too; close enough for a dashboard.
    mttr = [(m.mttr_seconds, m.resolved_count) for m in metrics if m.mttr_seconds is not None]
    mtta = [(m.mtta_seconds, m.acknowledged_count) for m in metrics if m.mtta_seconds is not None]
    return {
        "services": len(metrics),
        **{status: sum(1 for m in metrics if m.status == status) for status in _SERVICE_STATUSES},
        "total_checks": total_checks,
        "failed_checks": failed_checks,
        "uptime_percentage": _uptime(total_checks, failed_checks),
        "incident_count": sum(m.incident_count for m in metrics),
        "mttr_seconds": mean_or_none(sum(mean * n for mean, n in mttr), sum(n for _, n in mttr)),
        "mtta_seconds": mean_or_none(sum(mean * n for mean, n in mtta), sum(n for _, n in mtta)),
        "total_downtime_seconds": sum(m.total_downtime_seconds for m in metrics),
        "maintenance_seconds": sum(m.maintenance_seconds for m in metrics),
        "severity_distribution": {
            severity: sum(m.severity_distribution.get(severity, 0) for m in metrics)
            for severity in SEVERITIES
        },
    }


def _uptime(total_checks: int, failed_checks: int) -> float:
    if total_checks == 0:
        return 100.0
    return round((total_checks - failed_checks) / total_checks * 100, 3)
