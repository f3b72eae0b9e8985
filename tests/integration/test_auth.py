"""Auth and users, as API.md describes them, against moto through chalice's test client."""

import time

import jwt
import pytest

from chalicelib.domain.errors import Unauthenticated
from chalicelib.models.auth import EmailVerification, PasswordReset, RefreshToken
from chalicelib.security.tokens import hash_token
from chalicelib.settings import settings
from chalicelib.usecases import auth
from tests.integration.conftest import PASSWORD, unique_email


def signup(api, email, password=PASSWORD, **extra):
    return api.post("/v1/auth/signup", {"email": email, "password": password, **extra})


# ---- signup -------------------------------------------------------------------------------------


def test_signup_creates_an_unverified_account_and_emails_a_six_digit_code(api, mailbox):
    email = unique_email()
    reply = signup(api, email, name="Ada Lovelace")
    assert reply.status == 201
    assert reply.body == {
        "id": reply.body["id"],
        "email": email,
        "name": "Ada Lovelace",
        "email_verified": False,
    }
    [message] = mailbox.messages_to(email)
    assert message["source"] == "Vigil <vigil@example.com>"
    assert mailbox.last_code(email) in message["body"]


def test_signup_normalizes_the_email_and_refuses_a_duplicate_in_any_case(api):
    email = unique_email()
    assert signup(api, email.upper()).body["email"] == email
    again = signup(api, "  " + email.capitalize())
    assert again.status == 409
    assert again.body["Code"] == "ConflictError"
    assert again.message.startswith("email:")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "email: is not a valid email address"),
        ({"email": "a@b", "password": PASSWORD}, "email: is not a valid email address"),
        ({"email": "x@example.com", "password": "short"}, "password: must be at least 8 characters"),
        ({"email": "x@example.com", "password": "é" * 40}, "password: must be at most 72 bytes"),
        ({"password": PASSWORD}, "email: is required"),
        ({"email": "x@example.com"}, "password: is required"),
        ({"email": 42, "password": PASSWORD}, "email: must be a string"),
        ({"email": "x@example.com", "password": PASSWORD, "name": "n" * 201}, "name: must be at most 200"),
        ({"email": "x@example.com", "password": PASSWORD, "admin": True}, "admin: is not an accepted field"),
    ],
)
def test_signup_refuses_bad_input_naming_the_field(api, body, expected):
    reply = api.post("/v1/auth/signup", body)
    assert reply.status == 400
    assert reply.body["Code"] == "BadRequestError"
    assert reply.message.startswith(expected)


# ---- email verification -------------------------------------------------------------------------


def test_login_is_refused_until_the_email_is_verified(api, mailbox):
    email = unique_email()
    signup(api, email)
    before = api.post("/v1/auth/login", {"email": email, "password": PASSWORD})
    assert before.status == 403
    assert before.message.startswith("email:")

    verified = api.post("/v1/auth/verify-email", {"email": email, "code": mailbox.last_code(email)})
    assert verified.status == 200
    assert verified.body == {"email_verified": True}
    assert api.post("/v1/auth/login", {"email": email, "password": PASSWORD}).status == 200


def test_a_wrong_code_is_refused(api, mailbox):
    email = unique_email()
    signup(api, email)
    wrong = "000000" if mailbox.last_code(email) != "000000" else "111111"
    reply = api.post("/v1/auth/verify-email", {"email": email, "code": wrong})
    assert reply.status == 400
    assert reply.message.startswith("code:")


def test_the_code_is_void_after_five_wrong_tries(api, mailbox):
    email = unique_email()
    signup(api, email)
    code = mailbox.last_code(email)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert api.post("/v1/auth/verify-email", {"email": email, "code": wrong}).status == 400
    reply = api.post("/v1/auth/verify-email", {"email": email, "code": code})
    assert reply.status == 400
    assert "too many" in reply.message

    # A new code works again.
    assert api.post("/v1/auth/resend-verification", {"email": email}).status == 202
    fresh = mailbox.last_code(email)
    assert api.post("/v1/auth/verify-email", {"email": email, "code": fresh}).status == 200


def test_an_expired_code_is_refused(api, mailbox):
    email = unique_email()
    user_id = signup(api, email).body["id"]
    pending = EmailVerification.get(EmailVerification.key(user_id))
    pending.update(actions=[EmailVerification.expires_at.set(int(time.time()) - 1)])
    reply = api.post("/v1/auth/verify-email", {"email": email, "code": mailbox.last_code(email)})
    assert reply.status == 400
    assert "expired" in reply.message


def test_resend_replaces_the_code(api, mailbox):
    email = unique_email()
    signup(api, email)
    first = mailbox.last_code(email)
    assert api.post("/v1/auth/resend-verification", {"email": email}).status == 202
    assert len(mailbox.messages_to(email)) == 2
    second = mailbox.last_code(email)
    if first != second:
        assert api.post("/v1/auth/verify-email", {"email": email, "code": first}).status == 400
    assert api.post("/v1/auth/verify-email", {"email": email, "code": second}).status == 200


def test_resend_answers_the_same_for_unknown_addresses_and_sends_nothing(api, mailbox):
    email = unique_email()
    assert api.post("/v1/auth/resend-verification", {"email": email}).status == 202
    assert mailbox.messages_to(email) == []


# ---- login and throttling ----------------------------------------------------------------------


def test_login_returns_a_bearer_token_pair(api, new_account):
    account = new_account()
    reply = api.post("/v1/auth/login", {"email": account.email, "password": PASSWORD})
    assert reply.status == 200
    assert reply.body["token_type"] == "bearer"
    assert reply.body["expires_in"] == settings.access_token_ttl_seconds
    claims = jwt.decode(reply.body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == account.user_id
    assert jwt.get_unverified_header(reply.body["access_token"])["alg"] == "HS256"
    assert claims["exp"] - claims["iat"] == settings.access_token_ttl_seconds


def test_wrong_password_and_unknown_email_answer_the_same_401(api, new_account):
    account = new_account()
    wrong = api.post("/v1/auth/login", {"email": account.email, "password": "wrong password"})
    unknown = api.post("/v1/auth/login", {"email": unique_email(), "password": "wrong password"})
    assert wrong.status == unknown.status == 401
    assert wrong.message == unknown.message


def test_repeated_failures_from_one_client_are_throttled_with_retry_after(api, new_account):
    account = new_account()
    for _ in range(settings.login_failures_before_delay):
        assert api.post("/v1/auth/login", {"email": account.email, "password": "nope nope"}).status == 401
    locked = api.post("/v1/auth/login", {"email": account.email, "password": PASSWORD})
    assert locked.status == 429
    assert 0 < int(locked.headers["retry-after"]) <= settings.login_max_delay_seconds
    # Another account is not affected.
    other = new_account()
    assert api.post("/v1/auth/login", {"email": other.email, "password": PASSWORD}).status == 200


# ---- tokens -------------------------------------------------------------------------------------


def test_the_access_token_opens_users_me(api, new_account):
    account = new_account(name="Grace Hopper")
    me = api.get("/v1/users/me", token=account.access_token)
    assert me.status == 200
    assert me.body["id"] == account.user_id
    assert me.body["email"] == account.email
    assert me.body["name"] == "Grace Hopper"
    assert me.body["email_verified"] is True
    assert me.body["orgs"] == []


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."],
)
def test_protected_routes_need_a_valid_bearer_token(api, header):
    headers = {"authorization": header} if header else {}
    reply = api.get("/v1/users/me", headers=headers)
    assert reply.status == 401
    assert reply.body["Code"] == "UnauthorizedError"


def test_an_expired_or_foreign_token_is_refused(api, new_account):
    account = new_account()
    now = int(time.time())
    expired = jwt.encode(
        {"sub": account.user_id, "iat": now - 100, "exp": now - 50, "iss": "vigil", "typ": "access"},
        settings.jwt_secret,
        algorithm="HS256",
    )
    forged = jwt.encode(
        {"sub": account.user_id, "iat": now, "exp": now + 60, "iss": "vigil", "typ": "access"},
        "another secret that is long enough to sign",
        algorithm="HS256",
    )
    assert api.get("/v1/users/me", token=expired).status == 401
    assert api.get("/v1/users/me", token=forged).status == 401


def test_refresh_rotates_and_a_reused_refresh_token_is_refused(api, new_account):
    account = new_account()
    rotated = api.post("/v1/auth/refresh", {"refresh_token": account.refresh_token})
    assert rotated.status == 200
    assert rotated.body["token_type"] == "bearer"
    assert rotated.body["refresh_token"] != account.refresh_token
    assert api.get("/v1/users/me", token=rotated.body["access_token"]).status == 200

    reused = api.post("/v1/auth/refresh", {"refresh_token": account.refresh_token})
    assert reused.status == 401
    # The newest token of the chain keeps working, once.
    newest = api.post("/v1/auth/refresh", {"refresh_token": rotated.body["refresh_token"]})
    assert newest.status == 200
    assert api.post("/v1/auth/refresh", {"refresh_token": rotated.body["refresh_token"]}).status == 401


def test_two_concurrent_refreshes_with_one_token_yield_one_new_pair(new_account, monkeypatch):
    """Interleaved by hand: both requests read the token unspent, then one spends it first."""
    account = new_account()
    token_as_read = RefreshToken.get(RefreshToken.key(hash_token(account.refresh_token)))
    auth.refresh(account.refresh_token)  # the first request rotates
    monkeypatch.setattr(RefreshToken, "get", classmethod(lambda cls, *a, **kw: token_as_read))
    with pytest.raises(Unauthenticated):
        auth.refresh(account.refresh_token)  # the second one read it unspent: its write must lose


def test_logout_voids_the_refresh_token(api, new_account):
    account = new_account()
    assert api.post("/v1/auth/logout", {"refresh_token": account.refresh_token}).status == 204
    assert api.post("/v1/auth/refresh", {"refresh_token": account.refresh_token}).status == 401
    # Other sessions of the same user carry on.
    second = api.post("/v1/auth/login", {"email": account.email, "password": PASSWORD})
    assert api.post("/v1/auth/refresh", {"refresh_token": second.body["refresh_token"]}).status == 200


def test_an_unknown_refresh_token_is_401(api):
    assert api.post("/v1/auth/refresh", {"refresh_token": "made-up"}).status == 401


# ---- password recovery --------------------------------------------------------------------------


def test_password_recovery_answers_202_for_any_address_and_mails_only_real_ones(api, mailbox, new_account):
    account = new_account()
    stranger = unique_email()
    assert api.post("/v1/auth/password-recovery", {"email": account.email}).status == 202
    assert api.post("/v1/auth/password-recovery", {"email": stranger}).status == 202
    assert mailbox.last_reset_token(account.email)
    assert mailbox.messages_to(stranger) == []


def test_a_reset_token_sets_the_password_once_and_ends_old_sessions(api, mailbox, new_account):
    account = new_account()
    api.post("/v1/auth/password-recovery", {"email": account.email})
    token = mailbox.last_reset_token(account.email)

    reset = api.post("/v1/auth/reset-password", {"token": token, "new_password": "a brand new secret"})
    assert reset.status == 200
    assert api.post("/v1/auth/login", {"email": account.email, "password": PASSWORD}).status == 401
    assert (
        api.post("/v1/auth/login", {"email": account.email, "password": "a brand new secret"}).status == 200
    )
    assert api.post("/v1/auth/refresh", {"refresh_token": account.refresh_token}).status == 401

    again = api.post("/v1/auth/reset-password", {"token": token, "new_password": "yet another secret"})
    assert again.status == 400
    assert again.message.startswith("token:")


def test_an_expired_or_unknown_reset_token_is_400(api, mailbox, new_account):
    account = new_account()
    api.post("/v1/auth/password-recovery", {"email": account.email})
    token = mailbox.last_reset_token(account.email)
    PasswordReset.get(PasswordReset.key(hash_token(token))).update(
        actions=[PasswordReset.expires_at.set(int(time.time()) - 1)]
    )
    assert api.post("/v1/auth/reset-password", {"token": token, "new_password": "whatever123"}).status == 400
    assert api.post("/v1/auth/reset-password", {"token": "nope", "new_password": "whatever123"}).status == 400
    short = api.post("/v1/auth/reset-password", {"token": token, "new_password": "short"})
    assert short.message.startswith("new_password: must be at least 8")


# ---- users/me -----------------------------------------------------------------------------------


def test_patch_me_renames(api, new_account):
    account = new_account()
    reply = api.patch("/v1/users/me", {"name": "  New Name  "}, token=account.access_token)
    assert reply.status == 200
    assert reply.body["name"] == "New Name"
    assert api.get("/v1/users/me", token=account.access_token).body["name"] == "New Name"


def test_patch_me_changes_the_password_only_with_the_current_one(api, new_account):
    account = new_account()
    missing = api.patch("/v1/users/me", {"password": "new password 1"}, token=account.access_token)
    assert missing.status == 400
    assert "current_password" in missing.message
    wrong = api.patch(
        "/v1/users/me",
        {"password": "new password 1", "current_password": "wrong"},
        token=account.access_token,
    )
    assert wrong.status == 400
    assert wrong.message.startswith("current_password:")

    changed = api.patch(
        "/v1/users/me",
        {"password": "new password 1", "current_password": PASSWORD},
        token=account.access_token,
    )
    assert changed.status == 200
    assert api.post("/v1/auth/login", {"email": account.email, "password": "new password 1"}).status == 200
    assert api.post("/v1/auth/refresh", {"refresh_token": account.refresh_token}).status == 401


def test_a_code_sent_as_a_number_is_read_as_its_six_digits(api, mailbox):
    email = unique_email()
    signup(api, email)
    code = mailbox.last_code(email)
    assert api.post("/v1/auth/verify-email", {"email": email, "code": int(code)}).status == 200
