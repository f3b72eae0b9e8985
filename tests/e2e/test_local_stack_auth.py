"""Login throttling over HTTP: the local stack gives the app each caller's real address, as API
Gateway does in `requestContext.identity.sourceIp`, so one client's failures stay its own."""

import http.client
import json
from urllib.parse import urlsplit

import pytest
import requests

pytestmark = pytest.mark.e2e


def post_from(source_address: str, url: str, body: dict) -> tuple[int, dict]:
    """POST from a chosen loopback address (all of 127.0.0.0/8 reaches a server on 127.0.0.1)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=10, source_address=(source_address, 0)
    )
    try:
        connection.request("POST", parts.path, json.dumps(body), {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def test_failed_logins_from_one_address_do_not_lock_out_another(local_stack):
    account = local_stack.account()
    login = local_stack.url("/v1/auth/login")
    attempts = [
        post_from("127.0.0.2", login, {"email": account["email"], "password": "a wrong guess"})[0]
        for _ in range(6)
    ]
    assert attempts == [401] * 5 + [429]

    owner = requests.post(login, json={"email": account["email"], "password": "password-1"}, timeout=10)
    assert owner.status_code == 200
    status, _ = post_from("127.0.0.3", login, {"email": account["email"], "password": "password-1"})
    assert status == 200
