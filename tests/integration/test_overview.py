"""The overview: every service's uptime, response time and sparkline in one request."""

import time

from chalicelib.adapters.probe_queue import ProbeJob
from chalicelib.domain.checks import HOUR, CheckRecord
from chalicelib.usecases import checker


def _service(api, org_id, owner, target, name):
    body = {"name": name, "url": target.url, "enabled": False}  # paused: only the test writes history
    reply = api.post(f"/v1/orgs/{org_id}/services", body, token=owner.access_token)
    assert reply.status == 201, reply.body
    return reply.body["id"]


def _store(org_id, service_id, at, status, ms):
    record = CheckRecord(at, status, ms, 200 if status == "up" else 500, None if status == "up" else "boom")
    assert checker.store_check(ProbeJob(org_id, service_id, at), record)


def test_overview_summarizes_every_service_in_one_request(api, monitored_org, target):
    org_id, owner = monitored_org
    busy = _service(api, org_id, owner, target, "busy")
    idle = _service(api, org_id, owner, target, "idle")
    now = int(time.time())
    this_hour = now - now % HOUR
    # Two hours ago: 3 good checks at 100 ms and one failure; this hour: one good check at 400 ms.
    for i, status in enumerate(["up", "up", "down", "up"]):
        _store(org_id, busy, this_hour - 2 * HOUR + 60 * i, status, 100)
    _store(org_id, busy, this_hour + 1, "up", 400)

    reply = api.get(f"/v1/orgs/{org_id}/overview", token=owner.access_token)

    assert reply.status == 200, reply.body
    summaries = {item["service_id"]: item for item in reply.body["items"]}
    assert set(summaries) == {busy, idle}
    assert summaries[busy]["uptime_24h"] == 80.0
    assert summaries[busy]["uptime_30d"] == 80.0
    assert summaries[busy]["response_time_ms"] == 160.0
    sparkline = summaries[busy]["sparkline"]
    assert len(sparkline) == 24
    assert [p["response_time_ms"] for p in sparkline[-3:]] == [100.0, None, 400.0]
    assert [p["uptime_percentage"] for p in sparkline[-3:]] == [75.0, None, 100.0]
    assert sparkline[0]["hour"] < sparkline[-1]["hour"]
    assert sparkline[-3]["p50_ms"] is not None and 50 <= sparkline[-3]["p50_ms"] <= 100
    assert summaries[idle]["uptime_24h"] is None
    assert summaries[idle]["response_time_ms"] is None


def test_overview_is_for_members_only(api, monitored_org, new_account):
    org_id, _ = monitored_org
    stranger = new_account()
    assert api.get(f"/v1/orgs/{org_id}/overview", token=stranger.access_token).status == 404


def test_overview_of_one_service(api, monitored_org, target):
    org_id, owner = monitored_org
    first = _service(api, org_id, owner, target, "first")
    _service(api, org_id, owner, target, "second")
    reply = api.get(f"/v1/orgs/{org_id}/overview?service_id={first}", token=owner.access_token)
    assert [item["service_id"] for item in reply.body["items"]] == [first]
    assert api.get(f"/v1/orgs/{org_id}/overview?service_id=nope", token=owner.access_token).status == 404
