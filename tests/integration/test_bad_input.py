"""Garbage sent to every route answers 4xx with Chalice's error shape, never a 500.

The routes come from the app itself, so a route added later is covered without
touching this file.
"""

import json
import re

import pytest

from app import app
from chalicelib.api.http import MAX_BODY_BYTES

ROUTES = sorted((path, method) for path, methods in app.routes.items() for method in methods)
BODIES = [
    b"not json at all",
    b"{",
    b"[1, 2, 3]",
    b'"a string"',
    b"null",
    b"\xff\xfe\x00garbage",
    b'{"email": {"$ne": null}, "password": [], "name": 7, "role": {}, "slug": 1, "code": false}',
    b'{"unexpected": "field"}',
    b"{}",
]


def _fill(path, org_id, user_id):
    path = path.replace("{org_id}", org_id).replace("{user_id}", user_id)
    return re.sub(r"{\w+}", "x", path)


def _answers_html(path, method):
    doc = getattr(app.routes[path][method].view_function, "__vigil_route__", None)
    return doc is not None and doc.media_type == "text/html"


@pytest.fixture
def world(api, new_account):
    owner = new_account()
    org = api.post("/v1/orgs", {"name": "Garbage Test"}, token=owner.access_token).body
    return owner, org


@pytest.mark.parametrize(("path", "method"), ROUTES)
def test_garbage_bodies_get_a_4xx_with_a_message(api, world, path, method):
    owner, org = world
    concrete = _fill(path, org["id"], owner.user_id)
    for body in BODIES:
        for token in (owner.access_token, None):
            reply = api.call(method, concrete, raw=body, token=token)
            assert reply.status < 500, (method, concrete, body, reply.body)
            if reply.status >= 400 and path.startswith("/ping/"):
                # healthchecks' text answers (HEAD: none, as HTTP says)
                assert method == "HEAD" or (isinstance(reply.body, str) and reply.body), reply.body
            elif reply.status >= 400 and _answers_html(path, method):
                # the pages an emailed link opens: a person reads the error
                assert reply.headers["content-type"].startswith("text/html"), reply.headers
                assert isinstance(reply.body, str) and reply.body
            elif reply.status >= 400:
                # /v2/enqueue adds PagerDuty's own fields (status, message, errors) alongside.
                expected = {"Code", "Message"} | (
                    {"status", "message", "errors"} if path == "/v2/enqueue" else set()
                )
                assert set(reply.body) == expected, reply.body
                assert reply.body["Message"]


@pytest.mark.parametrize(("path", "method"), [r for r in ROUTES if r[1] in {"POST", "PUT", "PATCH"}])
def test_bodies_over_256_kib_are_413(api, world, path, method):
    owner, org = world
    concrete = _fill(path, org["id"], owner.user_id)
    huge = b'{"name": "' + b"x" * MAX_BODY_BYTES + b'"}'
    reply = api.call(method, concrete, raw=huge, token=owner.access_token)
    assert reply.status == 413, (method, concrete, reply.status)


def test_invalid_json_names_the_body(api):
    reply = api.post("/v1/auth/login", raw=b"{nope")
    assert reply.status == 400
    assert reply.body == {"Code": "BadRequestError", "Message": "body: is not valid JSON"}


def test_a_json_array_is_not_an_object(api):
    reply = api.post("/v1/auth/signup", raw=b"[]")
    assert reply.status == 400
    assert reply.message == "body: must be a JSON object"


def test_a_form_content_type_is_still_read_as_json(api):
    reply = api.post(
        "/v1/auth/login",
        raw=b"email=a&password=b",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert reply.status == 400
    assert reply.message == "body: is not valid JSON"


# ---- issue 9: no 500s -----------------------------------------------------------------------------

DEEP = b"[" * 1000 + b"]" * 1000  # 2 KB that overflowed Python's JSON parser: a 500 on every JSON route
DEEP_OBJECT = b'{"a":' * 1000 + b"1" + b"}" * 1000


@pytest.fixture
def org_with_integration(api, world):
    owner, org = world
    reply = api.post(
        f"/v1/orgs/{org['id']}/integrations", {"name": "Generic", "type": "generic"}, token=owner.access_token
    )
    assert reply.status == 201, reply.body
    return owner, org, reply.body["key"]


def _takes_a_body(path: str, method: str) -> bool:
    doc = getattr(app.routes[path][method].view_function, "__vigil_route__", None)
    return doc is not None and doc.body is not None


JSON_ROUTES = [r for r in ROUTES if r[1] in {"POST", "PUT", "PATCH"} and _takes_a_body(*r)]


def test_every_route_that_reads_json_is_covered():
    assert ("/v1/alerts/{key}", "POST") in JSON_ROUTES
    assert ("/v2/enqueue", "POST") in JSON_ROUTES
    assert len(JSON_ROUTES) > 20


@pytest.mark.parametrize(("path", "method"), JSON_ROUTES)
def test_json_nested_a_thousand_levels_is_400_on_every_route(api, org_with_integration, path, method):
    owner, org, key = org_with_integration
    concrete = _fill(path, org["id"], owner.user_id).replace("/v1/alerts/x", f"/v1/alerts/{key}")
    for body in (DEEP, DEEP_OBJECT):
        reply = api.call(method, concrete, raw=body, token=owner.access_token)
        # 404 where a made-up id in the path is looked at first; otherwise the body is refused.
        assert reply.status in (400, 404), (method, concrete, reply.status, reply.body)
        if reply.status == 400:
            assert reply.message.startswith("body: must not nest"), reply.message


def test_deep_json_is_400_on_alert_ingest_with_a_real_key(api, org_with_integration):
    _, _, key = org_with_integration
    for path, body in (
        (f"/v1/alerts/{key}", b'{"title": "t", "details": ' + DEEP + b"}"),
        ("/v2/enqueue", b'{"routing_key": "' + key.encode() + b'", "payload": ' + DEEP_OBJECT + b"}"),
    ):
        reply = api.post(path, raw=body)
        assert reply.status == 400, (path, reply.body)
        assert reply.body["Message"] == "body: must not nest arrays and objects more than 32 levels deep"


def test_json_32_levels_deep_is_read_and_33_is_not(api, org_with_integration):
    _, _, key = org_with_integration
    ok = {"title": "Nested details", "details": {"x": json.loads("[" * 30 + "]" * 30)}}  # 32 levels
    assert api.post(f"/v1/alerts/{key}", ok).status == 202
    too_deep = {"title": "Nested details", "details": {"x": json.loads("[" * 31 + "]" * 31)}}
    reply = api.post(f"/v1/alerts/{key}", too_deep)
    assert (reply.status, reply.message) == (
        400,
        "body: must not nest arrays and objects more than 32 levels deep",
    )


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/incidents", {"title": "Disk full", "service_id": ""}, "service_id"),
        ("/integrations", {"name": "Generic", "type": "generic", "service_id": ""}, "service_id"),
        (
            "/services",
            {"name": "Site", "url": "http://127.0.0.1:9/", "escalation_policy_id": ""},
            "escalation_policy_id",
        ),
        (
            "/escalation-policies",
            {
                "name": "P",
                "match": {"service_ids": [""]},
                "steps": [{"targets": [{"type": "role", "role": "admin"}]}],
            },
            "match.service_ids.0",
        ),
        (
            "/escalation-policies",
            {"name": "P", "steps": [{"targets": [{"type": "user", "id": ""}]}]},
            "steps.0.targets.0.id",
        ),
    ],
)
def test_an_empty_id_is_400_naming_the_field(api, world, path, body, field):
    owner, org = world
    reply = api.post(f"/v1/orgs/{org['id']}{path}", body, token=owner.access_token)
    assert reply.status == 400, reply.body
    assert reply.message.startswith(f"{field}: "), reply.message


def test_an_empty_service_id_filter_is_400_naming_it(api, world):
    owner, org = world
    reply = api.get(f"/v1/orgs/{org['id']}/incidents?service_id=", token=owner.access_token)
    assert reply.status == 400, reply.body
    assert reply.message == "service_id: is not a valid id"


# ---- issue 9: bodies the document declares ---------------------------------------------------------


def test_a_patch_without_a_body_is_400(api, world):
    owner, org = world
    base = f"/v1/orgs/{org['id']}"
    incident = api.post(f"{base}/incidents", {"title": "Disk full"}, token=owner.access_token).body
    service = api.post(
        f"{base}/services", {"name": "Site", "url": "http://127.0.0.1:9/"}, token=owner.access_token
    ).body
    for path in (
        base,
        f"{base}/incidents/{incident['id']}",
        f"{base}/services/{service['id']}",
        "/v1/users/me",
    ):
        reply = api.call("PATCH", path, raw=b"", token=owner.access_token)
        assert (reply.status, reply.message) == (400, "body: is required"), path
        assert api.patch(path, {}, token=owner.access_token).status == 200, path  # {} changes nothing


def test_resolve_takes_no_body_as_its_note_is_optional(api, world):
    owner, org = world
    base = f"/v1/orgs/{org['id']}/incidents"
    incident = api.post(base, {"title": "Disk full"}, token=owner.access_token).body
    reply = api.call("POST", f"{base}/{incident['id']}/resolve", raw=b"", token=owner.access_token)
    assert reply.status == 200, reply.body
    assert reply.body["status"] == "resolved"


def test_snooze_minutes_must_be_written_as_an_integer(api, world):
    owner, org = world
    base = f"/v1/orgs/{org['id']}/incidents"
    incident = api.post(base, {"title": "Disk full"}, token=owner.access_token).body
    reply = api.post(f"{base}/{incident['id']}/snooze", {"minutes": 340.0}, token=owner.access_token)
    assert (reply.status, reply.message) == (400, "minutes: must be an integer")


def test_a_cursor_that_is_not_base64url_is_400(api, world):
    owner, org = world
    for cursor in ("abc%3D%3D", "a%20b", "a" * 2049):
        reply = api.get(f"/v1/orgs/{org['id']}/services?cursor={cursor}", token=owner.access_token)
        assert (reply.status, reply.message) == (400, "cursor: is not a valid cursor for this list"), cursor


# ---- issue 9: the default timeout ------------------------------------------------------------------


@pytest.mark.parametrize(("interval", "timeout"), [(2, 1), (5, 4), (12, 9), (13, 10), (60, 10)])
def test_the_default_timeout_is_10_s_or_80_percent_of_a_shorter_interval(api, world, interval, timeout):
    owner, org = world
    reply = api.post(
        f"/v1/orgs/{org['id']}/services",
        {"name": "Fast", "url": "http://127.0.0.1:9/", "interval_seconds": interval},
        token=owner.access_token,
    )
    assert reply.status == 201, reply.body
    assert reply.body["timeout_seconds"] == timeout
