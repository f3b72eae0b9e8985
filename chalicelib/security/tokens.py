"""Access tokens (JWT, HS256) and the opaque secrets we only ever store hashed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import jwt

from chalicelib.domain.errors import Unauthenticated

ISSUER = "vigil"
ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32
ACCESS_TOKEN_LEEWAY_SECONDS = 5  # clock skew allowed on exp


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    session_id: str  # the login (refresh token family) the token was issued to
    issued_at_ms: int  # `iat` is whole seconds, too coarse to order a token and a password change
    expires_at: int


def _check_secret(secret: str) -> bytes:
    key = secret.encode("utf-8")
    if len(key) < MIN_SECRET_BYTES:
        raise RuntimeError(f"the JWT secret must be at least {MIN_SECRET_BYTES} bytes")
    return key


def issue_access_token(user_id: str, *, session_id: str, secret: str, now_ms: int, ttl_seconds: int) -> str:
    now = now_ms // 1000
    claims = {
        "sub": user_id,
        "sid": session_id,
        "iat": now,
        "iat_ms": now_ms,
        "nbf": now,
        "exp": now + ttl_seconds,
        "iss": ISSUER,
        "typ": "access",
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, _check_secret(secret), algorithm=ALGORITHM)


def read_access_token(token: str, *, secret: str) -> AccessClaims:
    try:
        claims = jwt.decode(
            token,
            _check_secret(secret),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss", "sid"]},
            leeway=ACCESS_TOKEN_LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("access token expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated("invalid access token") from exc
    issued_at_ms = claims.get("iat_ms")
    if (
        claims.get("typ") != "access"
        or not isinstance(claims.get("sub"), str)
        or not isinstance(claims.get("sid"), str)
        or not isinstance(issued_at_ms, int)
    ):
        raise Unauthenticated("invalid access token")
    return AccessClaims(
        user_id=claims["sub"],
        session_id=claims["sid"],
        issued_at_ms=issued_at_ms,
        expires_at=int(claims["exp"]),
    )


def new_opaque_token() -> str:
    """256 bits from the OS CSPRNG, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Refresh and reset tokens carry 256 bits of entropy, so a plain SHA-256 is enough."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_verification_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def hash_verification_code(code: str, *, user_id: str, secret: str) -> str:
    """Six digits are easy to enumerate offline, so they are keyed with the server secret."""
    message = f"{user_id}:{code}".encode()
    return hmac.new(_check_secret(secret), message, hashlib.sha256).hexdigest()


def same_digest(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode(), right.encode())


def derived_token(purpose: str, subject: str, *, secret: str) -> str:
    """A 256-bit URL-safe token that only the server can compute again (HMAC-SHA256 of
    ``purpose:subject`` with the server secret): a link that every email repeats (unsubscribe) needs
    no stored copy, only its ``hash_token`` for the lookup. Rotating the secret voids such links."""
    digest = hmac.new(_check_secret(secret), f"{purpose}:{subject}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
