"""Heartbeat monitors against moto: the ping routes, retries, run pairing, rotation, the overdue sweep."""

import time
from contextlib import contextmanager

import pytest

from chalicelib.models.incidents import Incident
from chalicelib.models.services import Service
from chalicelib.usecases import heartbeats
from infra.local.metering import dynamodb_reads, dynamodb_writes, metered


@pytest.fixture(autouse=True)
def empty_queue(probe_queue):
    probe_queue.purge()


def create(api, org_id, owner, **fields):
    body = {"name": "Nightly backup", "type": "heartbeat", "period_seconds": 3600, **fields}
    reply = api.post(f"/v1/orgs/{org_id}/services", body, token=owner.access_token)
    assert reply.status == 201, reply.body
    return reply.body


def token_of(service):
    return service["ping_url"].rsplit("/", 1)[1]


def ping(api, token, suffix="", *, method="GET", body=None, rid=None):
    path = f"/ping/{token}" + (f"/{suffix}" if suffix else "") + (f"?rid={rid}" if rid else "")
    headers = {"content-type": "text/plain"}
    return api.call(method, path, raw=body, headers=headers)


def checks(api, org_id, owner, service_id):
    reply = api.get(f"/v1/orgs/{org_id}/services/{service_id}/checks", token=owner.access_token)
    assert reply.status == 200, reply.body
    return reply.body["items"]


def get(api, org_id, owner, service_id):
    return api.get(f"/v1/orgs/{org_id}/services/{service_id}", token=owner.access_token).body


def open_incidents(org_id, service_id):
    return [
        i
        for i in Incident.query(org_id, filter_condition=Incident.service_id == service_id)
        if i.status != "resolved"
    ]


@contextmanager
def request_id(api, value):
    """Every request meanwhile carries this API Gateway request id (as a retried delivery would)."""
    converter = api.client.http._local_gateway.event_converter
    create_event = converter.create_lambda_event

    def with_id(*args, **kwargs):
        event = create_event(*args, **kwargs)
        event["requestContext"]["requestId"] = value
        return event

    converter.create_lambda_event = with_id
    try:
        yield
    finally:
        del converter.create_lambda_event


# ---- the service -------------------------------------------------------------------------------


def test_a_heartbeat_is_pending_has_a_ping_url_and_no_probe_fields(api, monitored_org, probe_queue):
    org_id, owner = monitored_org
    service = create(api, org_id, owner, grace_seconds=120)
    assert service["type"] == "heartbeat"
    assert service["status"] == "pending"
    assert service["period_seconds"] == 3600 and service["grace_seconds"] == 120
    assert service["url"] is None and service["interval_seconds"] is None and service["method"] is None
    assert service["ping_url"].startswith("http") and "/ping/" in service["ping_url"]
    assert len(token_of(service)) >= 22  # at least 128 bits, URL-safe
    assert service["last_ping"] is None
    # Never sent to the prober: not in the scheduler's index, and no probe queued at creation.
    item = Service.get(org_id, service["id"], consistent_read=True)
    assert item.sched_interval is None and item.sched_offset is None
    assert probe_queue.receive() == []
    check_now = api.post(f"/v1/orgs/{org_id}/services/{service['id']}/check", token=owner.access_token)
    assert check_now.status == 409 and "type" in check_now.message


def test_an_http_service_answers_type_http_and_no_heartbeat_fields(api, monitored_org, target):
    org_id, owner = monitored_org
    reply = api.post(
        f"/v1/orgs/{org_id}/services", {"name": "Web", "url": target.url}, token=owner.access_token
    )
    assert reply.status == 201, reply.body
    assert reply.body["type"] == "http" and reply.body["ping_url"] is None
    assert reply.body["period_seconds"] is None


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"url": "https://example.com"}, "url"),
        ({"interval_seconds": 60}, "interval_seconds"),
        ({"period_seconds": None, "cron": None}, "period_seconds"),
        ({"cron": "0 3 * * *"}, "period_seconds"),  # both given
        ({"period_seconds": None, "cron": "not a cron"}, "cron"),
        ({"period_seconds": None, "cron": "0 3 * * *", "timezone": "Mars/Olympus"}, "timezone"),
        ({"period_seconds": 30}, "period_seconds"),
        ({"grace_seconds": 10}, "grace_seconds"),
    ],
)
def test_bad_heartbeat_fields_are_400_naming_the_field(api, monitored_org, fields, named):
    org_id, owner = monitored_org
    body = {"name": "Job", "type": "heartbeat", "period_seconds": 3600, **fields}
    body = {k: v for k, v in body.items() if v is not None}
    reply = api.post(f"/v1/orgs/{org_id}/services", body, token=owner.access_token)
    assert reply.status == 400, reply.body
    assert reply.message.startswith(named), reply.message


def test_heartbeat_fields_on_an_http_service_are_400(api, monitored_org, target):
    org_id, owner = monitored_org
    body = {"name": "Web", "url": target.url, "period_seconds": 3600}
    reply = api.post(f"/v1/orgs/{org_id}/services", body, token=owner.access_token)
    assert reply.status == 400 and reply.message.startswith("period_seconds"), reply.body


def test_type_cannot_change_and_a_cron_replaces_the_period(api, monitored_org):
    org_id, owner = monitored_org
    service = create(api, org_id, owner)
    path = f"/v1/orgs/{org_id}/services/{service['id']}"
    refused = api.patch(path, {"type": "http"}, token=owner.access_token)
    assert refused.status == 409 and refused.message.startswith("type"), refused.body
    probe_field = api.patch(path, {"url": "https://example.com"}, token=owner.access_token)
    assert probe_field.status == 400 and probe_field.message.startswith("url"), probe_field.body
    changed = api.patch(path, {"cron": "30 2 * * *", "timezone": "Europe/Berlin"}, token=owner.access_token)
    assert changed.status == 200, changed.body
    assert changed.body["cron"] == "30 2 * * *" and changed.body["period_seconds"] is None
    assert changed.body["timezone"] == "Europe/Berlin"


# ---- the ping routes ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "HEAD"])
@pytest.mark.parametrize("suffix", ["", "start", "fail", "log", "0", "1", "255"])
def test_every_ping_path_and_method_answers_ok(api, monitored_org, method, suffix):
    org_id, owner = monitored_org
    service = create(api, org_id, owner)
    reply = ping(api, token_of(service), suffix, method=method, body=b"hello" if method == "POST" else None)
    assert reply.status == 200
    assert reply.body == ("" if method == "HEAD" else "OK") or (method == "HEAD" and not reply.body)
    assert reply.headers["content-type"].startswith("text/plain")
    recorded = checks(api, org_id, owner, service["id"])
    assert len(recorded) == 1
    expected_kind = {"": "success", "0": "success", "1": "fail", "255": "fail"}.get(suffix, suffix)
    assert recorded[0]["kind"] == expected_kind
    assert get(api, org_id, owner, service["id"])["last_ping"]["kind"] == expected_kind


def test_unknown_tokens_suffixes_and_exit_statuses(api, monitored_org):
    org_id, owner = monitored_org
    token = token_of(create(api, org_id, owner))
    assert (ping(api, "no-such-token").status, ping(api, "no-such-token").body) == (404, "not found")
    assert ping(api, "no-such-token", "start").status == 404
    assert ping(api, token, "bogus").status == 404
    too_big = ping(api, token, "256")
    assert too_big.status == 400 and "exit_status" in too_big.body
    assert ping(api, token, "999999999999").status == 400
    assert ping(api, token, rid="bad rid!").status == 400


def test_an_unknown_token_costs_one_read_and_no_write(api, monitored_org):
    with metered(this_thread_only=True) as meter:
        assert ping(api, "x" * 43).status == 404
    assert dynamodb_reads(meter) == 1
    assert dynamodb_writes(meter) == 0


def test_a_ping_is_one_write(api, monitored_org):
    org_id, owner = monitored_org
    token = token_of(create(api, org_id, owner))
    with metered(this_thread_only=True) as meter:
        assert ping(api, token).status == 200
    assert dynamodb_writes(meter) == 1
    assert meter.calls["dynamodb.TransactWriteItems"] == 1


def test_a_retried_request_counts_once(api, monitored_org):
    org_id, owner = monitored_org
    service = create(api, org_id, owner)
    token = token_of(service)
    with request_id(api, "req-retried-1"):
        assert ping(api, token, "fail").status == 200
        assert ping(api, token, "fail").status == 200
    assert len(checks(api, org_id, owner, service["id"])) == 1
    assert ping(api, token, "fail").status == 200  # another request: counted
    assert len(checks(api, org_id, owner, service["id"])) == 2
    assert len(open_incidents(org_id, service["id"])) == 1


def test_a_start_paired_by_rid_gives_the_duration_and_the_body_is_kept(api, monitored_org):
    org_id, owner = monitored_org
    service = create(api, org_id, owner)
    token = token_of(service)
    assert ping(api, token, "start", rid="run-a").status == 200
    assert ping(api, token, "start", rid="run-b").status == 200
    time.sleep(0.2)
    body = b"backup done\n" + b"x" * 20_000
    assert ping(api, token, "0", method="POST", body=body, rid="run-a").status == 200
    newest = checks(api, org_id, owner, service["id"])[0]
    assert newest["kind"] == "success" and newest["rid"] == "run-a" and newest["exit_status"] == 0
    assert newest["duration_ms"] >= 200
    assert newest["body"].startswith("backup done") and len(newest["body"]) == 10_240
    # run-b is still open; a finish without a rid pairs with no tagged start.
    assert ping(api, token).status == 200
    assert checks(api, org_id, owner, service["id"])[0]["duration_ms"] is None


def test_rotating_the_token_stops_the_old_one_at_once(api, monitored_org):
    org_id, owner = monitored_org
    service = create(api, org_id, owner)
    old = token_of(service)
    reply = api.post(
        f"/v1/orgs/{org_id}/services/{service['id']}/rotate-ping-token", token=owner.access_token
    )
    assert reply.status == 200, reply.body
    new = token_of(reply.body)
    assert new != old
    assert ping(api, old).status == 404
    assert ping(api, new).status == 200
    assert get(api, org_id, owner, service["id"])["status"] == "up"


def test_a_deleted_heartbeat_stops_answering(api, monitored_org):
    org_id, owner = monitored_org
    service = create(api, org_id, owner)
    api.delete(f"/v1/orgs/{org_id}/services/{service['id']}", token=owner.access_token)
    assert ping(api, token_of(service)).status == 404


# ---- state machine, incidents and the overdue sweep ----------------------------------------------


def test_fail_opens_one_incident_and_the_next_success_resolves_it(api, monitored_org):
    org_id, owner = monitored_org
    service = create(api, org_id, owner)
    token = token_of(service)
    assert ping(api, token).status == 200
    assert get(api, org_id, owner, service["id"])["status"] == "up"
    assert ping(api, token, "fail").status == 200
    assert ping(api, token, "3").status == 200
    down = get(api, org_id, owner, service["id"])
    assert down["status"] == "down"
    opened = open_incidents(org_id, service["id"])
    assert len(opened) == 1 and opened[0].source == "monitor"
    assert ping(api, token, "log", method="POST", body=b"still broken").status == 200
    assert get(api, org_id, owner, service["id"])["status"] == "down"
    assert ping(api, token).status == 200
    assert get(api, org_id, owner, service["id"])["status"] == "up"
    assert open_incidents(org_id, service["id"]) == []
    assert Incident.get(org_id, opened[0].incident_id).status == "resolved"


def test_the_sweep_finds_late_heartbeats_through_the_index_and_turns_them_down_once(api, monitored_org):
    org_id, owner = monitored_org
    service = create(api, org_id, owner, period_seconds=600, grace_seconds=60)
    other = create(api, org_id, owner, period_seconds=3600, grace_seconds=60)
    token = token_of(service)
    assert ping(api, token).status == 200
    assert ping(api, token_of(other)).status == 200
    item = Service.get(org_id, service["id"], consistent_read=True)
    deadline = int(item.deadline_at)
    assert deadline == int(item.last_success_at) + 660
    with metered(this_thread_only=True) as meter:
        heartbeats.sweep_overdue(now=deadline)  # exactly at the deadline: still in time
    assert "Scan" not in meter.operations("dynamodb")
    assert get(api, org_id, owner, service["id"])["status"] == "up"
    with metered(this_thread_only=True) as meter:
        heartbeats.sweep_overdue(now=deadline + 1)
        heartbeats.sweep_overdue(now=deadline + 61)  # the next minute: already down, out of the index
    assert "Scan" not in meter.operations("dynamodb")
    assert meter.calls["dynamodb.Query"] >= 2  # one on the index per sweep (the incident path adds its own)
    late = get(api, org_id, owner, service["id"])
    assert late["status"] == "down"
    assert get(api, org_id, owner, other["id"])["status"] == "up"
    assert len(open_incidents(org_id, service["id"])) == 1
    item = Service.get(org_id, service["id"], consistent_read=True)
    assert item.deadline_at is None and int(item.last_checked_at) == deadline + 1
    # The job runs again: up, the incident resolved.
    assert ping(api, token).status == 200
    assert get(api, org_id, owner, service["id"])["status"] == "up"
    assert open_incidents(org_id, service["id"]) == []


def test_a_started_run_must_finish_within_the_grace(api, monitored_org):
    org_id, owner = monitored_org
    service = create(api, org_id, owner, period_seconds=86_400, grace_seconds=300)
    token = token_of(service)
    assert ping(api, token).status == 200
    assert ping(api, token, "start").status == 200
    item = Service.get(org_id, service["id"], consistent_read=True)
    assert int(item.deadline_at) <= int(item.last_ping_at_ms) // 1000 + 300
    heartbeats.sweep_overdue(now=int(item.deadline_at) + 1)
    assert get(api, org_id, owner, service["id"])["status"] == "down"


def test_a_paused_heartbeat_leaves_the_index(api, monitored_org):
    org_id, owner = monitored_org
    service = create(api, org_id, owner)
    assert ping(api, token_of(service)).status == 200
    path = f"/v1/orgs/{org_id}/services/{service['id']}"
    paused = api.patch(path, {"enabled": False}, token=owner.access_token)
    assert paused.status == 200 and paused.body["status"] == "paused"
    assert Service.get(org_id, service["id"], consistent_read=True).deadline_at is None
    resumed = api.patch(path, {"enabled": True}, token=owner.access_token)
    assert resumed.body["status"] == "pending"


def test_viewers_do_not_see_the_ping_url_and_cannot_rotate_it(api, monitored_org, new_account):
    org_id, owner = monitored_org
    viewer = new_account()
    api.post(
        f"/v1/orgs/{org_id}/members", {"email": viewer.email, "role": "viewer"}, token=owner.access_token
    )
    service = create(api, org_id, owner)
    path = f"/v1/orgs/{org_id}/services/{service['id']}"
    seen = api.get(path, token=viewer.access_token)
    assert seen.status == 200 and seen.body["ping_url"] is None and seen.body["type"] == "heartbeat"
    assert api.post(f"{path}/rotate-ping-token", token=viewer.access_token).status == 403


def test_another_orgs_heartbeat_cannot_be_rotated(api, monitored_org, new_account, new_org):
    org_id, owner = monitored_org
    service = create(api, org_id, owner)
    stranger = new_account()
    their_org = new_org(stranger, name="Elsewhere")
    reply = api.post(
        f"/v1/orgs/{their_org['id']}/services/{service['id']}/rotate-ping-token", token=stranger.access_token
    )
    assert reply.status == 404
    assert ping(api, token_of(service)).status == 200  # the token still works


def test_rotating_an_http_service_is_409(api, monitored_org, target):
    org_id, owner = monitored_org
    reply = api.post(
        f"/v1/orgs/{org_id}/services", {"name": "Web", "url": target.url}, token=owner.access_token
    )
    rotated = api.post(
        f"/v1/orgs/{org_id}/services/{reply.body['id']}/rotate-ping-token", token=owner.access_token
    )
    assert rotated.status == 409 and rotated.message.startswith("type")


def test_a_heartbeat_late_or_failing_inside_a_maintenance_window_pages_no_one(api, monitored_org):
    from datetime import UTC, datetime

    org_id, owner = monitored_org
    service = create(api, org_id, owner, period_seconds=600, grace_seconds=60)
    token = token_of(service)
    assert ping(api, token).status == 200
    deadline = int(Service.get(org_id, service["id"], consistent_read=True).deadline_at)
    # A window that starts before the deadline, planned ahead: the service is still up when it begins.
    starts_at = datetime.fromtimestamp(deadline - 120, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    reply = api.post(
        f"/v1/orgs/{org_id}/maintenance-windows",
        {
            "title": "Backup host upgrade",
            "service_ids": [service["id"]],
            "starts_at": starts_at,
            "duration_minutes": 60,
        },
        token=owner.access_token,
    )
    assert reply.status == 201, reply.body
    assert get(api, org_id, owner, service["id"])["status"] == "up"
    heartbeats.sweep_overdue(now=deadline + 1)  # (other tests' late heartbeats may go down)
    assert get(api, org_id, owner, service["id"])["status"] == "up"
    assert open_incidents(org_id, service["id"]) == []
