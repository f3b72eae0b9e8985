"""Rollup math: what one check adds, how spans add up, and the metrics object API.md promises."""

import math
import random

import pytest

from chalicelib.domain.metrics import (
    LATENCY_BUCKETS_MS,
    SEVERITIES,
    Rollup,
    ServiceMetrics,
    latency_bucket,
    mean_or_none,
    org_totals,
    percentile_ms,
    service_metrics,
    uptime_percentage,
)

OVERFLOW = len(LATENCY_BUCKETS_MS)
NOW = 1_717_416_000


def checks(*response_times_ms: int, up: bool = True) -> Rollup:
    return sum((Rollup.of_check(up=up, response_time_ms=ms) for ms in response_times_ms), Rollup())


def histogram_of(*response_times_ms: int) -> tuple[int, ...]:
    counts = [0] * (OVERFLOW + 1)
    for ms in response_times_ms:
        counts[latency_bucket(ms)] += 1
    return tuple(counts)


def random_rollup(rng: random.Random) -> Rollup:
    return Rollup(
        total_checks=rng.randrange(1000),
        failed_checks=rng.randrange(100),
        missed_checks=rng.randrange(10),
        response_time_sum_ms=rng.randrange(10**6),
        response_time_count=rng.randrange(1000),
        histogram=tuple(rng.randrange(100) for _ in range(OVERFLOW + 1)),
        downtime_seconds=rng.randrange(10**5),
        incident_count=rng.randrange(10),
        resolved_count=rng.randrange(10),
        resolve_seconds_sum=rng.randrange(10**5),
        acknowledged_count=rng.randrange(10),
        acknowledge_seconds_sum=rng.randrange(10**4),
        severity_counts=(rng.randrange(5), rng.randrange(5), rng.randrange(5), rng.randrange(5)),
    )


# Buckets


@pytest.mark.parametrize(
    ("response_time_ms", "bucket"),
    [
        (0, 0),
        (5, 0),
        (6, 1),
        (25, 2),
        (26, 3),
        (50, 3),
        (120, 5),
        (200, 5),
        (201, 6),
        (10_000, 14),
        (10_001, 15),
        (90_000, 15),
    ],
)
def test_bucket_upper_bounds_are_inclusive_and_the_last_bucket_takes_the_rest(response_time_ms, bucket):
    assert latency_bucket(response_time_ms) == bucket


# What one check adds


def test_a_good_check_counts_once_with_its_response_time_in_its_bucket():
    rollup = Rollup.of_check(up=True, response_time_ms=120)
    assert (rollup.total_checks, rollup.failed_checks, rollup.missed_checks) == (1, 0, 0)
    assert (rollup.response_time_sum_ms, rollup.response_time_count) == (120, 1)
    assert rollup.histogram == tuple(1 if bucket == 5 else 0 for bucket in range(OVERFLOW + 1))


def test_a_failed_check_with_a_response_counts_as_failed_and_keeps_its_response_time():
    rollup = Rollup.of_check(up=False, response_time_ms=30)  # a quick 503
    assert (rollup.total_checks, rollup.failed_checks) == (1, 1)
    assert rollup.response_time_count == 1
    assert rollup.histogram[3] == 1


def test_a_check_without_a_response_adds_nothing_to_the_response_times():
    rollup = Rollup.of_check(up=False, response_time_ms=None)  # a timeout
    assert rollup == Rollup(total_checks=1, failed_checks=1)


def test_a_missed_check_counts_only_as_missed():
    assert Rollup.of_check(up=None, response_time_ms=None) == Rollup(missed_checks=1)
    assert Rollup.of_check(up=None, response_time_ms=80) == Rollup(missed_checks=1)


# Adding spans


def test_rollup_addition_is_associative_and_commutative_with_an_empty_rollup_as_zero():
    rng = random.Random(42)
    for _ in range(200):
        a, b, c = random_rollup(rng), random_rollup(rng), random_rollup(rng)
        assert (a + b) + c == a + (b + c)
        assert a + b == b + a
        assert a + Rollup() == a


def test_adding_rollups_adds_every_counter():
    day = Rollup(total_checks=1440, failed_checks=3, downtime_seconds=180, severity_counts=(0, 0, 1, 0))
    assert day + day == Rollup(
        total_checks=2880, failed_checks=6, downtime_seconds=360, severity_counts=(0, 0, 2, 0)
    )


def test_a_histogram_with_other_buckets_is_refused():
    with pytest.raises(ValueError, match="histogram"):
        Rollup(histogram=(0,) * OVERFLOW)


# Uptime


@pytest.mark.parametrize(
    ("total", "failed", "uptime"),
    [(0, 0, 100.0), (1440, 0, 100.0), (1000, 1, 99.9), (3, 1, 66.667), (10_000, 1, 99.99), (5, 5, 0.0)],
)
def test_uptime_is_the_share_of_good_checks_to_three_decimals(total, failed, uptime):
    assert uptime_percentage(Rollup(total_checks=total, failed_checks=failed)) == uptime


def test_missed_checks_do_not_lower_uptime():
    assert uptime_percentage(checks(100, 100) + Rollup(missed_checks=50)) == 100.0


# Percentiles


def test_identical_response_times_put_the_median_inside_their_bucket():
    histogram = histogram_of(*[120] * 100)
    assert percentile_ms(histogram, 0.50) == 150.0  # halfway through 100..200
    assert percentile_ms(histogram, 0.95) == 195.0


def test_percentiles_interpolate_inside_the_bucket_they_fall_in():
    histogram = histogram_of(*[40] * 90, *[700] * 10)
    assert percentile_ms(histogram, 0.50) == 38.9  # 25 + 25 * 50/90
    assert percentile_ms(histogram, 0.95) == 625.0  # 500 + 250 * 5/10


def test_a_percentile_in_the_overflow_bucket_reports_its_lower_bound():
    histogram = histogram_of(100, 12_000, 30_000, 60_000)
    assert percentile_ms(histogram, 0.95) == 10_000.0


def test_an_empty_histogram_has_no_percentiles():
    assert percentile_ms((0,) * (OVERFLOW + 1), 0.5) is None


def test_the_zeroth_percentile_is_the_lower_bound_of_the_first_used_bucket():
    assert percentile_ms(histogram_of(400, 900), 0.0) == 300.0


@pytest.mark.parametrize("quantile", [-0.1, 1.5])
def test_a_quantile_outside_0_to_1_is_refused(quantile):
    with pytest.raises(ValueError, match="quantile"):
        percentile_ms(histogram_of(100), quantile)


def test_a_percentile_is_off_by_less_than_the_width_of_its_bucket():
    rng = random.Random(3)
    for _ in range(300):
        times = sorted(int(rng.lognormvariate(5, 1)) for _ in range(rng.randrange(1, 300)))
        histogram = histogram_of(*times)
        for quantile in (0.5, 0.95, 0.99):
            true_value = times[math.ceil(quantile * len(times)) - 1]  # nearest rank
            bucket = latency_bucket(true_value)
            if bucket == OVERFLOW:
                continue
            lower = LATENCY_BUCKETS_MS[bucket - 1] if bucket else 0
            estimate = percentile_ms(histogram, quantile)
            assert estimate is not None
            assert lower <= estimate <= LATENCY_BUCKETS_MS[bucket]


# Means


def test_a_mean_of_nothing_is_null_and_otherwise_rounded_to_a_tenth():
    assert mean_or_none(0, 0) is None
    assert mean_or_none(1000, 3) == 333.3
    assert mean_or_none(90.0, 2) == 45.0


# The metrics object of a service


def test_the_metrics_object_has_exactly_the_fields_api_md_lists():
    rollup = (
        checks(*[120] * 99)
        + Rollup.of_check(up=False, response_time_ms=None)
        + Rollup(
            downtime_seconds=600,
            incident_count=3,
            resolved_count=2,
            resolve_seconds_sum=900,
            acknowledged_count=3,
            acknowledge_seconds_sum=200,
            severity_counts=(0, 1, 0, 2),
            maintenance_seconds=1800,
        )
    )
    metrics = service_metrics(service_id="svc_1", status="up", rollup=rollup, down_since=None, now=NOW)
    assert metrics.to_api() == {
        "service_id": "svc_1",
        "status": "up",
        "uptime_percentage": 99.0,
        "total_checks": 100,
        "failed_checks": 1,
        "incident_count": 3,
        "mttr_seconds": 450.0,
        "mtta_seconds": 66.7,
        "total_downtime_seconds": 600,
        "current_downtime_seconds": 0,
        "maintenance_seconds": 1800,
        "severity_distribution": {"low": 0, "medium": 1, "high": 0, "critical": 2},
        "response_time_ms": {"avg": 120.0, "p50": 150.0, "p95": 195.0},
    }


def test_a_service_without_checks_or_incidents_has_null_means_and_full_uptime():
    metrics = service_metrics(service_id="svc_1", status="pending", rollup=Rollup(), down_since=None, now=NOW)
    assert metrics.uptime_percentage == 100.0
    assert (metrics.mttr_seconds, metrics.mtta_seconds) == (None, None)
    assert metrics.response_time_ms == {"avg": None, "p50": None, "p95": None}
    assert metrics.severity_distribution == dict.fromkeys(SEVERITIES, 0)


def test_a_service_that_is_down_now_counts_the_running_outage_in_its_downtime():
    rollup = Rollup(downtime_seconds=300)
    metrics = service_metrics(service_id="svc_1", status="down", rollup=rollup, down_since=NOW - 120, now=NOW)
    assert metrics.current_downtime_seconds == 120
    assert metrics.total_downtime_seconds == 420


# The org's totals


def service(service_id: str, status: str, rollup: Rollup, down_since: int | None = None) -> ServiceMetrics:
    return service_metrics(
        service_id=service_id, status=status, rollup=rollup, down_since=down_since, now=NOW
    )


def test_org_uptime_is_weighted_by_checks_not_averaged_over_services():
    busy = service("svc_busy", "up", Rollup(total_checks=1000, failed_checks=10))
    quiet = service("svc_quiet", "down", Rollup(total_checks=10, failed_checks=10), down_since=NOW - 60)
    assert org_totals([busy, quiet])["uptime_percentage"] == 98.02  # 990 / 1010, not (99 + 0) / 2


def test_org_mttr_and_mtta_are_averaged_over_incidents_not_services():
    often = service("svc_a", "up", Rollup(incident_count=3, resolved_count=3, resolve_seconds_sum=300))
    rarely = service("svc_b", "up", Rollup(incident_count=1, resolved_count=1, resolve_seconds_sum=1000))
    totals = org_totals([often, rarely])
    assert totals["mttr_seconds"] == 325.0  # 1300 s over 4 incidents, not (100 + 1000) / 2
    assert totals["mtta_seconds"] is None  # nobody acknowledged anything


def test_org_totals_count_services_by_status_and_add_up_the_rest():
    services = [
        service("svc_1", "up", Rollup(total_checks=100, incident_count=1, severity_counts=(0, 0, 1, 0))),
        service("svc_2", "down", Rollup(total_checks=50, failed_checks=5, downtime_seconds=100), NOW - 30),
        service("svc_3", "paused", Rollup(incident_count=2, severity_counts=(1, 0, 0, 1))),
        service("svc_4", "pending", Rollup()),
        service("svc_5", "up", Rollup(total_checks=50)),
    ]
    assert org_totals(services) == {
        "services": 5,
        "up": 2,
        "down": 1,
        "paused": 1,
        "pending": 1,
        "maintenance": 0,
        "total_checks": 200,
        "failed_checks": 5,
        "uptime_percentage": 97.5,
        "incident_count": 3,
        "mttr_seconds": None,
        "mtta_seconds": None,
        "total_downtime_seconds": 130,
        "maintenance_seconds": 0,
        "severity_distribution": {"low": 1, "medium": 0, "high": 1, "critical": 1},
    }


def test_an_org_without_services_has_empty_totals():
    totals = org_totals([])
    assert totals["services"] == 0
    assert totals["uptime_percentage"] == 100.0
    assert (totals["mttr_seconds"], totals["mtta_seconds"]) == (None, None)
    assert totals["severity_distribution"] == dict.fromkeys(SEVERITIES, 0)
