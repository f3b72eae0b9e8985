"""Where the JWT secret comes from when deployed, and what the logs never contain."""

import dataclasses
import json
import logging

import boto3

from chalicelib.adapters import secrets
from chalicelib.settings import settings
from tests.integration.conftest import PASSWORD, unique_email


def test_the_deployed_secret_is_read_from_ssm(stack, monkeypatch):
    name = f"/vigil/test/{unique_email()}/jwt-secret"
    value = "x" * 48
    boto3.client("ssm", region_name="us-east-1").put_parameter(Name=name, Value=value, Type="SecureString")
    monkeypatch.setattr(
        secrets, "settings", dataclasses.replace(settings, jwt_secret=None, jwt_secret_parameter=name)
    )
    secrets.jwt_secret.cache_clear()
    try:
        assert secrets.jwt_secret() == value
    finally:
        secrets.jwt_secret.cache_clear()


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


def test_passwords_codes_and_tokens_never_reach_the_logs(api, mailbox):
    from chalicelib.observability import logger

    capture = _Capture()
    capture.setFormatter(logger.registered_formatter)
    root = logging.getLogger("vigil")
    root.addHandler(capture)
    previous = root.level
    root.setLevel(logging.DEBUG)
    try:
        email = unique_email()
        api.post("/v1/auth/signup", {"email": email, "password": PASSWORD})
        code = mailbox.last_code(email)
        api.post("/v1/auth/verify-email", {"email": email, "code": code})
        tokens = api.post("/v1/auth/login", {"email": email, "password": PASSWORD}).body
        api.post("/v1/auth/login", {"email": email, "password": "wrong password!"})
        api.post("/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]})
        auth = {"token": tokens["access_token"]}
        org = api.post("/v1/orgs", {"name": "Logged"}, **auth).body
        integration = api.post(
            f"/v1/orgs/{org['id']}/integrations", {"name": "Scripts", "type": "generic"}, **auth
        ).body
        api.post(f"/v1/alerts/{integration['key']}", {"title": "Backups failed"})
        api.post(
            "/v2/enqueue", {"routing_key": integration["key"], "event_action": "resolve", "dedup_key": "x"}
        )
    finally:
        root.removeHandler(capture)
        root.setLevel(previous)
    logged = "\n".join(capture.lines)
    assert capture.lines, "the requests were logged"
    assert all(json.loads(line)["service"] == "vigil" for line in capture.lines)
    assert any("request_id" in json.loads(line) for line in capture.lines)
    secrets = (PASSWORD, "wrong password!", code, tokens["access_token"], tokens["refresh_token"])
    for secret in (*secrets, integration["key"]):
        assert secret not in logged
