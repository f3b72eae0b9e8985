"""What a policy, a service or a preference names must be reachable and belong to the org:
cross-org references, E.164 numbers and webhook/Slack hosts are checked when saved (issue 9)."""

from __future__ import annotations

import dataclasses
import socket
from typing import Any

import pytest

from chalicelib.settings import settings
from tests.integration.test_policies_and_preferences import make_team, primary

ME = "/v1/users/me/notification-preferences"
SERVICE = {"name": "api", "url": "https://api.example.com/health"}


@pytest.fixture
def team(api, new_account, new_org):
    return make_team(api, new_account, new_org)


def services_path(org_id: str) -> str:
    return f"/v1/orgs/{org_id}/services"


def a_service(api, org_id: str, token: str, **fields: Any) -> dict[str, Any]:
    reply = api.post(services_path(org_id), {**SERVICE, **fields}, token=token)
    assert reply.status == 201, reply.body
    return reply.body


def a_policy(api, team, owner_org: str | None = None, token: str | None = None) -> dict[str, Any]:
    org_id = owner_org or team.org_id
    body = {"name": "P", "steps": [{"targets": [{"type": "email", "address": "oncall@example.com"}]}]}
    reply = api.post(f"/v1/orgs/{org_id}/escalation-policies", body, token=token or team.admin.access_token)
    assert reply.status == 201, reply.body
    return reply.body


# ---- cross-org references -----------------------------------------------------------------------


def test_a_service_cannot_name_another_orgs_policy_or_a_missing_one(api, team):
    theirs = a_policy(api, team, owner_org=team.other_org_id, token=team.outsider.access_token)
    path = services_path(team.org_id)
    token = team.admin.access_token
    for policy_id in (theirs["id"], "01NOSUCHPOLICY"):
        reply = api.post(path, {**SERVICE, "escalation_policy_id": policy_id}, token=token)
        assert reply.status == 400, reply.body
        assert reply.message.startswith("escalation_policy_id:"), reply.message

    ours = a_policy(api, team)
    service = a_service(api, team.org_id, token, escalation_policy_id=ours["id"])
    patched = api.patch(f"{path}/{service['id']}", {"escalation_policy_id": theirs["id"]}, token=token)
    assert patched.status == 400
    assert patched.message.startswith("escalation_policy_id:")
    assert api.patch(f"{path}/{service['id']}", {"name": "renamed"}, token=token).status == 200
    cleared = api.patch(f"{path}/{service['id']}", {"escalation_policy_id": None}, token=token)
    assert cleared.status == 200 and cleared.body["escalation_policy_id"] is None


def test_a_policy_cannot_match_another_orgs_service_or_a_missing_one(api, team):
    theirs = a_service(api, team.other_org_id, team.outsider.access_token)
    ours = a_service(api, team.org_id, team.admin.access_token)
    token = team.admin.access_token
    for service_ids in ([ours["id"], theirs["id"]], ["01NOSUCHSERVICE"]):
        body = primary(team, match={"min_severity": "low", "service_ids": service_ids})
        reply = api.post(team.path, body, token=token)
        assert reply.status == 400, reply.body
        assert reply.message.startswith("match.service_ids"), reply.message

    good = primary(team, match={"min_severity": "low", "service_ids": [ours["id"]]})
    created = api.post(team.path, good, token=token)
    assert created.status == 201, created.body
    bad = primary(team, match={"min_severity": "low", "service_ids": [theirs["id"]]})
    replaced = api.put(f"{team.path}/{created.body['id']}", bad, token=token)
    assert replaced.status == 400
    assert replaced.message.startswith("match.service_ids")


# ---- one E.164 rule ------------------------------------------------------------------------------


def test_a_number_the_sender_would_refuse_is_refused_when_saved(api, team, new_account):
    body = primary(
        team,
        steps=[
            {"targets": [{"type": "email", "address": "a@example.com"}, {"type": "sms", "number": "+1234"}]}
        ],
    )
    reply = api.post(team.path, body, token=team.admin.access_token)
    assert reply.status == 400
    assert reply.message.startswith("steps.0.targets.1.number: must be an E.164"), reply.message

    me = new_account()
    short = api.put(f"{ME}/sms", {"enabled": True, "address": "+1234"}, token=me.access_token)
    assert short.status == 400
    assert short.message.startswith("address: must be an E.164")
    fine = api.put(f"{ME}/sms", {"enabled": True, "address": "+15555550100"}, token=me.access_token)
    assert fine.status == 200


# ---- webhook and Slack hosts in a deployed stack -------------------------------------------------


def fullwidth(text: str, *, dots: bool = False) -> str:
    """``127.0.0.1`` written with fullwidth digits (U+FF10...), and fullwidth dots if asked."""
    wide = "0123456789" + ("." if dots else "")
    return "".join(chr(ord(ch) + 0xFEE0) if ch in wide else ch for ch in text)


PRIVATE_NAME = "hooks.corp.example"  # a public-looking name that resolves inside the network


@pytest.fixture
def deployed(monkeypatch):
    """The deployed setting (no private targets) where targets are saved, and a resolver that
    answers PRIVATE_NAME with a private address and PUBLIC_NAME with a public one."""
    forbidding = dataclasses.replace(settings, allow_private_targets=False)
    for module in ("policies", "preferences", "services"):
        monkeypatch.setattr(f"chalicelib.usecases.{module}.settings", forbidding)
    answers = {PRIVATE_NAME: "10.1.2.3", "hooks.example.com": "93.184.215.14"}
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (answers[host], port or 0))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize(
    "url",
    [
        f"https://{PRIVATE_NAME}/incoming",
        f"http://{fullwidth('127.0.0.1')}:9000/hook",  # 127.0.0.1 to every resolver
        f"http://{fullwidth('10.0.0.8', dots=True)}/hook",
    ],
)
def test_webhook_and_slack_targets_that_reach_inside_are_refused_when_saved(
    api, team, new_account, deployed, url
):
    for kind in ("webhook", "slack"):
        target_url = url.replace("http://", "https://") if kind == "slack" else url
        body = primary(team, steps=[{"targets": [{"type": kind, "url": target_url}]}])
        reply = api.post(team.path, body, token=team.admin.access_token)
        assert reply.status == 400, (kind, reply.body)
        assert reply.message.startswith("steps.0.targets.0.url:"), reply.message

        me = new_account()
        saved = api.put(f"{ME}/{kind}", {"enabled": True, "address": target_url}, token=me.access_token)
        assert saved.status == 400, (kind, saved.body)
        assert saved.message.startswith("address:"), saved.message


def test_a_service_url_written_with_fullwidth_digits_is_refused_too(api, team, deployed):
    reply = api.post(
        services_path(team.org_id),
        {"name": "x", "url": f"http://{fullwidth('127.0.0.1')}/"},
        token=team.admin.access_token,
    )
    assert reply.status == 400
    assert reply.message.startswith("url:")


def test_public_webhook_and_slack_targets_are_still_saved(api, team, new_account, deployed):
    hook = "https://hooks.example.com/in"
    body = primary(
        team, steps=[{"targets": [{"type": "webhook", "url": hook}, {"type": "slack", "url": hook}]}]
    )
    assert api.post(team.path, body, token=team.admin.access_token).status == 201
    me = new_account()
    assert api.put(f"{ME}/webhook", {"enabled": True, "address": hook}, token=me.access_token).status == 200
