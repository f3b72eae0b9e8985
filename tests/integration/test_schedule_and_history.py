"""The scheduler (Query, never Scan), folding hours into days, and metrics read from rollups."""

import itertools
import time

import pytest

from chalicelib.adapters import probe_queue as probe_queue_adapter
from chalicelib.adapters.probe_queue import ProbeJob
from chalicelib.api import services as services_api
from chalicelib.domain.checks import HOUR, CheckRecord
from chalicelib.domain.schedule import phase_offset
from chalicelib.models.checks import DailyRollup, HourBucket, service_key
from chalicelib.models.services import SCHEDULER_PARTITION, SchedulerState, Service
from chalicelib.usecases import checker, history, scheduler
from infra.local.metering import dynamodb_reads, dynamodb_writes, metered

DAY = 86_400


@pytest.fixture(autouse=True)
def empty_queue(probe_queue):
    probe_queue.purge()


def create(api, org_id, owner, target, **fields):
    body = {"name": "svc", "url": target.url, "interval_seconds": 60, **fields}
    reply = api.post(f"/v1/orgs/{org_id}/services", body, token=owner.access_token)
    assert reply.status == 201, reply.body
    return reply.body


@pytest.fixture
def sent(monkeypatch):
    """The probe messages the code sends (they still go to SQS; most are delayed, so unreadable yet)."""
    messages = []
    real_send = probe_queue_adapter.send

    def recording_send(batch):
        messages.extend(batch)
        return real_send(batch)

    monkeypatch.setattr(probe_queue_adapter, "send", recording_send)
    return messages


def jobs_of(messages, org_id):
    return [j.to_json() for m in messages for j in m.jobs if j.org_id == org_id]


# ---- scheduler ----------------------------------------------------------------------------------


def test_the_scheduler_sends_each_due_service_once_per_interval_with_queries_only(
    api, monitored_org, target, probe_queue, sent
):
    org_id, owner = monitored_org
    every_2s = create(api, org_id, owner, target, interval_seconds=2, timeout_seconds=1)
    hourly = create(api, org_id, owner, target, interval_seconds=3600)
    probe_queue.purge()
    SchedulerState(SCHEDULER_PARTITION, "state").update(actions=[SchedulerState.dispatched_until.set(0)])
    now = int(time.time())
    sent.clear()

    with metered() as meter:
        dispatch = scheduler.dispatch_due(now=now)
    assert "Scan" not in meter.operations("dynamodb")
    assert meter.calls["dynamodb.Query"] >= 1
    assert dispatch.window_start == now

    assert meter.calls["sqs.SendMessageBatch"] == -(-len(sent) // 10)
    jobs = jobs_of(sent, org_id)
    assert all(m.delay_seconds == max(0, m.jobs[0].scheduled_at - now) for m in sent)
    fast = sorted(j["at"] for j in jobs if j["svc"] == every_2s["id"])
    assert len(fast) == 30  # a 60 s horizon, one every 2 s
    assert all(b - a == 2 for a, b in itertools.pairwise(fast))
    slow_offset = phase_offset(hourly["id"], 3600)
    slow = [j["at"] for j in jobs if j["svc"] == hourly["id"]]
    expected = [t for t in range(now, now + 60) if t % 3600 == slow_offset]
    assert slow == expected

    # The next tick sends nothing twice: it starts where this one stopped.
    # Other tests' services share the table, so count only this org's jobs.
    sent.clear()
    again = scheduler.dispatch_due(now=now + 1)
    assert again.window_start == now + 60
    next_second = [(j["svc"], j["at"]) for j in jobs_of(sent, org_id)]
    assert all(at == now + 60 for _, at in next_second)
    fast_due = (now + 60) % 2 == fast[0] % 2
    assert [svc for svc, _ in next_second].count(every_2s["id"]) == (1 if fast_due else 0)


def test_jobs_due_in_the_same_second_share_messages_delayed_until_then(
    api, monitored_org, target, probe_queue
):
    from chalicelib.adapters.probe_queue import pack_messages

    jobs = [ProbeJob("o", f"s{i}", 1000 + i % 2) for i in range(60)]
    messages = pack_messages(jobs, now=990, jobs_per_message=25)
    assert [len(m.jobs) for m in messages] == [25, 5, 25, 5]
    assert [m.delay_seconds for m in messages] == [10, 10, 11, 11]


def test_paused_services_leave_the_schedule(api, monitored_org, target, sent):
    org_id, owner = monitored_org
    paused = create(api, org_id, owner, target, interval_seconds=2, timeout_seconds=1)
    running = create(api, org_id, owner, target, interval_seconds=2, timeout_seconds=1)
    api.patch(f"/v1/orgs/{org_id}/services/{paused['id']}", {"enabled": False}, token=owner.access_token)
    SchedulerState(SCHEDULER_PARTITION, "state").update(actions=[SchedulerState.dispatched_until.set(0)])
    sent.clear()
    scheduler.dispatch_due(now=int(time.time()))
    services = {j["svc"] for j in jobs_of(sent, org_id)}
    assert services == {running["id"]}


# ---- history, folding and metrics ---------------------------------------------------------------


def _store(org_id, service_id, at, status, ms=None, code=None):
    record = CheckRecord(at, status, ms, code, None if status == "up" else "boom")
    assert checker.store_check(ProbeJob(org_id, service_id, at), record)


@pytest.fixture
def quiet_service(api, monitored_org, target, probe_queue):
    """A paused service, so nothing but the test writes its history."""
    org_id, owner = monitored_org
    service = create(api, org_id, owner, target, enabled=False)
    return org_id, owner, service["id"]


def test_hours_fold_into_days_once_and_metrics_match_hand_computed_values(api, quiet_service):
    org_id, owner, service_id = quiet_service
    now = int(time.time())
    today = now - now % DAY
    # Yesterday: 4 checks at 100 ms, one of them down (a 500).
    for i, (status, code) in enumerate([("up", 200), ("up", 200), ("down", 500), ("up", 200)]):
        _store(org_id, service_id, today - DAY + 3 * HOUR + i * 60, status, 100, code)
    # Two days ago: 6 good checks at 300 ms.
    for i in range(6):
        _store(org_id, service_id, today - 2 * DAY + 5 * HOUR + i * 60, "up", 300, 200)

    key = service_key(org_id, service_id)
    # Fold as the minute schedule would have, a few minutes after each of those hours ended.
    for hour in sorted({int(b.hour) for b in HourBucket.query(key)}):
        SchedulerState(SCHEDULER_PARTITION, "state").update(
            actions=[SchedulerState.folded_through.set(hour - HOUR)]
        )
        assert history.fold_complete_hours(now=hour + HOUR + 301) >= 1
        assert history.fold_complete_hours(now=hour + HOUR + 360) == 0  # that hour is done
    days = {int(d.day): d for d in DailyRollup.query(key)}
    assert days[(today - DAY) // DAY].total_checks == 4
    assert days[(today - DAY) // DAY].failed_checks == 1
    assert days[(today - 2 * DAY) // DAY].total_checks == 6
    # Folding again changes nothing.
    for bucket in HourBucket.query(key):
        history.fold_bucket(key, int(bucket.hour))
    assert DailyRollup.get(key, (today - DAY) // DAY).total_checks == 4

    reply = api.get(f"/v1/orgs/{org_id}/services/{service_id}/metrics?days=7", token=owner.access_token)
    assert reply.status == 200
    metrics = reply.body
    assert metrics["service_id"] == service_id
    assert metrics["total_checks"] == 10
    assert metrics["failed_checks"] == 1
    assert metrics["uptime_percentage"] == 90.0
    assert metrics["response_time_ms"]["avg"] == pytest.approx((4 * 100 + 6 * 300) / 10)
    assert 200 <= metrics["response_time_ms"]["p95"] <= 300
    assert metrics["mttr_seconds"] is None
    assert metrics["mtta_seconds"] is None
    assert set(metrics) >= {
        "status",
        "incident_count",
        "total_downtime_seconds",
        "current_downtime_seconds",
        "severity_distribution",
    }
    one_day = api.get(
        f"/v1/orgs/{org_id}/services/{service_id}/metrics?days=1", token=owner.access_token
    ).body
    assert one_day["total_checks"] == 0  # today only


def test_recent_unfolded_hours_count_in_metrics(api, quiet_service, monkeypatch):
    org_id, owner, service_id = quiet_service
    now = int(time.time())
    # days=1 is today only: the checks must be today (not in the seconds before midnight), and the
    # API's clock must not cross midnight before it reads them.
    now = max(now, now - now % DAY + 60)
    monkeypatch.setattr(services_api, "now_seconds", lambda: now)
    for i in range(3):
        _store(org_id, service_id, now - 10 - i, "up", 50, 200)
    metrics = api.get(
        f"/v1/orgs/{org_id}/services/{service_id}/metrics?days=1", token=owner.access_token
    ).body
    assert metrics["total_checks"] == 3


def test_metrics_reads_are_the_same_for_a_day_and_a_year(api, quiet_service):
    org_id, _owner, service_id = quiet_service
    key = service_key(org_id, service_id)
    now = int(time.time())
    today = now // DAY
    for day in range(today - 364, today + 1):  # a year of daily rollups
        DailyRollup(
            key,
            day,
            total_checks=1440,
            failed_checks=1,
            response_time_sum_ms=1440 * 80,
            response_time_count=1440,
            h2=1440,
        ).save()
    service = Service.get(org_id, service_id)
    counts = {}
    for days in (1, 365):
        with metered() as meter:
            result = history.metrics_for(service, days=days, now=now)
        counts[days] = (dynamodb_reads(meter), dynamodb_writes(meter))
        assert result.total_checks == 1440 * days
    assert counts[1] == counts[365]
    assert counts[1][1] == 0


def test_checks_are_listed_newest_first_with_a_cursor(api, quiet_service):
    org_id, owner, service_id = quiet_service
    now = int(time.time())
    times = [now - 5 * 60 * i for i in range(7)]  # across at least one hour boundary
    for at in times:
        _store(org_id, service_id, at, "up", 10, 200)
    path = f"/v1/orgs/{org_id}/services/{service_id}/checks?hours=2"
    first = api.get(f"{path}&limit=4", token=owner.access_token).body
    second = api.get(f"{path}&limit=4&cursor={first['next_cursor']}", token=owner.access_token).body
    seen = [c["checked_at"] for c in first["items"] + second["items"]]
    assert len(seen) == 7
    assert seen == sorted(seen, reverse=True)
    assert second["next_cursor"] is None
    assert api.get(f"{path}&limit=4&cursor=bogus", token=owner.access_token).status == 400
    assert (
        api.get(f"/v1/orgs/{org_id}/services/{service_id}/checks?hours=0", token=owner.access_token).status
        == 400
    )


def test_raw_checks_expire_by_ttl_while_rollups_stay(api, quiet_service):
    org_id, _owner, service_id = quiet_service
    now = int(time.time())
    _store(org_id, service_id, now, "up", 10, 200)
    bucket = HourBucket.get(service_key(org_id, service_id), now - now % HOUR)
    assert bucket.expires_at == now - now % HOUR + HOUR + 30 * DAY
    import boto3

    ttl = boto3.client("dynamodb", region_name="us-east-1").describe_time_to_live(
        TableName="vigil-test-checks"
    )
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}
    assert not hasattr(DailyRollup, "expires_at")


def test_a_steady_state_check_is_one_write(api, monitored_org, target, probe_queue):
    org_id, owner = monitored_org
    service = create(api, org_id, owner, target)
    probe_queue.run_checker()  # pending -> up
    job = ProbeJob(org_id, service["id"], int(time.time()) + 1)
    with metered() as meter:
        [checked] = checker.run_checks([job])
        checker.record(checked)
    assert checked.record.status == "up"
    assert dynamodb_writes(meter) == 1
    assert meter.calls["dynamodb.UpdateItem"] == 1


def test_an_outage_feeds_incident_counts_downtime_and_mttr(api, monitored_org, target, probe_queue):
    org_id, owner = monitored_org
    service = create(api, org_id, owner, target, failure_threshold=1, severity="critical")
    probe_queue.run_checker()
    at = int(time.time()) + 1
    down = CheckRecord(at, "down", 5, 500, "status 500 not in 200-399")
    up = CheckRecord(at + 90, "up", 5, 200, None)
    checker.record(checker.CheckedJob(ProbeJob(org_id, service["id"], at), down))
    during = api.get(f"/v1/orgs/{org_id}/services/{service['id']}/metrics", token=owner.access_token).body
    assert during["status"] == "down"
    assert during["incident_count"] == 1
    assert during["severity_distribution"]["critical"] == 1
    checker.record(checker.CheckedJob(ProbeJob(org_id, service["id"], at + 90), up))
    after = api.get(f"/v1/orgs/{org_id}/services/{service['id']}/metrics", token=owner.access_token).body
    assert after["status"] == "up"
    assert after["mttr_seconds"] == 90
    assert after["total_downtime_seconds"] == 90
    assert after["current_downtime_seconds"] == 0
    org = api.get(f"/v1/orgs/{org_id}/metrics?days=30", token=owner.access_token).body
    assert service["id"] in [m["service_id"] for m in org["services"]]
    assert org["totals"]["incident_count"] >= 1
