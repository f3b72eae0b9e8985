"""Integration fixtures: one moto server per test process, with Vigil's stack deployed in it."""

import json
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from chalice.test import Client
from moto.server import ThreadedMotoServer

from infra.local.resources import DeployedStack, deploy
from tests.conftest import MOTO_ENDPOINT, MOTO_PORT


@pytest.fixture(scope="session")
def moto_endpoint():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=MOTO_PORT, verbose=False)
    server.start()
    yield MOTO_ENDPOINT
    server.stop()


@pytest.fixture(scope="session")
def stack(moto_endpoint) -> DeployedStack:
    return deploy(
        endpoint_url=moto_endpoint,
        region="us-east-1",
        table_prefix="vigil-test-",
        email_sender="Vigil <vigil@example.com>",
        stack_name="vigil-test",
    )


# ---- the API through chalice's test client ------------------------------------------------------


PASSWORD = "correct horse battery"


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def message(self) -> str:
        return self.body.get("Message", "") if isinstance(self.body, dict) else ""


class Api:
    """Calls routes as a client would: JSON in, JSON out, optional bearer token."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        json_body: Any = None,
        *,
        token: str | None = None,
        raw: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = {"content-type": "application/json"}
        if token:
            all_headers["authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        body = raw if raw is not None else (json.dumps(json_body) if json_body is not None else None)
        response = getattr(self.client.http, method.lower())(path, body=body, headers=all_headers)
        text = response.body.decode() if isinstance(response.body, bytes) else response.body
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return Reply(response.status_code, parsed, {k.lower(): v for k, v in response.headers.items()})

    def get(self, path: str, **kw: Any) -> Reply:
        return self.call("GET", path, **kw)

    def post(self, path: str, json_body: Any = None, **kw: Any) -> Reply:
        return self.call("POST", path, json_body, **kw)

    def patch(self, path: str, json_body: Any = None, **kw: Any) -> Reply:
        return self.call("PATCH", path, json_body, **kw)

    def put(self, path: str, json_body: Any = None, **kw: Any) -> Reply:
        return self.call("PUT", path, json_body, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.call("DELETE", path, **kw)


class Mailbox:
    """Reads what the app sent through the embedded SES."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def messages_to(self, address: str) -> list[dict[str, Any]]:
        data = requests.get(f"{self.endpoint}/moto-api/data.json", timeout=10).json()
        sent = data.get("ses", {}).get("Message", [])
        return [m for m in sent if address.lower() in [a.lower() for a in m["destinations"]["ToAddresses"]]]

    def last_code(self, address: str) -> str:
        codes = [re.search(r"\b(\d{6})\b", m["subject"]) for m in self.messages_to(address)]
        found = [c.group(1) for c in codes if c]
        assert found, f"no verification code was emailed to {address}"
        return found[-1]

    def last_reset_token(self, address: str) -> str:
        for message in reversed(self.messages_to(address)):
            match = re.search(r"Reset token: <code>([A-Za-z0-9_-]+)</code>", message["body"])
            if match:
                return match.group(1)
        raise AssertionError(f"no reset token was emailed to {address}")


@dataclass
class Account:
    user_id: str
    email: str
    password: str
    access_token: str
    refresh_token: str


@pytest.fixture(scope="session")
def api(stack) -> Api:
    from app import app

    with Client(app) as client:
        yield Api(client)


@pytest.fixture(scope="session")
def mailbox(moto_endpoint) -> Mailbox:
    return Mailbox(moto_endpoint)


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


@pytest.fixture(scope="session")
def new_account(api: Api, mailbox: Mailbox):
    """Makes verified, logged-in accounts: ``new_account()`` or ``new_account(email=...)``."""

    def make(email: str | None = None, name: str = "Test User") -> Account:
        email = email or unique_email()
        signup = api.post("/v1/auth/signup", {"email": email, "password": PASSWORD, "name": name})
        assert signup.status == 201, signup.body
        verify = api.post("/v1/auth/verify-email", {"email": email, "code": mailbox.last_code(email)})
        assert verify.status == 200, verify.body
        login = api.post("/v1/auth/login", {"email": email, "password": PASSWORD})
        assert login.status == 200, login.body
        return Account(
            user_id=signup.body["id"],
            email=email,
            password=PASSWORD,
            access_token=login.body["access_token"],
            refresh_token=login.body["refresh_token"],
        )

    return make


@pytest.fixture(scope="session")
def new_org(api: Api):
    def make(owner: Account, name: str = "Acme Ops") -> dict[str, Any]:
        reply = api.post("/v1/orgs", {"name": name}, token=owner.access_token)
        assert reply.status == 201, reply.body
        return reply.body

    return make
