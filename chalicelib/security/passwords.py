"""Password hashing with bcrypt; the cost comes from VIGIL_BCRYPT_ROUNDS."""

from __future__ import annotations

import bcrypt

# Verified against when the email is unknown, so a login for a missing account
# costs what a wrong password costs and does not reveal which emails exist.
_DUMMY_HASH = bcrypt.hashpw(b"vigil-timing-equalizer", bcrypt.gensalt(rounds=4))


def hash_password(password: str, *, rounds: int) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode("ascii")


def verify_password(password: str, password_hash: str | None) -> bool:
    candidate = password.encode("utf-8")
    if len(candidate) > 72:
        return False
    if password_hash is None:
        bcrypt.checkpw(candidate, _DUMMY_HASH)
        return False
    return bcrypt.checkpw(candidate, password_hash.encode("ascii"))
