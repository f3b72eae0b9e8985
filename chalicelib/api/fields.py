"""Field types shared by request models; their constraints also document the OpenAPI schema."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Email = Annotated[str, Field(max_length=254, description="An email address.", examples=["ada@example.com"])]
Password = Annotated[
    str, Field(min_length=8, max_length=72, description="8-72 characters (at most 72 bytes in UTF-8).")
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
RoleName = Literal["admin", "user", "viewer"]


class RequestModel(BaseModel):
    """Unknown fields are refused, so a typo is a 400 rather than a silent no-op."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(extra="allow")
