"""The request and response models of chalicelib/api/users.py, imported on first use (a view
parsing a body, the OpenAPI document)."""

from __future__ import annotations

from pydantic import Field, model_validator

from chalicelib.api.fields import Name, Password, RequestModel, ResponseModel, RoleName


class UpdateMeRequest(RequestModel):
    name: Name | None = None
    password: Password | None = None
    current_password: str | None = Field(default=None, max_length=1024)

    @model_validator(mode="after")
    def _password_needs_current(self) -> UpdateMeRequest:
        if self.password is not None and not self.current_password:
            raise ValueError("current_password: is required to change the password")
        return self


class OrgSummary(ResponseModel):
    id: str
    name: str
    slug: str
    role: RoleName


class Me(ResponseModel):
    id: str
    email: str
    name: str
    email_verified: bool
    created_at: str
    orgs: list[OrgSummary]
