"""The OpenAPI document is generated from the routes and passes openapi-spec-validator."""

from openapi_spec_validator import validate

from app import app


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
