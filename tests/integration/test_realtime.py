"""Real-time events against moto: tickets at the handshake, fan-out from real stream records to real
sockets (the local gateway, in this process), gone connections, and catching up with GET .../events."""

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from chalicelib.domain.clock import now_seconds
from tests.conftest import _free_port
from tests.integration.conftest import TableStream

QUIET_SECONDS = 0.5


@pytest.fixture(scope="module")
def gateway(stack) -> Iterator[Any]:
    from app import app
    from infra.local.websocket_gateway import LocalWebsocketGateway

    gateway = LocalWebsocketGateway(app, host="127.0.0.1", port=_free_port(), region="us-east-1")
    app.websocket_api._client = None  # a client cached by an earlier module would point elsewhere
    gateway.start()
    app.websocket_api.configure_from_api_id("local", "api")
    yield gateway
    gateway.stop()


@pytest.fixture
def publish(stack):
    """publish(table) hands that table's new stream records to its real-time publisher, as Lambda would."""
    from app import app

    handlers = {
        "incidents": "publish_incident_changes",
        "services": "publish_service_changes",
        "incident-events": "publish_timeline_changes",
    }
    streams = {table: TableStream(stack.stream_arns[f"vigil-test-{table}"]) for table in handlers}

    def deliver(table: str, records: list[dict] | None = None) -> list[dict]:
        records = streams[table].new_records() if records is None else records
        if records:
            response = app.handler_map[handlers[table]]({"Records": records}, None)
            assert response == {"batchItemFailures": []}, response
        return records

    return deliver


@pytest.fixture
def member(api, new_account, new_org):
    """An org with its admin: {"org_id", "token", "user_id"}."""

    def make() -> dict[str, str]:
        owner = new_account()
        org = new_org(owner, name=f"Realtime {uuid.uuid4().hex[:6]}")
        return {"org_id": org["id"], "token": owner.access_token, "user_id": owner.user_id}

    return make


def ticket_url(api, who: dict[str, str]) -> str:
    reply = api.post(f"/v1/orgs/{who['org_id']}/realtime/tickets", token=who["token"])
    assert reply.status == 201, reply.body
    return reply.body["url"]


def local(url: str, gateway) -> str:
    """The ticket URL names the configured gateway address; tests run their own on a free port."""
    return gateway.url + url[url.index("?") :]


def open_socket(api, gateway, who) -> ClientConnection:
    return connect(local(ticket_url(api, who), gateway), open_timeout=10)


def frames(socket: ClientConnection, *, count: int, timeout: float = 5.0) -> list[dict]:
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < count:
        got.append(json.loads(socket.recv(timeout=max(0.01, deadline - time.monotonic()))))
    return got


def nothing_arrives(socket: ClientConnection) -> bool:
    try:
        socket.recv(timeout=QUIET_SECONDS)
    except TimeoutError:
        return True
    return False


def refusal(url: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=10)
    return refused.value.response.status_code


# ---- tickets ---------------------------------------------------------------------------------------


def test_a_member_gets_a_single_use_ticket_for_a_minute(api, member, gateway):
    who = member()
    reply = api.post(f"/v1/orgs/{who['org_id']}/realtime/tickets", token=who["token"])
    assert reply.status == 201
    assert reply.body["expires_in"] == 60
    assert reply.body["ticket"] in reply.body["url"] and len(reply.body["ticket"]) >= 43
    with connect(local(reply.body["url"], gateway), open_timeout=10) as socket:
        socket.send(json.dumps({"action": "ping"}))
        assert json.loads(socket.recv(timeout=5)) == {"type": "pong"}
    assert refusal(local(reply.body["url"], gateway)) == 401  # used


def test_a_ticket_is_stored_only_hashed(api, member, stack):
    who = member()
    reply = api.post(f"/v1/orgs/{who['org_id']}/realtime/tickets", token=who["token"])
    table = boto3.resource("dynamodb", region_name="us-east-1").Table("vigil-test-auth")
    from chalicelib.security.tokens import hash_token

    item = table.get_item(Key={"pk": f"ticket#{hash_token(reply.body['ticket'])}"})["Item"]
    assert reply.body["ticket"] not in json.dumps(item, default=str)
    assert item["org_id"] == who["org_id"]


def test_no_ticket_for_an_org_you_are_not_in_nor_without_a_token(api, member):
    who, stranger = member(), member()
    assert api.post(f"/v1/orgs/{who['org_id']}/realtime/tickets", token=stranger["token"]).status == 404
    assert api.post(f"/v1/orgs/{who['org_id']}/realtime/tickets").status == 401


def test_an_expired_missing_or_unknown_ticket_refuses_the_handshake(member, gateway):
    from chalicelib.usecases import realtime

    who = member()
    expired = realtime.issue_ticket(who["org_id"], who["user_id"], now=now_seconds() - 61)
    assert refusal(local(expired.url, gateway)) == 401
    assert refusal(gateway.url) == 401
    assert refusal(f"{gateway.url}?ticket=not-a-ticket") == 401


def test_another_orgs_ticket_is_refused_for_that_org_and_stays_good_for_its_own(api, member, gateway):
    mine, theirs = member(), member()
    url = local(ticket_url(api, theirs), gateway)
    assert refusal(url.replace(theirs["org_id"], mine["org_id"])) == 403
    with connect(url, open_timeout=10):
        pass


# ---- fan-out from the streams ------------------------------------------------------------------------


def test_an_orgs_socket_sees_its_incident_created_then_acknowledged_and_no_one_elses(
    api, member, gateway, publish
):
    acme, other = member(), member()
    with open_socket(api, gateway, acme) as watching, open_socket(api, gateway, other) as elsewhere:
        created = api.post(
            f"/v1/orgs/{acme['org_id']}/incidents", {"title": "Checkout down"}, token=acme["token"]
        )
        acked = api.post(
            f"/v1/orgs/{acme['org_id']}/incidents/{created.body['id']}/acknowledge", token=acme["token"]
        )
        publish("incidents")

        first, second = frames(watching, count=2)
        assert (first["type"], second["type"]) == ("incident.created", "incident.updated")
        assert first["data"] == created.body and first["org_id"] == acme["org_id"]
        assert second["data"] == acked.body
        assert first["seq"] < second["seq"]
        assert nothing_arrives(elsewhere)


def test_a_replayed_record_writes_the_event_once_and_pushes_the_same_seq(api, member, gateway, publish):
    who = member()
    with open_socket(api, gateway, who) as socket:
        api.post(f"/v1/orgs/{who['org_id']}/incidents", {"title": "Replay me"}, token=who["token"])
        records = publish("incidents")
        (pushed,) = frames(socket, count=1)
        publish("incidents", records)  # Lambda retries a batch
        (again,) = frames(socket, count=1)
    assert again["seq"] == pushed["seq"]
    listed = api.get(f"/v1/orgs/{who['org_id']}/events", token=who["token"]).body["items"]
    assert [e["seq"] for e in listed] == [pushed["seq"]]


def test_a_gone_connection_is_deleted_and_the_open_one_still_gets_the_event(api, member, gateway, publish):
    from chalicelib.models.realtime import RealtimeConnection

    who = member()
    now = now_seconds()
    RealtimeConnection(
        who["org_id"], "Z29uZS1sb25nLWFnbw=", user_id=who["user_id"], connected_at=now, expires_at=now + 60
    ).save()
    with open_socket(api, gateway, who) as socket:
        api.post(f"/v1/orgs/{who['org_id']}/incidents", {"title": "Gone"}, token=who["token"])
        publish("incidents")
        assert frames(socket, count=1)[0]["type"] == "incident.created"
        remaining = [c.connection_id for c in RealtimeConnection.query(who["org_id"])]
        assert "Z29uZS1sb25nLWFnbw=" not in remaining and len(remaining) == 1


def test_a_closed_socket_leaves_no_connection_row(api, member, gateway):
    from chalicelib.models.realtime import RealtimeConnection

    who = member()
    with open_socket(api, gateway, who):
        assert len(list(RealtimeConnection.query(who["org_id"]))) == 1
    deadline = time.monotonic() + 5
    while list(RealtimeConnection.query(who["org_id"])) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(RealtimeConnection.query(who["org_id"])) == []


def test_service_changes_reach_the_socket_with_probe_headers_masked(api, member, gateway, publish, target):
    from chalicelib.models.services import SchedulerState, Service

    who = member()
    with open_socket(api, gateway, who) as socket:
        created = api.post(
            f"/v1/orgs/{who['org_id']}/services",
            {"name": "API", "url": target.url, "headers": {"Authorization": "Bearer s3cret"}},
            token=who["token"],
        )
        service = Service.get(who["org_id"], created.body["id"])
        service.update(actions=[Service.status.set("down")])
        api.patch(
            f"/v1/orgs/{who['org_id']}/services/{service.service_id}",
            {"name": "Public API"},
            token=who["token"],
        )
        api.delete(f"/v1/orgs/{who['org_id']}/services/{service.service_id}", token=who["token"])
        state = SchedulerState.get_or_new()
        state.save()  # the scheduler's own item shares the table and is no event
        publish("services")
        got = frames(socket, count=4)
        assert nothing_arrives(socket)
    assert [f["type"] for f in got] == [
        "service.created",
        "service.status_changed",
        "service.updated",
        "service.deleted",
    ]
    assert got[0]["data"]["headers"] == {"Authorization": "********"}
    assert "s3cret" not in json.dumps(got)
    assert got[1]["data"]["status"] == "down"
    assert got[2]["data"]["name"] == "Public API"
    assert got[3]["data"] == {"id": service.service_id}


def test_a_comment_reaches_the_socket_as_the_timeline_shows_it(api, member, gateway, publish):
    who = member()
    incident = api.post(f"/v1/orgs/{who['org_id']}/incidents", {"title": "Slow"}, token=who["token"]).body
    with open_socket(api, gateway, who) as socket:
        comment = api.post(
            f"/v1/orgs/{who['org_id']}/incidents/{incident['id']}/comments",
            {"body": "on it"},
            token=who["token"],
        )
        publish("incident-events")
        (got,) = frames(socket, count=1)
        assert nothing_arrives(socket)
    assert got["type"] == "incident.comment"
    assert got["data"] == {**comment.body, "incident_id": incident["id"]}


# ---- catching up -----------------------------------------------------------------------------------


def test_events_are_listed_oldest_first_after_a_seq_and_page_by_next_cursor(api, member, gateway, publish):
    who = member()
    path = f"/v1/orgs/{who['org_id']}/events"
    for title in ("one", "two", "three"):
        api.post(f"/v1/orgs/{who['org_id']}/incidents", {"title": title}, token=who["token"])
    publish("incidents")
    listed = api.get(path, token=who["token"]).body
    assert [e["data"]["title"] for e in listed["items"]] == ["one", "two", "three"]
    assert listed["next_cursor"] is None
    seqs = [e["seq"] for e in listed["items"]]
    assert seqs == sorted(seqs)
    after_first = api.get(f"{path}?after={seqs[0]}", token=who["token"]).body
    assert [e["seq"] for e in after_first["items"]] == seqs[1:]
    page = api.get(f"{path}?limit=2", token=who["token"]).body
    assert [e["seq"] for e in page["items"]] == seqs[:2] and page["next_cursor"] == seqs[1]
    rest = api.get(f"{path}?after={page['next_cursor']}&limit=2", token=who["token"]).body
    assert [e["seq"] for e in rest["items"]] == seqs[2:] and rest["next_cursor"] is None


def test_events_of_another_org_are_not_listed_and_a_bad_after_names_the_field(api, member):
    who, stranger = member(), member()
    assert api.get(f"/v1/orgs/{who['org_id']}/events", token=stranger["token"]).status == 404
    bad = api.get(f"/v1/orgs/{who['org_id']}/events?after=yesterday", token=who["token"])
    assert bad.status == 400 and bad.message.startswith("after:")
    assert api.get(f"/v1/orgs/{who['org_id']}/events?limit=0", token=who["token"]).status == 400


def test_a_maintenance_window_moves_the_service_with_status_changed_events(
    api, member, gateway, publish, target
):
    who = member()
    base = f"/v1/orgs/{who['org_id']}"
    service = api.post(f"{base}/services", {"name": "API", "url": target.url}, token=who["token"]).body
    with open_socket(api, gateway, who) as socket:
        publish("services")
        frames(socket, count=1)  # service.created
        window = api.post(
            f"{base}/maintenance-windows",
            {"title": "Deploy", "duration_minutes": 15, "service_ids": [service["id"]]},
            token=who["token"],
        ).body
        api.post(f"{base}/maintenance-windows/{window['id']}/end", token=who["token"])
        publish("services")
        got = frames(socket, count=2)
        assert nothing_arrives(socket)
    assert [(f["type"], f["data"]["status"]) for f in got] == [
        ("service.status_changed", "maintenance"),
        ("service.status_changed", "pending"),
    ]
