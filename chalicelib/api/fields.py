"""Field types shared by request and response models; their constraints also document the OpenAPI
schema, which must state every rule the code enforces (schemathesis holds it to that). Only the
schema modules (chalicelib/api/schemas/) import it: it loads pydantic."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints, model_validator
from pydantic.json_schema import JsonDict

from chalicelib.api.http import ID_PATTERN
from chalicelib.domain.enums import Severity

# The rule is domain.accounts.normalize_email (it trims, then matches this, and refuses ".." and a
# local part over 64 characters); the pattern says as much as a JSON Schema regex can. No
# "format": "email": RFC 5322 refuses addresses Vigil takes (" ada@example.com", "a.@example.com").
EMAIL_PATTERN = (
    r"^\s*[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\s*$"
)
Email = Annotated[
    str,
    Field(
        max_length=254,
        description="An email address (trimmed, compared lower-cased; at most 64 characters before @).",
        examples=["ada@example.com"],
        json_schema_extra={"pattern": EMAIL_PATTERN},
    ),
]
Password = Annotated[
    str, Field(min_length=8, max_length=72, description="8-72 characters (at most 72 bytes in UTF-8).")
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
RoleName = Literal["admin", "user", "viewer"]
# The rule is domain.targets.check_url (trimmed; http or https; a host; no spaces or credentials).
URL_PATTERN = r"^\s*[Hh][Tt][Tt][Pp][Ss]?://\S+\s*$"
HttpUrl = Annotated[str, Field(min_length=1, max_length=2048, json_schema_extra={"pattern": URL_PATTERN})]
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]

# Enums from the domain: a JSON string is read as the member (strict models take no other coercion).
SeverityName = Annotated[Severity, Strict(False)]


class RequestModel(BaseModel):
    """Unknown fields are refused, so a typo is a 400 rather than a silent no-op. Enum fields hold
    their plain value ("high"), which is what the use cases and PynamoDB take. Models (these and
    ResponseModel's) are built on first use, not at each cold start of the API (defer_build)."""

    model_config = ConfigDict(extra="forbid", strict=True, use_enum_values=True, defer_build=True)


class ResponseModel(BaseModel):
    """What a route answers, exactly: a field returned but not declared is a bug the schemathesis run
    (additionalProperties: false) catches."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


def _omitted_not_null(schema: JsonDict, model: type[BaseModel]) -> None:
    """The schema of a PatchRequest: its optional fields take no null (but those in NULLABLE)."""
    nullable: frozenset[str] = getattr(model, "NULLABLE", frozenset())
    properties: Any = schema.get("properties", {})
    for name, field_schema in properties.items():
        if name in nullable:
            continue
        field_schema.pop("default", None)
        choices = [c for c in field_schema.pop("anyOf", []) if c != {"type": "null"}]
        if choices:
            field_schema.update(choices[0])


class PatchRequest(RequestModel):
    """Fields default to None meaning "omitted: unchanged"; an explicit null is refused (400 naming
    the field) unless the field is in NULLABLE, and the schema says so."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        use_enum_values=True,
        defer_build=True,
        json_schema_extra=_omitted_not_null,
    )
    NULLABLE: ClassVar[frozenset[str]] = frozenset()
    NULL_REFUSED: ClassVar[str] = "must not be null (omit it to keep the value)"  # the 400, after the name

    @model_validator(mode="after")
    def _refuse_nulls(self) -> Any:
        for name in self.model_fields_set:
            if getattr(self, name) is None and name not in self.NULLABLE:
                raise ValueError(f"{name}: {self.NULL_REFUSED}")
        return self
