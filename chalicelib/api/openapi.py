"""The OpenAPI 3 document, generated from the app's routes and their pydantic models.

Nothing here is written by hand per route: every route registered through
``VigilBlueprint`` carries a ``RouteDoc`` that says its body, response, status,
query parameters and whether it needs a bearer token. The models a route names are imported from
its schema module here (a name it lacks is a LookupError), on the document's first request.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from chalice import Chalice

from chalicelib.api.http import ID_PATTERN, MAX_BODY_BYTES, MAX_JSON_DEPTH, RouteDoc
from chalicelib.domain.accounts import SLUG_PATTERN
from chalicelib.domain.enums import CHANNELS

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["Code", "Message"],
    "properties": {
        "Code": {"type": "string", "examples": ["BadRequestError"]},
        "Message": {"type": "string", "examples": ["password: must be at least 8 characters"]},
    },
}
_ERROR_TEXT = {
    400: "Bad input (a body, field or query parameter that breaks a rule); the message names it.",
    401: "Missing, invalid or expired access token.",
    403: "Authenticated but not allowed.",
    404: "Not found, or it belongs to another organization.",
    409: "Conflict with the current state.",
    413: f"Body larger than {MAX_BODY_BYTES // 1024} KiB.",
    429: "Throttled; see Retry-After.",
    503: "Throttled by API Gateway, or a dependency cannot take the request now; retry after Retry-After.",
}
# What a path parameter can be; a value outside it names nothing, so it is 404.
_PATH_SCHEMAS: dict[str, dict[str, Any]] = {
    "channel": {"type": "string", "enum": list(CHANNELS)},
    "email": {"type": "string", "minLength": 1, "maxLength": 254},
    "key": {"type": "string", "minLength": 1, "maxLength": 128},
    "token": {"type": "string", "minLength": 1, "maxLength": 128},
    "suffix": {"type": "string", "minLength": 1, "maxLength": 64, "examples": ["start", "fail", "log", "0"]},
    "slug": {"type": "string", "pattern": SLUG_PATTERN},
}
_TEXT = {"text/plain": {"schema": {"type": "string"}}}
_HTML = {"text/html": {"schema": {"type": "string"}}}  # pages a person opens answer errors as pages
_ID_SCHEMA = {"type": "string", "pattern": ID_PATTERN}
_PATH_PARAM = re.compile(r"{(\w+)}")


def openapi_document(app: Chalice, *, version: str) -> dict[str, Any]:
    # The routes of a deployed app never change, so the document is built once per container.
    return _build(app, version)


@functools.cache
def _build(app: Chalice, version: str) -> dict[str, Any]:
    schemas: dict[str, Any] = {"Error": _ERROR_SCHEMA}
    paths: dict[str, Any] = {}
    for path, methods in sorted(app.routes.items()):
        for method, entry in sorted(methods.items()):
            doc: RouteDoc | None = getattr(entry.view_function, "__vigil_route__", None)
            if doc is None:
                continue
            paths.setdefault(path, {})[method.lower()] = _operation(path, method, doc, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Vigil API",
            "version": version,
            "description": "Uptime monitoring and incident response. Errors are "
            '`{"Code": ..., "Message": ...}`; timestamps are ISO 8601 UTC. Request bodies are JSON '
            f"objects of at most {MAX_BODY_BYTES // 1024} KiB nesting at most {MAX_JSON_DEPTH} levels; "
            "integers are written without a fraction (`5`, not `5.0`).",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def _schema_ref(doc: RouteDoc, model_name: str, schemas: dict[str, Any]) -> dict[str, str]:
    model = doc.model(model_name)
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas.setdefault(model.__name__, schema)
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _operation(path: str, method: str, doc: RouteDoc, schemas: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": doc.summary,
        "operationId": _operation_id(path, method),
        "tags": list(doc.tags),
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": _PATH_SCHEMAS.get(name, _ID_SCHEMA)}
            for name in _PATH_PARAM.findall(path)
        ]
        + [
            {
                "name": q.name,
                "in": "query",
                "required": False,
                "description": q.description,
                "schema": q.schema,
            }
            for q in doc.query
        ],
    }
    if doc.body is not None:
        operation["requestBody"] = {
            "required": doc.body_required,
            "content": {"application/json": {"schema": _schema_ref(doc, doc.body, schemas)}},
        }
    success: dict[str, Any] = {"description": "Success"}
    if doc.response is not None:
        success["content"] = {"application/json": {"schema": _schema_ref(doc, doc.response, schemas)}}
    if doc.text:
        success["content"] = _TEXT
    if doc.media_type is not None:
        success["content"] = {doc.media_type: {"schema": {"type": "string"}}}
    responses: dict[str, Any] = {str(doc.status): success}
    codes = set(doc.errors) | {503}  # API Gateway throttles every route
    if doc.body is not None:
        codes |= {400, 413}
    if doc.query:
        codes.add(400)
    if doc.auth:
        codes.add(401)
    if "{org_id}" in path:
        codes |= {403, 404}
    if "{" in path:
        codes.add(404)
    for code in sorted(codes):
        responses[str(code)] = {
            "description": _ERROR_TEXT.get(code, "Error"),
            "content": _TEXT
            if doc.text
            else _HTML
            if doc.media_type == "text/html"
            else {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    operation["responses"] = responses
    operation["security"] = [{"bearer": []}] if doc.auth else []
    return operation


def _operation_id(path: str, method: str) -> str:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", path) if w]
    return method.lower() + "_" + ("_".join(words) or "root")
