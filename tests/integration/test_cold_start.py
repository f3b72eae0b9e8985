"""What each Lambda function's handler module imports at a cold start (README "Performance").

Each handler module is imported by a fresh interpreter, as Lambda does, and what it left in
``sys.modules`` is checked against what that function must not load before it needs it: the classifier
(loaded by the first incident a container classifies), cryptography and PyJWT (by the first SNS
delivery or bearer token), the routes (the API function's alone), pydantic and the routes' models (by
the first body the API parses, or its OpenAPI document), incidents (by the checker's first outage),
boto3 (by the first AWS client a call makes), and app.py itself (which wires every function).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.cold_start import handler_modules, lambda_environment

PROJECT = Path(__file__).resolve().parents[2]

EVERY_FUNCTION = {
    "app",
    "chalicelib.domain.classifier",
    "chalicelib.adapters.bedrock",
    "cryptography",
    "jwt",
    "boto3",
}
NO_ROUTES = {"chalicelib.api", "chalicelib.entry.api", "pydantic"}
# A route imports the use cases it calls when called: the API's cold start holds only the membership
# check's (orgs, users) and the status pages' (their limits are in the request models).
ROUTE_USE_CASES = {
    f"chalicelib.usecases.{name}"
    for name in (
        *("alert_taking", "escalation", "heartbeats", "incidents", "integrations", "maintenance"),
        *("notifications", "policies", "services", "subscribers", "status_snapshots"),
    )
}
# A route names its models; they are imported with pydantic by the first body parsed (the view imports
# them) or the OpenAPI document.
ROUTE_MODELS = {"pydantic", "chalicelib.api.schemas", "chalicelib.api.fields"}
MUST_NOT_IMPORT: dict[str, set[str]] = {
    # Every route, and none of the event handlers.
    "chalicelib.entry.api": EVERY_FUNCTION
    | ROUTE_USE_CASES
    | ROUTE_MODELS
    | {"chalicelib.events", "aws_lambda_powertools.utilities.batch", "requests"},
    "chalicelib.entry.websocket": EVERY_FUNCTION | NO_ROUTES | {"chalicelib.events.realtime", "requests"},
    # The checker, the scheduler and the rollup fold: a steady check opens no incident.
    "chalicelib.events.probes": EVERY_FUNCTION | NO_ROUTES | {"chalicelib.usecases.incidents", "bcrypt"},
    "chalicelib.events.alerts": EVERY_FUNCTION | NO_ROUTES,
    "chalicelib.events.heartbeats": EVERY_FUNCTION | NO_ROUTES | {"chalicelib.usecases.incidents"},
    "chalicelib.events.incidents": EVERY_FUNCTION | NO_ROUTES,
    "chalicelib.events.maintenance": EVERY_FUNCTION | NO_ROUTES,
    "chalicelib.events.notifications": EVERY_FUNCTION | NO_ROUTES,
    # The publishers shape each record with the API's own functions (chalicelib/api/shapes.py), no route.
    "chalicelib.events.realtime": EVERY_FUNCTION
    | {"pydantic", "chalicelib.api.http", "chalicelib.entry", "chalicelib.usecases.services", "requests"},
    # The status page publisher: queues pages and renders them from the tables, no route.
    "chalicelib.events.status_pages": EVERY_FUNCTION
    | NO_ROUTES
    | {"chalicelib.usecases.incidents", "chalicelib.usecases.subscribers", "requests"},
    "chalicelib.events.subscribers": EVERY_FUNCTION | NO_ROUTES,
}


def imported_by(module: str) -> set[str]:
    """Every module in sys.modules after a fresh interpreter imported ``module``."""
    script = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    env = lambda_environment() | {"PYTHONPATH": str(PROJECT)}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout))


def test_every_function_s_handler_module_has_its_rules() -> None:
    """A new function (or a new Handler in infra/template.yaml) says here what it must not load."""
    assert set(handler_modules()) == set(MUST_NOT_IMPORT)


def test_the_packaged_handlers_of_the_api_and_the_websocket_routes_import_no_app_py() -> None:
    handlers = {function: module for module, functions in handler_modules().items() for function in functions}
    assert handlers["APIHandler"] == "chalicelib.entry.api"
    for function in ("WebsocketConnect", "WebsocketMessage", "WebsocketDisconnect"):
        assert handlers[function] == "chalicelib.entry.websocket"
    assert handlers["RunProbeBatch"] == "chalicelib.events.probes"


@pytest.mark.parametrize("module", sorted(MUST_NOT_IMPORT))
def test_a_cold_start_loads_nothing_its_function_does_not_need_yet(module: str) -> None:
    loaded = imported_by(module)
    found = sorted(
        name
        for name in loaded
        for banned in MUST_NOT_IMPORT[module]
        if name == banned or name.startswith(banned + ".")
    )
    assert found == [], f"{module} imports {found}"


def test_the_first_classification_loads_the_classifier_and_its_shipped_tables() -> None:
    """The lazy import is the only way in: categorize() works from a cold checker's modules."""
    script = (
        "import sys, chalicelib.events.probes\n"
        "from chalicelib.usecases.classification import categorize\n"
        "assert 'chalicelib.domain.classifier' not in sys.modules\n"
        "print(categorize('DNS resolution failing for api.example.com'))\n"
    )
    env = lambda_environment() | {"PYTHONPATH": str(PROJECT)}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "network"


@pytest.fixture
def unconfigured_websocket_api() -> Iterator[None]:
    """A handler call points the container's WebsocketAPI at the event's API: undone afterwards."""
    from chalicelib.adapters.websocket_push import websocket_api

    saved = (websocket_api._endpoint, websocket_api._client)
    yield
    websocket_api._endpoint, websocket_api._client = saved


@pytest.mark.usefixtures("unconfigured_websocket_api")
def test_the_deployed_websocket_handler_answers_as_app_py_s_does() -> None:
    from app import websocket_connect
    from chalicelib.entry import websocket

    event = {
        "requestContext": {
            "routeKey": "$connect",
            "eventType": "CONNECT",
            "connectionId": "Y29sZC1zdGFydA=",
            "apiId": "local",
            "stage": "api",
            "domainName": "127.0.0.1",
        },
        "queryStringParameters": {"org_id": "any"},
        "isBase64Encoded": False,
    }
    deployed = websocket.websocket_connect(event, {})
    assert deployed == websocket_connect(event, {})
    assert deployed["statusCode"] == 401


def test_a_publisher_runs_from_its_own_module_without_app_py() -> None:
    """Deployed, Lambda imports chalicelib.events.realtime alone: no blueprint is registered to an app
    there, so the publishers push through the container's WebsocketAPI, not `bp.current_app`."""
    script = (
        "import sys\n"
        "from chalicelib.events import realtime\n"
        "from chalicelib.models.services import SCHEDULER_PARTITION\n"
        "image = {'org_id': {'S': SCHEDULER_PARTITION}}\n"
        "record = {'eventID': '1', 'eventName': 'MODIFY', 'eventSource': 'aws:dynamodb',\n"
        "          'dynamodb': {'SequenceNumber': '1', 'NewImage': image}}\n"
        "print(realtime.publish({'Records': [record]}, None, read=realtime.service_record))\n"
        "assert 'app' not in sys.modules\n"
    )
    env = lambda_environment() | {"PYTHONPATH": str(PROJECT)}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "{'batchItemFailures': []}"
