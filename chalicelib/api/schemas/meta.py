"""The request and response models of chalicelib/api/meta.py, imported on first use (a view
parsing a body, the OpenAPI document)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, RootModel

from chalicelib.api.fields import ResponseModel


class Health(ResponseModel):
    status: Literal["ok"]


class Discovery(ResponseModel):
    name: str
    version: str
    docs: str


class OpenApiDocument(RootModel[dict[str, Any]]):
    """An OpenAPI 3.1 document."""

    model_config = ConfigDict(defer_build=True)  # built on first use, as ResponseModel's are
