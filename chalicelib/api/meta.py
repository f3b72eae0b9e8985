"""Health, discovery and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from chalicelib.api.http import VigilBlueprint
from chalicelib.api.openapi import openapi_document

bp = VigilBlueprint(__name__, schemas="chalicelib.api.schemas.meta")

VERSION = "0.1.0"


@bp.route("/health", summary="Liveness check", auth=False, response="Health", tags=("meta",))
def health() -> dict[str, Any]:
    return {"status": "ok"}


@bp.route("/", summary="What this API is", auth=False, response="Discovery", tags=("meta",))
def discovery() -> dict[str, Any]:
    return {"name": "vigil", "version": VERSION, "docs": "/openapi.json"}


@bp.route(
    "/openapi.json",
    summary="This API as an OpenAPI 3 document",
    auth=False,
    response="OpenApiDocument",
    tags=("meta",),
)
def openapi() -> dict[str, Any]:
    return openapi_document(bp.current_app, version=VERSION)
