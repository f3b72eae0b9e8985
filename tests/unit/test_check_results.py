"""Result shards line up with the schedule, and the check history tables' billing mode."""

from chalicelib.adapters.probe_queue import ProbeJob, pack_messages
from chalicelib.domain.checks import result_shard
from chalicelib.domain.ids import new_id
from chalicelib.domain.schedule import phase_offset
from infra.local.resources import load_template


def test_services_of_one_result_shard_fire_in_the_same_seconds():
    ids = [new_id() for _ in range(20000)]
    # 20,000 ids: every one of the 240 shards is hit (with 2,000, one in 17 runs left a shard empty)
    for shards_per_second in (1, 4):
        by_shard: dict[str, set[int]] = {}
        for service_id in ids:
            shard = result_shard(service_id, shards_per_second)
            by_shard.setdefault(shard, set()).add(phase_offset(service_id, 60))
            # ...and for intervals that divide 60 or that 60 divides
            assert int(shard) % 30 == phase_offset(service_id, 30)
            assert int(shard) % 60 == phase_offset(service_id, 300) % 60
        assert all(len(seconds) == 1 for seconds in by_shard.values())
        assert len(by_shard) == 60 * shards_per_second


def test_a_seconds_jobs_are_packed_shard_by_shard():
    ids = [new_id() for _ in range(400)]
    jobs = [ProbeJob("o", service_id, 1000) for service_id in ids]  # 400 jobs due in one second
    messages = pack_messages(jobs, now=990, jobs_per_message=25)
    shards = [[result_shard(j.service_id, 1) for j in m.jobs] for m in messages]
    flattened = [shard for message in shards for shard in message]
    # each shard's jobs are contiguous: as few result items as the messages allow
    assert len({s for s in flattened}) == sum(
        1 for i, s in enumerate(flattened) if i == 0 or flattened[i - 1] != s
    )


def test_the_check_history_tables_bill_on_demand_or_provisioned_with_auto_scaling_at_70_percent():
    template = load_template()
    parameter = template["Parameters"]["CheckHistoryBillingMode"]
    assert parameter["Default"] == "PAY_PER_REQUEST"
    assert set(parameter["AllowedValues"]) == {"PAY_PER_REQUEST", "PROVISIONED"}
    resources = template["Resources"]
    for table in ("ResultsTable", "ChecksTable"):
        assert resources[table]["Properties"]["BillingMode"] == {"Ref": "CheckHistoryBillingMode"}
    scaled = {}
    for name, resource in resources.items():
        if resource.get("Type") == "AWS::ApplicationAutoScaling::ScalableTarget":
            assert resource["Condition"] == "ProvisionedCheckHistory"
            properties = resource["Properties"]
            scaled[(properties["ResourceId"]["Fn::Sub"], properties["ScalableDimension"])] = name
    dimensions = {"WriteCapacityUnits", "ReadCapacityUnits"}
    expected = (
        {("table/${ResultsTable}", f"dynamodb:table:{d}") for d in dimensions}
        | {("table/${ChecksTable}", f"dynamodb:table:{d}") for d in dimensions}
        | {("table/${ChecksTable}/index/by-hour", f"dynamodb:index:{d}") for d in dimensions}
    )
    assert set(scaled) == expected
    policies = [
        r for r in resources.values() if r.get("Type") == "AWS::ApplicationAutoScaling::ScalingPolicy"
    ]
    assert {p["Properties"]["ScalingTargetId"]["Ref"] for p in policies} == set(scaled.values())
    for policy in policies:
        assert policy["Condition"] == "ProvisionedCheckHistory"
        assert policy["Properties"]["PolicyType"] == "TargetTrackingScaling"
        assert policy["Properties"]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 70
