"""Check history: probe results by shard (TTL), hour buckets (raw checks + counters, TTL) and
daily rollups (kept).

Table ``results``: hash ``shard`` (``domain.checks.result_shard`` of the service id), range
``slot`` (``<scheduled second, 10 digits>#<first service key of the group>``). The checker writes
one item per message and shard: the packed result of each job in an attribute named by its service
key.
A redelivered message writes the same item again; a result seen twice (two scheduler runs at once)
is deduplicated by service and scheduled second where results are read and folded. A service's
recent checks are one Query of its shard.

Table ``checks``: hash ``service_key`` (``<org_id>#<service_id>``), range
``hour`` (epoch second of the hour). The hourly fold moves each service's results
of an hour into its bucket in one UpdateItem (a heartbeat's ping is written here
directly): it ADDs the counters, appends the packed checks and adds their
scheduled seconds to ``s``, conditioned on none of them being there yet, so
nothing is recorded twice. GSI ``by-hour`` lists an hour's buckets for the fold
into days. Attribute names are short because an update is billed by the item's
size.

Table ``rollups``: hash ``service_key``, range ``day`` (epoch day). Counters of
checks folded from complete hours (``folded_hours`` makes a fold idempotent)
and of incidents, ADDed when they open, are acknowledged and resolve.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import ListAttribute, NumberAttribute, NumberSetAttribute, UnicodeAttribute
from pynamodb.expressions.operand import Path
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.domain.metrics import LATENCY_BUCKETS_MS, SEVERITIES, Rollup
from chalicelib.settings import settings

HISTOGRAM_ATTRIBUTES = [f"h{i}" for i in range(len(LATENCY_BUCKETS_MS) + 1)]


def service_key(org_id: str, service_id: str) -> str:
    return f"{org_id}#{service_id}"


class _CheckCounters:
    """Counters shared by hour buckets and daily rollups (mixed into both models)."""

    total_checks = NumberAttribute(attr_name="n", default=0)
    failed_checks = NumberAttribute(attr_name="f", default=0)
    missed_checks = NumberAttribute(attr_name="m", default=0)
    response_time_sum_ms = NumberAttribute(attr_name="rs", default=0)
    response_time_count = NumberAttribute(attr_name="rc", default=0)
    h0 = NumberAttribute(default=0)
    h1 = NumberAttribute(default=0)
    h2 = NumberAttribute(default=0)
    h3 = NumberAttribute(default=0)
    h4 = NumberAttribute(default=0)
    h5 = NumberAttribute(default=0)
    h6 = NumberAttribute(default=0)
    h7 = NumberAttribute(default=0)
    h8 = NumberAttribute(default=0)
    h9 = NumberAttribute(default=0)
    h10 = NumberAttribute(default=0)
    h11 = NumberAttribute(default=0)
    h12 = NumberAttribute(default=0)
    h13 = NumberAttribute(default=0)
    h14 = NumberAttribute(default=0)
    h15 = NumberAttribute(default=0)

    def check_counters(self) -> Rollup:
        return Rollup(
            total_checks=int(getattr(self, "total_checks", 0) or 0),
            failed_checks=int(getattr(self, "failed_checks", 0) or 0),
            missed_checks=int(getattr(self, "missed_checks", 0) or 0),
            response_time_sum_ms=int(getattr(self, "response_time_sum_ms", 0) or 0),
            response_time_count=int(getattr(self, "response_time_count", 0) or 0),
            histogram=tuple(int(getattr(self, name, 0) or 0) for name in HISTOGRAM_ATTRIBUTES),
        )


def add_check_counters(model: type[HourBucket] | type[DailyRollup], counters: Rollup) -> list[Any]:
    """ADD actions for the non-zero check counters of ``counters`` (zeros would only grow the item)."""
    pairs = [
        (model.total_checks, counters.total_checks),
        (model.failed_checks, counters.failed_checks),
        (model.missed_checks, counters.missed_checks),
        (model.response_time_sum_ms, counters.response_time_sum_ms),
        (model.response_time_count, counters.response_time_count),
        *(
            (getattr(model, name), count)
            for name, count in zip(HISTOGRAM_ATTRIBUTES, counters.histogram, strict=True)
        ),
    ]
    return [attribute.add(value) for attribute, value in pairs if value]


class BucketsByHour(GlobalSecondaryIndex["HourBucket"]):
    class Meta:
        index_name = "by-hour"
        projection = KeysOnlyProjection()

    hour = NumberAttribute(hash_key=True)
    service_key = UnicodeAttribute(range_key=True)


class HourBucket(_CheckCounters, Model):
    class Meta:
        table_name = settings.table("checks")
        region = settings.region

    service_key = UnicodeAttribute(hash_key=True)
    hour = NumberAttribute(range_key=True)
    seconds = NumberSetAttribute(attr_name="s", default=set)
    checks = ListAttribute[Any](attr_name="c", default=list)
    expires_at = NumberAttribute(attr_name="ttl")

    by_hour = BucketsByHour()


class ResultSlot(Model):
    """A group of results: each one a top-level attribute named by its service key, holding the
    packed check, so an UpdateItem adds results to a new or existing item alike."""

    class Meta:
        table_name = settings.table("results")
        region = settings.region

    shard = UnicodeAttribute(hash_key=True)
    slot = UnicodeAttribute(range_key=True)
    expires_at = NumberAttribute(attr_name="ttl")

    results: dict[str, int | str]  # service key -> packed check, as read

    @classmethod
    def _instantiate(cls, attribute_values: dict[str, dict[str, Any]]) -> ResultSlot:
        instance = super()._instantiate(attribute_values)
        instance.results = {
            name: int(value["N"]) if "N" in value else str(value.get("S", ""))
            for name, value in attribute_values.items()
            if "#" in name  # a service key; the item's own attributes have none
        }
        return instance

    @staticmethod
    def result(key: str) -> Path:
        return Path([key])


class DailyRollup(_CheckCounters, Model):
    class Meta:
        table_name = settings.table("rollups")
        region = settings.region

    service_key = UnicodeAttribute(hash_key=True)
    day = NumberAttribute(range_key=True)
    folded_hours = NumberSetAttribute(attr_name="fh", default=set)
    downtime_seconds = NumberAttribute(attr_name="dt", default=0)
    incident_count = NumberAttribute(attr_name="ic", default=0)
    resolved_count = NumberAttribute(attr_name="rn", default=0)
    resolve_seconds_sum = NumberAttribute(attr_name="rsum", default=0)
    acknowledged_count = NumberAttribute(attr_name="an", default=0)
    acknowledge_seconds_sum = NumberAttribute(attr_name="asum", default=0)
    severity_low = NumberAttribute(attr_name="sl", default=0)
    severity_medium = NumberAttribute(attr_name="sm", default=0)
    severity_high = NumberAttribute(attr_name="sh", default=0)
    severity_critical = NumberAttribute(attr_name="sc", default=0)
    maintenance_seconds = NumberAttribute(attr_name="mt", default=0)  # added by the fold, per hour

    def rollup(self) -> Rollup:
        checks = self.check_counters()
        return Rollup(
            total_checks=checks.total_checks,
            failed_checks=checks.failed_checks,
            missed_checks=checks.missed_checks,
            response_time_sum_ms=checks.response_time_sum_ms,
            response_time_count=checks.response_time_count,
            histogram=checks.histogram,
            downtime_seconds=int(self.downtime_seconds or 0),
            incident_count=int(self.incident_count or 0),
            resolved_count=int(self.resolved_count or 0),
            resolve_seconds_sum=int(self.resolve_seconds_sum or 0),
            acknowledged_count=int(self.acknowledged_count or 0),
            acknowledge_seconds_sum=int(self.acknowledge_seconds_sum or 0),
            severity_counts=(
                int(self.severity_low or 0),
                int(self.severity_medium or 0),
                int(self.severity_high or 0),
                int(self.severity_critical or 0),
            ),
            maintenance_seconds=int(self.maintenance_seconds or 0),
        )


SEVERITY_ATTRIBUTES = dict(
    zip(
        SEVERITIES,
        (
            DailyRollup.severity_low,
            DailyRollup.severity_medium,
            DailyRollup.severity_high,
            DailyRollup.severity_critical,
        ),
        strict=True,
    )
)
