"""Integrations over the API: the key is shown once, listed masked, and dies with its integration."""

import pytest

from chalicelib.models.integrations import IngestKey


@pytest.fixture
def team(api, new_account, new_org):
    admin, responder = new_account(), new_account()
    org = new_org(admin)
    api.post(
        f"/v1/orgs/{org['id']}/members", {"email": responder.email, "role": "user"}, token=admin.access_token
    )
    return org["id"], admin, responder


def create(api, org_id, who, **fields):
    return api.post(
        f"/v1/orgs/{org_id}/integrations",
        {"name": "Prometheus", "type": "alertmanager", **fields},
        token=who.access_token,
    )


def test_created_integration_shows_its_key_and_ingest_url_once(api, team):
    org_id, admin, _ = team
    reply = create(api, org_id, admin)
    assert reply.status == 201, reply.body
    body = reply.body
    assert set(body) >= {"id", "name", "type", "key", "ingest_url"}
    assert len(body["key"]) == 64 and int(body["key"], 16) >= 0  # 32 random bytes, hex
    assert body["ingest_url"].endswith(f"/v1/alerts/{body['key']}")
    assert body["severity"] == "high"  # the default for payloads without one

    listed = api.get(f"/v1/orgs/{org_id}/integrations", token=admin.access_token).body["items"]
    assert [i["id"] for i in listed] == [body["id"]]
    assert body["key"] not in str(listed)
    assert listed[0]["key"] == "…" + body["key"][-4:]
    one = api.get(f"/v1/orgs/{org_id}/integrations/{body['id']}", token=admin.access_token).body
    assert body["key"] not in str(one)


def test_only_the_keys_hash_is_stored(api, team):
    org_id, admin, _ = team
    key = create(api, org_id, admin).body["key"]
    stored = [item.attribute_values for item in IngestKey.scan()]
    assert all(key not in str(values) for values in stored)


def test_only_admins_create_and_delete_integrations(api, team):
    org_id, admin, responder = team
    assert create(api, org_id, responder).status == 403
    integration = create(api, org_id, admin).body
    assert (
        api.delete(f"/v1/orgs/{org_id}/integrations/{integration['id']}", token=responder.access_token).status
        == 403
    )
    assert api.get(f"/v1/orgs/{org_id}/integrations", token=responder.access_token).status == 200


def test_another_orgs_integration_is_not_found(api, team, new_account, new_org):
    org_id, admin, _ = team
    integration = create(api, org_id, admin).body
    stranger = new_account()
    other = new_org(stranger)
    reply = api.delete(
        f"/v1/orgs/{other['id']}/integrations/{integration['id']}", token=stranger.access_token
    )
    assert reply.status == 404


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"type": "nagios"}, "type"),
        ({"severity": "urgent"}, "severity"),
        ({"name": ""}, "name"),
        ({"service_id": "01NOSUCHSERVICE"}, "service_id"),
    ],
)
def test_bad_integration_fields_are_named(api, team, fields, field):
    org_id, admin, _ = team
    reply = create(api, org_id, admin, **fields)
    assert reply.status == 400
    assert reply.message.startswith(f"{field}:")


def test_deleting_an_integration_revokes_its_key_at_once(api, team):
    org_id, admin, _ = team
    integration = create(api, org_id, admin, type="generic").body
    alert = {"title": "Disk almost full"}
    assert api.post(f"/v1/alerts/{integration['key']}", alert).status == 202
    assert (
        api.delete(f"/v1/orgs/{org_id}/integrations/{integration['id']}", token=admin.access_token).status
        == 204
    )
    reply = api.post(f"/v1/alerts/{integration['key']}", alert)
    assert reply.status == 404
    assert (
        api.post(
            "/v2/enqueue",
            {
                "routing_key": integration["key"],
                "event_action": "trigger",
                "payload": {"summary": "x", "source": "y", "severity": "info"},
            },
        ).status
        == 404
    )
    assert api.get(f"/v1/orgs/{org_id}/integrations", token=admin.access_token).body["items"] == []


def test_deleting_the_org_revokes_its_keys(api, team):
    org_id, admin, _ = team
    key = create(api, org_id, admin, type="generic").body["key"]
    assert api.delete(f"/v1/orgs/{org_id}", token=admin.access_token).status == 204
    assert api.post(f"/v1/alerts/{key}", {"title": "Disk almost full"}).status == 404
