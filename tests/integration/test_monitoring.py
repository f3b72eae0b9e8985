"""The probe pipeline against moto: services, the checker, outages and incidents, redelivery, races."""

import time

import pytest

from chalicelib.adapters import probe_queue as probe_queue_adapter
from chalicelib.adapters.probe_queue import ProbeJob, ProbeMessage
from chalicelib.domain.checks import CheckRecord
from chalicelib.models.incidents import Incident
from chalicelib.models.services import Service
from chalicelib.usecases import checker


@pytest.fixture(autouse=True)
def empty_queue(probe_queue):
    probe_queue.purge()


def create(api, org_id, owner, target, **fields):
    body = {"name": "Checkout API", "url": target.url, "interval_seconds": 60, **fields}
    reply = api.post(f"/v1/orgs/{org_id}/services", body, token=owner.access_token)
    assert reply.status == 201, reply.body
    return reply.body


def enqueue(org_id, service_id, *scheduled_at):
    jobs = tuple(ProbeJob(org_id, service_id, at) for at in scheduled_at)
    probe_queue_adapter.send([ProbeMessage(jobs=jobs, delay_seconds=0)])


def open_incidents(org_id, service_id):
    return [
        i
        for i in Incident.query(org_id, filter_condition=Incident.service_id == service_id)
        if i.status != "resolved"
    ]


def service_item(org_id, service_id):
    return Service.get(org_id, service_id, consistent_read=True)


# ---- services API -------------------------------------------------------------------------------


def test_a_new_service_is_pending_with_the_documented_defaults(api, monitored_org, target):
    org_id, owner = monitored_org
    service = create(api, org_id, owner, target)
    assert service["status"] == "pending"
    assert service["method"] == "GET"
    assert service["interval_seconds"] == 60
    assert service["timeout_seconds"] == 10
    assert service["expected_status"] == "200-399"
    assert service["failure_threshold"] == 2
    assert service["recovery_threshold"] == 1
    assert service["severity"] == "high"
    assert service["enabled"] is True
    assert service["public"] is False
    listed = api.get(f"/v1/orgs/{org_id}/services", token=owner.access_token).body["items"]
    assert [s["id"] for s in listed] == [service["id"]]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"url": "ftp://example.com"}, "url: must start with http:// or https://"),
        ({"url": "not a url"}, "url:"),
        ({"url": "http://user:pw@example.com"}, "url: must not carry credentials"),
        ({"interval_seconds": 0}, "interval_seconds: must be at least 1"),
        ({"interval_seconds": 86_401}, "interval_seconds: must be at most 86400"),
        ({"interval_seconds": 30, "timeout_seconds": 30}, "timeout_seconds: must be below interval_seconds"),
        ({"expected_status": "200-2x9"}, "expected_status:"),
        ({"expected_status": "299-200"}, "expected_status:"),
        ({"failure_threshold": 11}, "failure_threshold: must be at most 10"),
        ({"recovery_threshold": 0}, "recovery_threshold: must be at least 1"),
        ({"severity": "urgent"}, "severity: must be one of"),
        ({"method": "TRACE"}, "method: must be one of"),
        ({"headers": {"Bad Header": "x"}}, "headers:"),
        ({"headers": {"X-Token": "a\r\nb"}}, "headers:"),
        ({"headers": {f"X-{i}": "v" for i in range(21)}}, "headers:"),
        ({"keyword": ""}, "keyword:"),
        ({"name": ""}, "name: must not be empty"),
    ],
)
def test_service_input_is_validated_naming_the_field(api, monitored_org, target, fields, expected):
    org_id, owner = monitored_org
    body = {"name": "x", "url": target.url, **fields}
    reply = api.post(f"/v1/orgs/{org_id}/services", body, token=owner.access_token)
    assert reply.status == 400, reply.body
    assert reply.message.startswith(expected)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost:8080/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:10.0.0.1]/",
        "http://10.1.2.3/",
        "http://metadata.google.internal/",
        "http://2130706433/",
    ],
)
def test_private_targets_are_refused_in_a_deployed_stack(api, monitored_org, monkeypatch, url):
    import dataclasses

    from chalicelib.settings import settings

    monkeypatch.setattr(
        "chalicelib.usecases.services.settings", dataclasses.replace(settings, allow_private_targets=False)
    )
    org_id, owner = monitored_org
    reply = api.post(f"/v1/orgs/{org_id}/services", {"name": "x", "url": url}, token=owner.access_token)
    assert reply.status == 400
    assert reply.message.startswith("url:")


def test_the_min_interval_setting_is_enforced(api, monitored_org, target, monkeypatch):
    import dataclasses

    from chalicelib.settings import settings

    monkeypatch.setattr(
        "chalicelib.usecases.services.settings", dataclasses.replace(settings, min_interval_seconds=30)
    )
    org_id, owner = monitored_org
    body = {"name": "x", "url": target.url, "interval_seconds": 20, "timeout_seconds": 5}
    reply = api.post(f"/v1/orgs/{org_id}/services", body, token=owner.access_token)
    assert reply.status == 400
    assert reply.message == "interval_seconds: must be from 30 to 86400"


def test_viewers_read_services_but_cannot_change_them(api, monitored_org, target, new_account):
    org_id, owner = monitored_org
    viewer = new_account()
    api.post(
        f"/v1/orgs/{org_id}/members", {"email": viewer.email, "role": "viewer"}, token=owner.access_token
    )
    service = create(api, org_id, owner, target, headers={"Authorization": "Bearer probe-secret"})
    path = f"/v1/orgs/{org_id}/services/{service['id']}"
    seen = api.get(path, token=viewer.access_token)
    assert seen.status == 200
    assert seen.body["headers"] == {"Authorization": "********"}
    assert api.patch(path, {"name": "nope"}, token=viewer.access_token).status == 403
    assert api.delete(path, token=viewer.access_token).status == 403
    assert api.post(f"{path}/check", token=viewer.access_token).status == 403
    assert (
        api.post(
            f"/v1/orgs/{org_id}/services", {"name": "x", "url": target.url}, token=viewer.access_token
        ).status
        == 403
    )


def test_another_orgs_service_is_404(api, monitored_org, target, new_account, new_org):
    org_id, owner = monitored_org
    service = create(api, org_id, owner, target)
    stranger = new_account()
    their_org = new_org(stranger)
    assert api.get(f"/v1/orgs/{org_id}/services/{service['id']}", token=stranger.access_token).status == 404
    mixed = api.get(f"/v1/orgs/{their_org['id']}/services/{service['id']}", token=stranger.access_token)
    assert mixed.status == 404


def test_pausing_stops_probes_and_the_schedule(api, monitored_org, target, probe_queue):
    org_id, owner = monitored_org
    service = create(api, org_id, owner, target)
    path = f"/v1/orgs/{org_id}/services/{service['id']}"
    paused = api.patch(path, {"enabled": False}, token=owner.access_token)
    assert paused.status == 200
    assert paused.body["status"] == "paused"
    assert service_item(org_id, service["id"]).sched_interval is None
    probe_queue.run_checker()
    assert target.hits == 0
    assert api.post(f"{path}/check", token=owner.access_token).status == 409
    resumed = api.patch(path, {"enabled": True}, token=owner.access_token)
    assert resumed.body["status"] == "pending"
    probe_queue.run_checker()
    assert api.get(path, token=owner.access_token).body["status"] == "up"


def test_patch_changes_fields_and_refuses_nulls(api, monitored_org, target):
    org_id, owner = monitored_org
    service = create(api, org_id, owner, target, keyword="good")
    path = f"/v1/orgs/{org_id}/services/{service['id']}"
    changed = api.patch(
        path, {"name": "Renamed", "keyword": None, "interval_seconds": 120}, token=owner.access_token
    )
    assert changed.status == 200
    assert (changed.body["name"], changed.body["keyword"], changed.body["interval_seconds"]) == (
        "Renamed",
        None,
        120,
    )
    assert service_item(org_id, service["id"]).sched_interval == 120
    assert api.patch(path, {"name": None}, token=owner.access_token).message == "name: must not be null"


def test_delete_removes_the_service(api, monitored_org, target):
    org_id, owner = monitored_org
    service = create(api, org_id, owner, target)
    path = f"/v1/orgs/{org_id}/services/{service['id']}"
    assert api.delete(path, token=owner.access_token).status == 204
    assert api.get(path, token=owner.access_token).status == 404


# ---- the checker --------------------------------------------------------------------------------


def test_a_new_service_is_checked_at_once_and_turns_up(api, monitored_org, target, probe_queue):
    org_id, owner = monitored_org
    service = create(api, org_id, owner, target)
    probe_queue.run_checker()
    assert target.hits == 1
    got = api.get(f"/v1/orgs/{org_id}/services/{service['id']}", token=owner.access_token).body
    assert got["status"] == "up"
    checks = api.get(f"/v1/orgs/{org_id}/services/{service['id']}/checks", token=owner.access_token).body
    [check] = checks["items"]
    assert check["status"] == "up"
    assert check["status_code"] == 200
    assert check["response_time_ms"] >= 0
    assert check["error"] is None
    assert check["checked_at"].endswith("Z")


def test_an_outage_opens_exactly_one_incident_and_recovery_resolves_it(
    api, monitored_org, target, probe_queue
):
    org_id, owner = monitored_org
    service = create(api, org_id, owner, target, severity="critical", failure_threshold=2)
    probe_queue.run_checker()
    base = int(time.time())
    target.status = 503

    enqueue(org_id, service["id"], base + 1)
    probe_queue.run_checker()
    assert service_item(org_id, service["id"]).status == "up"  # one failure is not an outage yet
    assert open_incidents(org_id, service["id"]) == []

    enqueue(org_id, service["id"], base + 2)
    probe_queue.run_checker()
    assert service_item(org_id, service["id"]).status == "down"
    [incident] = open_incidents(org_id, service["id"])
    assert (incident.source, incident.severity, incident.status) == ("monitor", "critical", "open")
    assert "503" in incident.description

    for second in range(3, 8):  # however long it stays down: still one incident
        enqueue(org_id, service["id"], base + second)
    probe_queue.run_checker()
    assert [i.incident_id for i in open_incidents(org_id, service["id"])] == [incident.incident_id]

    target.status = 200
    enqueue(org_id, service["id"], base + 10)
    probe_queue.run_checker()
    assert service_item(org_id, service["id"]).status == "up"
    assert open_incidents(org_id, service["id"]) == []
    resolved = Incident.get(org_id, incident.incident_id)
    assert resolved.status == "resolved"
    assert resolved.resolved_at == base + 10

    listed = api.get(f"/v1/orgs/{org_id}/incidents?service_id={service['id']}", token=owner.access_token)
    assert [i["id"] for i in listed.body["items"]] == [incident.incident_id]
    assert listed.body["items"][0]["status"] == "resolved"


def test_keyword_and_status_rules_decide_up_or_down(api, monitored_org, target, probe_queue):
    org_id, owner = monitored_org
    wants_keyword = create(api, org_id, owner, target, keyword="healthy", failure_threshold=1)
    wants_404 = create(api, org_id, owner, target, expected_status="404", failure_threshold=1)
    probe_queue.run_checker()
    for service in (wants_keyword, wants_404):
        checks = api.get(f"/v1/orgs/{org_id}/services/{service['id']}/checks", token=owner.access_token).body
        assert checks["items"][0]["status"] == "down"
    errors = {
        s["id"]: api.get(f"/v1/orgs/{org_id}/services/{s['id']}/checks", token=owner.access_token).body[
            "items"
        ][0]["error"]
        for s in (wants_keyword, wants_404)
    }
    assert "healthy" in errors[wants_keyword["id"]]
    assert "200" in errors[wants_404["id"]]


def test_a_slow_target_times_out_as_down(api, monitored_org, target, probe_queue):
    org_id, owner = monitored_org
    target.delay = 2.5
    service = create(api, org_id, owner, target, timeout_seconds=1, failure_threshold=1)
    probe_queue.run_checker()
    [check] = api.get(f"/v1/orgs/{org_id}/services/{service['id']}/checks", token=owner.access_token).body[
        "items"
    ]
    assert check["status"] == "down"
    assert "timeout" in check["error"]


def test_a_redelivered_failure_does_not_count_twice(api, monitored_org, target, probe_queue):
    org_id, owner = monitored_org
    service = create(api, org_id, owner, target, failure_threshold=2)
    probe_queue.run_checker()
    target.status = 500
    at = int(time.time()) + 1
    job = ProbeJob(org_id, service["id"], at)
    record = CheckRecord(at, "down", 3, 500, "status 500 not in 200-399")
    for _ in range(3):
        checker.record(checker.CheckedJob(job, record))
    assert service_item(org_id, service["id"]).status == "up"
    assert open_incidents(org_id, service["id"]) == []


def test_two_checkers_racing_on_one_service_open_one_incident(
    api, monitored_org, target, probe_queue, monkeypatch
):
    """Interleaved by hand: both checkers read the service up, then one opens the outage first.
    (Real threads on moto are no proof: a failed transaction in moto restores a snapshot that can
    undo a concurrent one.)"""
    org_id, owner = monitored_org
    service = create(api, org_id, owner, target, failure_threshold=1)
    probe_queue.run_checker()
    base = int(time.time()) + 1
    as_read_by_second_checker = service_item(org_id, service["id"])

    first = CheckRecord(base, "down", 1, 500, "status 500")
    checker.apply_to_monitor(ProbeJob(org_id, service["id"], base), first)
    assert service_item(org_id, service["id"]).status == "down"

    reads = []
    real_get = Service.get

    def second_checker_get(*args, **kwargs):
        reads.append(args)
        return as_read_by_second_checker if len(reads) == 1 else real_get(*args, **kwargs)

    monkeypatch.setattr(Service, "get", second_checker_get)
    second = CheckRecord(base + 1, "down", 1, 500, "status 500")
    checker.apply_to_monitor(ProbeJob(org_id, service["id"], base + 1), second)
    monkeypatch.undo()

    assert len(reads) == 2  # its write lost the race, so it read again and saw the outage open
    assert len(list(Incident.query(org_id, filter_condition=Incident.service_id == service["id"]))) == 1
    assert service_item(org_id, service["id"]).status == "down"


def test_a_check_that_runs_more_than_an_interval_late_is_missed_not_down(
    api, monitored_org, target, probe_queue
):
    org_id, owner = monitored_org
    service = create(api, org_id, owner, target, failure_threshold=1)
    probe_queue.run_checker()
    target.status = 500
    enqueue(org_id, service["id"], int(time.time()) - 3 * 60)
    probe_queue.run_checker()
    items = api.get(
        f"/v1/orgs/{org_id}/services/{service['id']}/checks?hours=1", token=owner.access_token
    ).body["items"]
    assert [c["status"] for c in items] == ["up", "missed"]
    assert service_item(org_id, service["id"]).status == "up"
    assert target.hits == 1  # the missed job was not probed


def test_a_poison_message_fails_alone(api, monitored_org, target, probe_queue):
    org_id, owner = monitored_org
    service = create(api, org_id, owner, target)
    probe_queue.purge()
    probe_queue.sqs.send_message(QueueUrl=probe_queue.url, MessageBody="{not json")
    enqueue(org_id, service["id"], int(time.time()))
    messages = []
    for _ in range(5):
        messages += probe_queue.receive()
        if len(messages) == 2:
            break
    from chalicelib.events.probes import probe_batch

    response = probe_batch(probe_queue.event(messages), None)
    poison = next(m for m in messages if m["Body"] == "{not json")
    assert response == {"batchItemFailures": [{"itemIdentifier": poison["MessageId"]}]}
    assert service_item(org_id, service["id"]).status == "up"


def test_check_now_enqueues_a_probe(api, monitored_org, target, probe_queue):
    org_id, owner = monitored_org
    service = create(api, org_id, owner, target)
    probe_queue.run_checker()
    reply = api.post(f"/v1/orgs/{org_id}/services/{service['id']}/check", token=owner.access_token)
    assert reply.status == 202
    time.sleep(1.1)  # a new second, so it is not the same scheduled check
    probe_queue.run_checker()
    assert target.hits == 2


def test_the_checker_runs_as_lambda_invokes_it(api, monitored_org, target, probe_queue, monkeypatch):
    """Through the handler Chalice registers, in a function that never served an HTTP request."""
    from app import app
    from infra.local.pump import LambdaContext

    org_id, owner = monitored_org
    service = create(api, org_id, owner, target)
    monkeypatch.delattr(app, "lambda_context", raising=False)
    event = probe_queue.event(probe_queue.receive())
    context = LambdaContext(
        function_name="vigil-prod-run_probe_batch",
        function_version="$LATEST",
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:vigil-prod-run_probe_batch",
        memory_limit_in_mb="256",
        aws_request_id="req-1",
        log_group_name="/aws/lambda/vigil-prod-run_probe_batch",
        log_stream_name="stream",
        deadline_monotonic=time.monotonic() + 60,
    )
    response = app.handler_map["run_probe_batch"](event, context)
    assert response == {"batchItemFailures": []}
    assert service_item(org_id, service["id"]).status == "up"
