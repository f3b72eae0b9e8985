"""The request and response models of chalicelib/api/auth.py, imported on first use (a view
parsing a body, the OpenAPI document)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from chalicelib.api.fields import Email, Name, Password, RequestModel, ResponseModel


class SignupRequest(RequestModel):
    email: Email
    password: Password
    name: Name | None = None


class VerifyEmailRequest(RequestModel):
    email: Email
    code: str | int = Field(
        description="The 6-digit code from the email (a string; a number is read as digits)."
    )

    @field_validator("code")
    @classmethod
    def _as_six_digits(cls, code: str | int) -> str:
        text = f"{code:06d}" if isinstance(code, int) and not isinstance(code, bool) else str(code).strip()
        if not 1 <= len(text) <= 16:
            raise ValueError("must be the 6-digit code from the email")
        return text


class EmailRequest(RequestModel):
    email: Email


class LoginRequest(RequestModel):
    email: Email
    password: str = Field(min_length=1, max_length=1024)


class RefreshRequest(RequestModel):
    refresh_token: str = Field(min_length=1, max_length=512)


class ResetPasswordRequest(RequestModel):
    token: str = Field(min_length=1, max_length=512)
    new_password: Password


class SignupResponse(ResponseModel):
    id: str
    email: str
    name: str
    email_verified: bool


class VerifiedResponse(ResponseModel):
    email_verified: bool


class Accepted(ResponseModel):
    status: str


class TokenResponse(ResponseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"]
    expires_in: int = Field(description="Seconds until the access token expires.")
