"""Password hashing with bcrypt; the cost comes from VIGIL_BCRYPT_ROUNDS."""

from __future__ import annotations

import functools

import bcrypt

from chalicelib.settings import settings


@functools.cache
def _dummy_hash(rounds: int) -> bytes:
    """Verified against when the email is unknown, so a login for a missing account costs what a
    wrong password costs (same rounds) and does not reveal which emails exist. Made once per
    container, on the first unknown email."""
    return bcrypt.hashpw(b"vigil-timing-equalizer", bcrypt.gensalt(rounds=rounds))


def hash_password(password: str, *, rounds: int) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode("ascii")


def verify_password(password: str, password_hash: str | None) -> bool:
    """False for a wrong password, and for ``None`` (no such account) after the same work."""
    candidate = password.encode("utf-8")
    if len(candidate) > 72:
        return False
    if password_hash is None:
        bcrypt.checkpw(candidate, _dummy_hash(settings.bcrypt_rounds))
        return False
    return bcrypt.checkpw(candidate, password_hash.encode("ascii"))
