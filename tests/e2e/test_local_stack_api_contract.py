"""The local stack against its own OpenAPI document: schemathesis 4 generates requests from
/openapi.json (valid and invalid ones) and checks every answer against it; and what API Gateway
answers for a method a route does not have."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import running_stack

CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance,negative_data_rejection"
)
MAX_EXAMPLES = 8  # per operation and phase: about 3,000 cases in a few minutes on two cores


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "PUT", "HEAD", "OPTIONS"])
def test_a_method_a_route_does_not_have_gets_api_gateways_json_403(local_stack, method):
    reply = requests.request(method, local_stack.url("/health"), timeout=10)
    assert reply.status_code == 403
    assert reply.headers["content-type"] == "application/json"
    if method != "HEAD":
        assert reply.json() == {"message": "Missing Authentication Token"}


def test_an_unknown_path_gets_the_same_403_whatever_the_method(local_stack):
    for method in ("GET", "TRACE"):
        reply = requests.request(method, local_stack.url("/v1/nothing-here"), timeout=10)
        assert (reply.status_code, reply.json()) == (403, {"message": "Missing Authentication Token"})


def _world(stack) -> tuple[dict[str, str], dict[str, str], dict[str, dict[str, str]]]:
    """A verified user's token, real ids for every path parameter, and what the destructive
    operations get instead (their own org, service, policy and integration to delete)."""
    account = stack.account()
    auth, org_id = account["auth"], account["org_id"]

    def post(path: str, body: dict) -> dict:
        reply = requests.post(stack.url(path), json=body, headers=auth, timeout=10)
        assert reply.status_code in (201, 202), (path, reply.text)
        return reply.json()

    base = f"/v1/orgs/{org_id}"
    service = {"name": "Health", "url": stack.url("/health"), "interval_seconds": 60}
    policy = {"name": "Ops", "steps": [{"targets": [{"type": "role", "role": "admin"}]}]}
    integration = {"name": "Alertmanager", "type": "alertmanager"}
    me = requests.get(stack.url("/v1/users/me"), headers=auth, timeout=10).json()
    email = "invited-" + me["id"].lower() + "@example.com"
    post(f"{base}/members", {"email": email, "role": "viewer"})
    kept = post(f"{base}/integrations", integration)
    heartbeat = post(f"{base}/services", {"name": "Cron", "type": "heartbeat", "period_seconds": 3600})
    service_id = post(f"{base}/services", service)["id"]
    status_page = {"title": "Status", "components": [{"name": "API", "service_id": service_id}]}
    page = post(f"{base}/status-pages", {"slug": f"fuzz-{org_id.lower()}", **status_page})
    update = {"title": "Slow API", "status": "investigating", "message": "Looking into it."}
    parameters = {
        "path.org_id": org_id,
        "path.user_id": me["id"],
        "path.service_id": service_id,
        "path.page_id": page["id"],
        "path.post_id": post(f"{base}/status-pages/{page['id']}/posts", update)["id"],
        "path.slug": page["slug"],
        "path.incident_id": post(f"{base}/incidents", {"title": "Disk full"})["id"],
        "path.policy_id": post(f"{base}/escalation-policies", policy)["id"],
        "path.integration_id": kept["id"],
        "path.key": kept["key"],
        "path.email": email,
        "path.token": heartbeat["ping_url"].rsplit("/", 1)[1],  # the ping routes move a real heartbeat
    }
    doomed = {
        "DELETE /v1/orgs/{org_id}": {"path.org_id": post("/v1/orgs", {"name": "Doomed"})["id"]},
        "DELETE /v1/orgs/{org_id}/services/{service_id}": {
            "path.service_id": post(f"{base}/services", service)["id"]
        },
        "DELETE /v1/orgs/{org_id}/escalation-policies/{policy_id}": {
            "path.policy_id": post(f"{base}/escalation-policies", policy)["id"]
        },
        "DELETE /v1/orgs/{org_id}/integrations/{integration_id}": {
            "path.integration_id": post(f"{base}/integrations", integration)["id"]
        },
        "DELETE /v1/orgs/{org_id}/status-pages/{page_id}": {
            "path.page_id": post(f"{base}/status-pages", {"slug": f"doomed-{org_id.lower()}", **status_page})[
                "id"
            ]
        },
    }
    return auth, parameters, doomed


def _config(parameters: dict[str, str], doomed: dict[str, dict[str, str]]) -> str:
    def table(values: dict[str, str]) -> str:
        return "\n".join(f"{json.dumps(name)} = {json.dumps(value)}" for name, value in values.items())

    sections = [f"[parameters]\n{table(parameters)}"]
    for name, values in doomed.items():
        sections.append(
            f"[[operations]]\ninclude-name = {json.dumps(name)}\n[operations.parameters]\n{table(values)}"
        )
    return "\n\n".join(sections) + "\n"


@pytest.fixture(scope="module")
def fuzzed_stack():
    """A stack of its own: the thousands of orgs, services and incidents the fuzzer makes (and the
    probes of those services) would otherwise slow every e2e test that runs after it."""
    yield from running_stack()


@pytest.mark.slow
def test_schemathesis_finds_nothing_against_the_openapi_document(fuzzed_stack, tmp_path: Path):
    local_stack = fuzzed_stack
    auth, parameters, doomed = _world(local_stack)
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(parameters, doomed))
    junit = tmp_path / "schemathesis.xml"
    started = time.monotonic()
    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("st")),
            "--config-file",
            str(config),
            "run",
            local_stack.url("/openapi.json"),
            "--header",
            f"Authorization: {auth['Authorization']}",
            "--checks",
            CHECKS,
            "--max-examples",
            str(MAX_EXAMPLES),
            # One worker: hypothesis parses lambdas' source with ast, which CPython 3.11 does not do
            # safely from two threads at once ("AST constructor recursion depth mismatch").
            "--workers",
            "1",
            "--seed",
            "20261201",
            "--no-shrink",
            "--report",
            "junit",
            "--report-junit-path",
            str(junit),
        ],
        cwd=tmp_path,  # schemathesis keeps its cache (.schemathesis/) in the working directory
        capture_output=True,
        text=True,
        timeout=600,
    )
    elapsed = time.monotonic() - started
    summary = run.stdout[-20000:]
    print(f"schemathesis: {elapsed:.0f} s\n{summary}")
    assert run.returncode == 0, summary
