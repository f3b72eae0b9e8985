"""/v1/auth: signup, email verification, login, token refresh, logout, password recovery."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.api.access import client_address
from chalicelib.api.http import VigilBlueprint, parse_body

if TYPE_CHECKING:
    from chalicelib.usecases.auth import TokenPair

# Use cases are imported inside the routes that call them (docs/architecture.md, "What a cold start imports").

bp = VigilBlueprint(__name__, schemas="chalicelib.api.schemas.auth")
TAGS = ("auth",)


def tokens_to_api(pair: TokenPair) -> dict[str, Any]:
    return {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "token_type": pair.token_type,
        "expires_in": pair.expires_in,
    }


@bp.route(
    "/v1/auth/signup",
    methods=("POST",),
    summary="Create an account; a 6-digit code is emailed",
    status=201,
    body="SignupRequest",
    response="SignupResponse",
    auth=False,
    tags=TAGS,
    errors=(409,),
)
def signup() -> dict[str, Any]:
    from chalicelib.api.schemas.auth import SignupRequest
    from chalicelib.usecases import auth

    request = parse_body(bp.current_request, SignupRequest)
    user = auth.signup(request.email, request.password, request.name)
    return {"id": user.user_id, "email": user.email, "name": user.name, "email_verified": False}


@bp.route(
    "/v1/auth/verify-email",
    methods=("POST",),
    summary="Verify the email address with the emailed code",
    body="VerifyEmailRequest",
    response="VerifiedResponse",
    auth=False,
    tags=TAGS,
)
def verify_email() -> dict[str, Any]:
    from chalicelib.api.schemas.auth import VerifyEmailRequest
    from chalicelib.usecases import auth

    request = parse_body(bp.current_request, VerifyEmailRequest)
    auth.verify_email(request.email, str(request.code))
    return {"email_verified": True}


@bp.route(
    "/v1/auth/resend-verification",
    methods=("POST",),
    summary="Email a new verification code",
    status=202,
    body="EmailRequest",
    response="Accepted",
    auth=False,
    tags=TAGS,
)
def resend_verification() -> dict[str, Any]:
    from chalicelib.api.schemas.auth import EmailRequest
    from chalicelib.usecases import auth

    request = parse_body(bp.current_request, EmailRequest)
    auth.resend_verification(request.email)
    return {"status": "accepted"}


@bp.route(
    "/v1/auth/login",
    methods=("POST",),
    summary="Exchange email and password for tokens",
    body="LoginRequest",
    response="TokenResponse",
    auth=False,
    tags=TAGS,
    errors=(401, 403, 429),
)
def login() -> dict[str, Any]:
    from chalicelib.api.schemas.auth import LoginRequest
    from chalicelib.usecases import auth

    request = parse_body(bp.current_request, LoginRequest)
    return tokens_to_api(
        auth.login(request.email, request.password, source_ip=client_address(bp.current_request))
    )


@bp.route(
    "/v1/auth/refresh",
    methods=("POST",),
    summary="Rotate a refresh token into a new token pair",
    body="RefreshRequest",
    response="TokenResponse",
    auth=False,
    tags=TAGS,
    errors=(401,),
)
def refresh() -> dict[str, Any]:
    from chalicelib.api.schemas.auth import RefreshRequest
    from chalicelib.usecases import auth

    request = parse_body(bp.current_request, RefreshRequest)
    return tokens_to_api(auth.refresh(request.refresh_token))


@bp.route(
    "/v1/auth/logout",
    methods=("POST",),
    summary="End the session of a refresh token",
    status=204,
    body="RefreshRequest",
    auth=False,
    tags=TAGS,
)
def logout() -> None:
    from chalicelib.api.schemas.auth import RefreshRequest
    from chalicelib.usecases import auth

    request = parse_body(bp.current_request, RefreshRequest)
    auth.logout(request.refresh_token)


@bp.route(
    "/v1/auth/password-recovery",
    methods=("POST",),
    summary="Email a single-use password reset token (answers 202 for any address)",
    status=202,
    body="EmailRequest",
    response="Accepted",
    auth=False,
    tags=TAGS,
)
def password_recovery() -> dict[str, Any]:
    from chalicelib.api.schemas.auth import EmailRequest
    from chalicelib.usecases import auth

    request = parse_body(bp.current_request, EmailRequest)
    auth.request_password_reset(request.email)
    return {"status": "accepted"}


@bp.route(
    "/v1/auth/reset-password",
    methods=("POST",),
    summary="Set a new password with a reset token",
    body="ResetPasswordRequest",
    response="Accepted",
    auth=False,
    tags=TAGS,
)
def reset_password() -> dict[str, Any]:
    from chalicelib.api.schemas.auth import ResetPasswordRequest
    from chalicelib.usecases import auth

    request = parse_body(bp.current_request, ResetPasswordRequest)
    auth.reset_password(request.token, request.new_password, source_ip=client_address(bp.current_request))
    return {"status": "password_reset"}
