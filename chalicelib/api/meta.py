"""Health, discovery and the OpenAPI document."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, RootModel

from chalicelib.api.fields import ResponseModel
from chalicelib.api.http import VigilBlueprint
from chalicelib.api.openapi import openapi_document

bp = VigilBlueprint(__name__)

VERSION = "0.1.0"


class Health(ResponseModel):
    status: Literal["ok"]


class Discovery(ResponseModel):
    name: str
    version: str
    docs: str


class OpenApiDocument(RootModel[dict[str, Any]]):
    """An OpenAPI 3.1 document."""

    model_config = ConfigDict(defer_build=True)  # built on first use, as ResponseModel's are


@bp.route("/health", summary="Liveness check", auth=False, response=Health, tags=("meta",))
def health() -> dict[str, Any]:
    return {"status": "ok"}


@bp.route("/", summary="What this API is", auth=False, response=Discovery, tags=("meta",))
def discovery() -> dict[str, Any]:
    return {"name": "vigil", "version": VERSION, "docs": "/openapi.json"}


@bp.route(
    "/openapi.json",
    summary="This API as an OpenAPI 3 document",
    auth=False,
    response=OpenApiDocument,
    tags=("meta",),
)
def openapi() -> dict[str, Any]:
    return openapi_document(bp.current_app, version=VERSION)
