"""Probe results recorded by message and result shard, folded into hour buckets: what it costs, and
the guarantees that stay (one result under redelivery, the last hour readable at once, reads that do
not grow with history)."""

import time
from datetime import datetime

import pytest

from chalicelib.adapters import probe_queue as probe_queue_adapter
from chalicelib.adapters.probe_queue import ProbeJob, ProbeMessage
from chalicelib.domain.checks import HOUR, CheckRecord, result_shard
from chalicelib.domain.ids import new_id
from chalicelib.events.probes import probe_batch
from chalicelib.models.checks import HourBucket, service_key
from chalicelib.models.services import SCHEDULER_PARTITION, SchedulerState
from chalicelib.usecases import checker, history
from infra.local.metering import dynamodb_reads, dynamodb_writes, metered


@pytest.fixture(autouse=True)
def empty_queue(probe_queue):
    probe_queue.purge()


@pytest.fixture
def fold_state():
    """Tests here fold the current hour (a fold `now` an hour ahead); put the fold's mark back."""
    before = int(SchedulerState.get_or_new().folded_through or 0)
    yield
    SchedulerState(SCHEDULER_PARTITION, "state").update(actions=[SchedulerState.folded_through.set(before)])


def create(api, org_id, owner, target, **fields):
    body = {"name": "Checkout API", "url": target.url, "interval_seconds": 60, **fields}
    reply = api.post(f"/v1/orgs/{org_id}/services", body, token=owner.access_token)
    assert reply.status == 201, reply.body
    return reply.body


def send(*jobs):
    probe_queue_adapter.send([ProbeMessage(jobs=tuple(jobs), delay_seconds=0)])


def listed(api, org_id, owner, service_id):
    """The checks listed, as epoch seconds."""
    reply = api.get(f"/v1/orgs/{org_id}/services/{service_id}/checks?hours=1", token=owner.access_token)
    assert reply.status == 200, reply.body
    return [iso_seconds(c["checked_at"]) for c in reply.body["items"]]


def iso_seconds(text):
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def fold_hour(hour):
    SchedulerState(SCHEDULER_PARTITION, "state").update(
        actions=[SchedulerState.folded_through.set(hour - HOUR)]
    )
    history.fold_complete_hours(now=hour + HOUR + 301)


def test_a_redelivered_message_records_one_result_listed_at_once_and_folded_once(
    api, monitored_org, target, probe_queue, fold_state
):
    org_id, owner = monitored_org
    service = create(api, org_id, owner, target)
    probe_queue.purge()
    at = int(time.time())
    send(ProbeJob(org_id, service["id"], at))
    [message] = probe_queue.receive()
    event = probe_queue.event([message])
    probe_batch(event, None)
    probe_batch(event, None)  # SQS at-least-once: the same message again

    assert listed(api, org_id, owner, service["id"]) == [at]
    metrics = api.get(f"/v1/orgs/{org_id}/services/{service['id']}/metrics?days=1", token=owner.access_token)
    assert metrics.body["total_checks"] == 1

    fold_hour(at - at % HOUR)
    fold_hour(at - at % HOUR)  # a retried fold
    bucket = HourBucket.get(service_key(org_id, service["id"]), at - at % HOUR)
    assert bucket.total_checks == 1
    assert len(bucket.checks) == 1
    assert listed(api, org_id, owner, service["id"]) == [at]


def test_one_job_in_two_messages_is_one_result(api, monitored_org, target, probe_queue, fold_state):
    """Two scheduler runs at once may send a job twice, in messages of different neighbours."""
    org_id, owner = monitored_org
    service = create(api, org_id, owner, target)
    other = create(api, org_id, owner, target)
    probe_queue.purge()
    at = int(time.time())
    send(ProbeJob(org_id, service["id"], at))
    send(ProbeJob(org_id, other["id"], at), ProbeJob(org_id, service["id"], at))
    probe_queue.run_checker()

    assert listed(api, org_id, owner, service["id"]) == [at]
    fold_hour(at - at % HOUR)
    assert HourBucket.get(service_key(org_id, service["id"]), at - at % HOUR).total_checks == 1


def _ids_of_one_shard(count):
    shard = result_shard(new_id(), 1)
    found = []
    while len(found) < count:
        candidate = new_id()
        if result_shard(candidate, 1) == shard:
            found.append(candidate)
    return found


def test_a_message_of_one_result_shard_is_one_write_whatever_its_size(stack):
    at = int(time.time())
    for size in (1, 25):
        jobs = [ProbeJob("org-shard", service_id, at) for service_id in _ids_of_one_shard(size)]
        with metered() as meter:
            checker.store_results([(job, CheckRecord(at, "up", 40, 200, None)) for job in jobs])
        assert dynamodb_writes(meter) == 1
        assert meter.calls["dynamodb.UpdateItem"] == 1


def test_a_checks_read_does_not_grow_with_history(api, monitored_org, target, fold_state):
    org_id, owner = monitored_org
    service = create(api, org_id, owner, target, enabled=False)  # paused: only the test writes history
    now = int(time.time())

    def record(at):
        checker.store_results([(ProbeJob(org_id, service["id"], at), CheckRecord(at, "up", 40, 200, None))])

    def read():
        with metered() as meter:
            items = listed(api, org_id, owner, service["id"])
        return dynamodb_reads(meter), len(items)

    record(now - 60)
    before = read()
    for hours_ago in range(2, 8):  # hours more, folded into buckets as the fold would have
        record(now - hours_ago * HOUR)
    for hours_ago in range(7, 1, -1):
        fold_hour(now - now % HOUR - hours_ago * HOUR)
    assert read() == before


def test_a_deleted_services_results_are_not_folded_back(api, monitored_org, target, fold_state):
    org_id, owner = monitored_org
    service = create(api, org_id, owner, target, enabled=False)
    kept = create(api, org_id, owner, target, enabled=False)
    at = int(time.time())
    checker.store_results(
        [(ProbeJob(org_id, s["id"], at), CheckRecord(at, "up", 40, 200, None)) for s in (service, kept)]
    )
    assert api.delete(f"/v1/orgs/{org_id}/services/{service['id']}", token=owner.access_token).status == 204
    fold_hour(at - at % HOUR)
    assert list(HourBucket.query(service_key(org_id, service["id"]))) == []
    assert HourBucket.get(service_key(org_id, kept["id"]), at - at % HOUR).total_checks == 1


def test_an_hour_of_checks_every_10_seconds_is_stored_once_in_one_write(api, monitored_org, target):
    org_id, owner = monitored_org
    service = create(api, org_id, owner, target, enabled=False)
    now = int(time.time())
    hour = now - now % HOUR - 2 * HOUR
    records = [CheckRecord(hour + s, "up", 30, 200, None) for s in range(0, HOUR, 10)]
    with metered() as meter:
        assert checker.store_checks(org_id, service["id"], records) == 360
    assert meter.calls["dynamodb.UpdateItem"] == 1
    # Half of them again with the other half of the next ones: only the new ones are added.
    again = records[180:] + [CheckRecord(hour + s, "down", 30, 500, "boom") for s in range(5, HOUR, 10)]
    assert checker.store_checks(org_id, service["id"], again) == 360
    bucket = HourBucket.get(service_key(org_id, service["id"]), hour)
    assert (bucket.total_checks, bucket.failed_checks, len(bucket.checks)) == (720, 360, 720)
