import time

import jwt
import pytest

from chalicelib.domain.errors import InvalidInput, Unauthenticated
from chalicelib.domain.ids import new_id
from chalicelib.security.cursors import decode_cursor, encode_cursor
from chalicelib.security.passwords import hash_password, verify_password
from chalicelib.security.tokens import (
    hash_verification_code,
    issue_access_token,
    new_verification_code,
    read_access_token,
)

SECRET = "s" * 40


def test_access_tokens_round_trip_and_expire():
    now = int(time.time())
    token = issue_access_token("user-1", session_id="s1", secret=SECRET, now_ms=now * 1000, ttl_seconds=60)
    claims = read_access_token(token, secret=SECRET)
    assert (claims.user_id, claims.expires_at) == ("user-1", now + 60)
    stale = issue_access_token(
        "user-1", session_id="s1", secret=SECRET, now_ms=(now - 120) * 1000, ttl_seconds=60
    )
    with pytest.raises(Unauthenticated, match="expired"):
        read_access_token(stale, secret=SECRET)


def test_tokens_signed_otherwise_or_with_alg_none_are_refused():
    now = int(time.time())
    other = issue_access_token("user-1", session_id="s1", secret="o" * 40, now_ms=now * 1000, ttl_seconds=60)
    with pytest.raises(Unauthenticated):
        read_access_token(other, secret=SECRET)
    unsigned = jwt.encode(
        {"sub": "u", "iat": now, "exp": now + 60, "iss": "vigil", "typ": "access"}, None, "none"
    )
    with pytest.raises(Unauthenticated):
        read_access_token(unsigned, secret=SECRET)


def test_a_short_secret_is_a_configuration_error():
    with pytest.raises(RuntimeError, match="32 bytes"):
        issue_access_token("u", session_id="s1", secret="short", now_ms=0, ttl_seconds=1)


def test_verification_codes_are_six_digits_and_hashed_per_user():
    code = new_verification_code()
    assert len(code) == 6
    assert code.isdigit()
    assert hash_verification_code(code, user_id="a", secret=SECRET) != hash_verification_code(
        code, user_id="b", secret=SECRET
    )


def test_passwords_hash_and_verify():
    hashed = hash_password("correct horse", rounds=4)
    assert verify_password("correct horse", hashed)
    assert not verify_password("wrong horse", hashed)
    assert not verify_password("x" * 100, hashed)
    assert not verify_password("anything", None)


def test_cursors_round_trip_only_in_their_scope():
    key = {"org_id": {"S": "o1"}, "user_id": {"S": "u9"}}
    cursor = encode_cursor(key, scope="members:o1", secret=SECRET)
    assert decode_cursor(cursor, scope="members:o1", secret=SECRET) == key
    with pytest.raises(InvalidInput, match=r"^cursor: "):
        decode_cursor(cursor, scope="members:o2", secret=SECRET)


@pytest.mark.parametrize("cursor", ["", "abc", "!!!", "eyJvcmdfaWQiOnt9fQ"])
def test_tampered_cursors_are_refused(cursor):
    with pytest.raises(InvalidInput):
        decode_cursor(cursor, scope="s", secret=SECRET)


def test_ids_sort_by_time():
    earlier, later = new_id(now_ms=1_000), new_id(now_ms=2_000)
    assert len(earlier) == 26
    assert earlier < later
