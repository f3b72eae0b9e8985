"""Garbage sent to every route answers 4xx with Chalice's error shape, never a 500.

The routes come from the app itself, so a route added later is covered without
touching this file.
"""

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
            if reply.status >= 400:
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
