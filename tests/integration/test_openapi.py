"""The OpenAPI document is generated from the routes and passes openapi-spec-validator."""

import pytest
from chalice import Chalice
from openapi_spec_validator import validate

from app import app
from chalicelib.api.http import VigilBlueprint


def test_discovery_and_health(api):
    assert api.get("/health").body == {"status": "ok"}
    root = api.get("/").body
    assert root["name"] == "vigil"
    assert root["docs"] == "/openapi.json"
    assert root["version"]


def test_the_document_is_valid_openapi_3(api):
    reply = api.get("/openapi.json")
    assert reply.status == 200
    document = reply.body
    assert document["openapi"].startswith("3.")
    validate(document)


def test_every_route_is_described(api):
    document = api.get("/openapi.json").body
    described = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    routes = {(path, method) for path, methods in app.routes.items() for method in methods}
    assert routes == described


def test_request_bodies_come_from_the_pydantic_models(api):
    document = api.get("/openapi.json").body
    signup = document["paths"]["/v1/auth/signup"]["post"]
    ref = signup["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert set(schema["required"]) == {"email", "password"}
    assert schema["properties"]["password"]["minLength"] == 8
    assert signup["security"] == []
    assert document["paths"]["/v1/users/me"]["get"]["security"] == [{"bearer": []}]
    assert "201" in signup["responses"]


def test_a_route_naming_a_model_its_schema_module_lacks_fails_the_document():
    """Routes name their models (imported with the document, not at a cold start): a typo fails here."""
    from chalicelib.api.openapi import openapi_document

    bp = VigilBlueprint(__name__, schemas="chalicelib.api.schemas.services")

    @bp.route("/typo", summary="A route with a typo", response="ServiceOutt")
    def typo() -> None: ...

    misnamed = Chalice(app_name="misnamed")
    misnamed.register_blueprint(bp)
    with pytest.raises(LookupError, match=r"chalicelib\.api\.schemas\.services has no model 'ServiceOutt'"):
        openapi_document(misnamed, version="test")


def test_a_route_naming_models_needs_a_schema_module():
    with pytest.raises(ValueError, match="schemas module"):
        VigilBlueprint(__name__).route("/no-schemas", summary="No schemas", body="ServiceIn")


# ---- issue 9: the document states every rule the code enforces ------------------------------------


def _document():
    from chalicelib.api.openapi import openapi_document

    return openapi_document(app, version="test")


def _schema(document, ref_holder):
    ref = ref_holder["$ref"].rsplit("/", 1)[-1]
    return document["components"]["schemas"][ref]


def _operations(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_every_status_a_route_can_answer_is_listed():
    for path, method, operation in _operations(_document()):
        statuses = set(operation["responses"])
        if operation["parameters"] and any(p["in"] == "query" for p in operation["parameters"]):
            assert "400" in statuses, (method, path)  # ?limit=101, a tampered cursor, days=0
        if operation["security"]:
            assert "401" in statuses, (method, path)
        if "{" in path:
            assert "404" in statuses, (method, path)
        if "requestBody" in operation:
            assert {"400", "413"} <= statuses, (method, path)
        assert "503" in statuses, (method, path)  # API Gateway's throttling


def test_query_parameters_state_their_bounds():
    paths = _document()["paths"]
    params = {
        p["name"]: p["schema"]
        for p in paths["/v1/orgs/{org_id}/services/{service_id}/checks"]["get"]["parameters"]
    }
    assert (params["hours"]["minimum"], params["hours"]["maximum"]) == (1, 720)
    assert (params["limit"]["minimum"], params["limit"]["maximum"]) == (1, 100)
    assert params["cursor"]["pattern"] == "^[A-Za-z0-9_-]{1,2048}$"
    days = paths["/v1/orgs/{org_id}/metrics"]["get"]["parameters"][1]["schema"]
    assert (days["minimum"], days["maximum"]) == (1, 365)
    incidents = {p["name"]: p["schema"] for p in paths["/v1/orgs/{org_id}/incidents"]["get"]["parameters"]}
    assert incidents["status"]["enum"] == ["open", "acknowledged", "snoozed", "resolved"]
    assert incidents["severity"]["enum"] == ["low", "medium", "high", "critical"]


def test_bodies_are_required_except_where_every_field_is_optional_by_design():
    paths = _document()["paths"]
    for path in ("/v1/orgs/{org_id}", "/v1/users/me", "/v1/orgs/{org_id}/services/{service_id}"):
        assert paths[path]["patch"]["requestBody"]["required"] is True, path
    assert (
        paths["/v1/orgs/{org_id}/incidents/{incident_id}/resolve"]["post"]["requestBody"]["required"] is False
    )
    ingest = paths["/v1/alerts/{key}"]["post"]["requestBody"]
    assert ingest["required"] is True
    assert _schema(_document(), ingest["content"]["application/json"]["schema"])["type"] == "object"


def test_field_rules_are_in_the_schema():
    document = _document()
    schemas = document["components"]["schemas"]
    assert "pattern" in schemas["SignupRequest"]["properties"]["email"]
    assert schemas["CreateOrgRequest"]["properties"]["slug"]["anyOf"][0]["pattern"]
    assert schemas["CreateServiceRequest"]["properties"]["url"]["anyOf"][0]["minLength"] == 1
    # PATCH: omitted is unchanged and null is refused, except where null means "none"
    update = schemas["UpdateServiceRequest"]["properties"]
    assert update["url"]["type"] == "string" and "anyOf" not in update["url"]
    assert {"type": "null"} in update["keyword"]["anyOf"]
    assert schemas["SnoozeRequest"]["properties"]["minutes"]["type"] == "integer"
    assert schemas["CreateIncidentRequest"]["properties"]["service_id"]["anyOf"][0]["pattern"]


def test_a_target_states_the_one_field_its_type_needs():
    schemas = _document()["components"]["schemas"]
    targets = schemas["PolicyStep"]["properties"]["targets"]["items"]
    assert targets["discriminator"]["propertyName"] == "type"
    assert schemas["SmsTarget"]["required"] == ["type", "number"]
    assert "pattern" in schemas["SmsTarget"]["properties"]["number"]
    assert schemas["UserTarget"]["required"] == ["type", "id"]


def test_enqueue_states_pagerdutys_rules_per_event_action():
    document = _document()
    body = document["paths"]["/v2/enqueue"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    event = _schema(document, body)
    assert event["discriminator"]["propertyName"] == "event_action"
    schemas = document["components"]["schemas"]
    assert "payload" in schemas["PagerDutyTrigger"]["required"]
    assert "dedup_key" not in schemas["PagerDutyTrigger"]["required"]
    assert "dedup_key" in schemas["PagerDutyResolve"]["required"]
    assert "dedup_key" in schemas["PagerDutyAcknowledge"]["required"]


def test_response_models_are_closed_and_complete():
    document = _document()
    for path, method, operation in _operations(document):
        for status, response in operation["responses"].items():
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            if schema is None or status.startswith(("4", "5")) or path == "/openapi.json":
                continue
            assert _schema(document, schema).get("additionalProperties") is False, (method, path)
    assert "snoozed_until" in document["components"]["schemas"]["IncidentOut"]["properties"]


def test_enums_come_from_the_domain():
    from chalicelib.domain.enums import CHANNELS, SEVERITIES

    schemas = _document()["components"]["schemas"]
    assert tuple(schemas["Severity"]["enum"]) == SEVERITIES
    assert tuple(schemas["Channel"]["enum"]) == CHANNELS


def test_a_notification_answers_exactly_the_declared_fields():
    from chalicelib.api.schemas.incidents import NotificationOut
    from chalicelib.models.notifications import Notification
    from chalicelib.usecases.notifications import notification_to_api

    record = Notification(
        "org#incident",
        "n1",
        org_id="org",
        incident_id="incident",
        channel="email",
        target="ada@example.com",
        kind="escalation",
        created_at=1_796_000_000,
    )
    NotificationOut.model_validate(notification_to_api(record))  # extra="forbid": drift fails here
