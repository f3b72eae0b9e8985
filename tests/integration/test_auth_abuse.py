"""Auth that resists abuse (issue 9, OWASP ASVS level 2): throttled logins that cannot lock the owner
out, login timing that hides which emails exist, capped account emails, and sessions that end at once."""

import dataclasses
import time
from contextlib import contextmanager

import bcrypt
import jwt
import pytest

from chalicelib.domain.errors import Throttled
from chalicelib.models.users import User
from chalicelib.security import passwords
from chalicelib.settings import settings
from chalicelib.usecases import auth, users
from infra.local.metering import metered
from tests.integration.conftest import PASSWORD, unique_email

ATTACKER = "198.51.100.66"
OWNER = "203.0.113.10"


@contextmanager
def calling_from(api, address):
    """chalice.test.Client always says 127.0.0.1; its gateway's event converter holds that address
    (`requestContext.identity.sourceIp`), so a test can stand for another client."""
    converter = api.client.http._local_gateway.event_converter
    converter.LOCAL_SOURCE_IP = address
    try:
        yield
    finally:
        del converter.LOCAL_SOURCE_IP


def login(api, email, password, address):
    with calling_from(api, address):
        return api.post("/v1/auth/login", {"email": email, "password": password})


@pytest.fixture
def clock(monkeypatch):
    """The throttles' and counters' clock, moved by hand."""

    class Clock:
        now = int(time.time())

        def advance(self, seconds):
            self.now += seconds

    c = Clock()
    monkeypatch.setattr(auth, "now_seconds", lambda: c.now)
    return c


# ---- lockout is no weapon -----------------------------------------------------------------------


def test_an_attackers_failures_hold_back_the_attackers_address_not_the_owner(api, new_account):
    account = new_account()
    for _ in range(settings.login_failures_before_delay):
        assert login(api, account.email, "guess guess", ATTACKER).status == 401
    held = login(api, account.email, PASSWORD, ATTACKER)  # even the right password waits
    assert held.status == 429
    assert held.body["Code"] == "TooManyRequestsError"
    assert int(held.headers["retry-after"]) >= 1

    owner = login(api, account.email, PASSWORD, OWNER)
    assert owner.status == 200
    assert api.get("/v1/users/me", token=owner.body["access_token"]).status == 200


def test_each_further_failure_from_one_address_doubles_the_wait(api, new_account, clock):
    account = new_account()
    for _ in range(settings.login_failures_before_delay - 1):
        assert login(api, account.email, "guess guess", ATTACKER).status == 401
    waits = []
    for _ in range(5):
        assert login(api, account.email, "guess guess", ATTACKER).status == 401
        refused = login(api, account.email, "guess guess", ATTACKER)
        assert refused.status == 429
        waits.append(int(refused.headers["retry-after"]))
        clock.advance(waits[-1])
    assert waits == [1 + 1, 2 + 1, 4 + 1, 8 + 1, 16 + 1]  # whole seconds, rounded up

    # Once the wait is over the owner's password works from there too, and the slate is clean.
    assert login(api, account.email, PASSWORD, ATTACKER).status == 200
    assert login(api, account.email, "typo typo", ATTACKER).status == 401
    assert login(api, account.email, PASSWORD, ATTACKER).status == 200


def test_the_wait_is_capped_and_forgotten_a_window_after_the_last_failure(api, new_account, clock):
    account = new_account()
    waits = []
    for _ in range(settings.login_failures_before_delay + 12):
        assert login(api, account.email, "guess guess", ATTACKER).status == 401
        refused = login(api, account.email, "guess guess", ATTACKER)
        waits.append(int(refused.headers["retry-after"]) if refused.status == 429 else 0)
        clock.advance(waits[-1])
    assert max(waits) == settings.login_max_delay_seconds + 1
    clock.advance(settings.login_window_seconds)
    for _ in range(settings.login_failures_before_delay - 1):
        assert login(api, account.email, "guess guess", ATTACKER).status == 401
    assert login(api, account.email, PASSWORD, ATTACKER).status == 200


def test_a_guess_made_while_another_is_judged_from_the_same_address_is_refused(api, new_account, monkeypatch):
    """Parallel guesses would each read the count before any of them is recorded: the attempt is
    counted first, so one judged at a time."""
    account = new_account()
    verify = passwords.verify_password
    during = []

    def verify_while_a_second_guess_arrives(password, password_hash):
        if not during:
            with pytest.raises(Throttled):
                auth.login(account.email, "parallel guess", source_ip=ATTACKER)
            during.append("refused")
        return verify(password, password_hash)

    monkeypatch.setattr(auth, "verify_password", verify_while_a_second_guess_arrives)
    assert login(api, account.email, "first guess", ATTACKER).status == 401
    assert during == ["refused"]
    # The one judged does not hold the next one back once it is over.
    assert login(api, account.email, PASSWORD, ATTACKER).status == 200


def test_failures_from_many_addresses_meet_a_ceiling_per_email(api, new_account, monkeypatch):
    monkeypatch.setattr(auth, "settings", dataclasses.replace(settings, login_email_max_failures=20))
    account = new_account()
    bystander = new_account()
    per_address = settings.login_failures_before_delay
    for n in range(20 // per_address):
        for _ in range(per_address):
            assert login(api, account.email, "spray spray", f"192.0.2.{n + 1}").status == 401
    ceiling = login(api, account.email, PASSWORD, OWNER)
    assert ceiling.status == 429
    assert "this email" in ceiling.message
    assert 0 < int(ceiling.headers["retry-after"]) <= settings.login_window_seconds
    assert login(api, bystander.email, PASSWORD, OWNER).status == 200
    assert settings.login_email_max_failures == 100  # the default, 20 addresses' worth


def test_a_password_reset_lifts_the_ceiling_and_the_owners_own_wait(api, mailbox, new_account):
    account = new_account()
    for _ in range(settings.login_failures_before_delay):
        assert login(api, account.email, "forgot it", OWNER).status == 401
    assert login(api, account.email, PASSWORD, OWNER).status == 429
    api.post("/v1/auth/password-recovery", {"email": account.email})
    with calling_from(api, OWNER):
        reset = api.post(
            "/v1/auth/reset-password",
            {"token": mailbox.last_reset_token(account.email), "new_password": "remembered now"},
        )
    assert reset.status == 200
    assert login(api, account.email, "remembered now", OWNER).status == 200


def test_a_login_costs_a_few_small_requests(api, new_account):
    account = new_account()
    with metered() as meter:
        assert login(api, account.email, PASSWORD, OWNER).status == 200
    # the ceiling (GetItem), the attempt (UpdateItem, DeleteItem), then as before: email claim and
    # user (GetItem x2), the login's family and refresh token (PutItem x2)
    assert dict(meter.calls) == {
        "dynamodb.GetItem": 3,
        "dynamodb.UpdateItem": 1,
        "dynamodb.DeleteItem": 1,
        "dynamodb.PutItem": 2,
    }
    assert login(api, account.email, "wrong wrong", OWNER).status == 401  # opens the email's window
    with metered() as meter:
        assert login(api, account.email, "wrong wrong", OWNER).status == 401
    # the ceiling, the attempt (claimed, then judged), the email claim and user, the ceiling's count
    assert dict(meter.calls) == {"dynamodb.GetItem": 3, "dynamodb.UpdateItem": 3}


# ---- no enumeration by timing -------------------------------------------------------------------


def test_an_unknown_email_costs_one_bcrypt_verification_of_the_configured_cost(api, mailbox, monkeypatch):
    costlier = dataclasses.replace(settings, bcrypt_rounds=5)  # tests otherwise run at 4
    monkeypatch.setattr(passwords, "settings", costlier, raising=False)
    monkeypatch.setattr(auth, "settings", costlier)
    verified_against = []
    checkpw = bcrypt.checkpw

    def counting_checkpw(password, hashed):
        verified_against.append(hashed[:7])  # b"$2b$05$": the cost
        return checkpw(password, hashed)

    monkeypatch.setattr(passwords.bcrypt, "checkpw", counting_checkpw)
    email = unique_email()
    api.post("/v1/auth/signup", {"email": email, "password": PASSWORD})
    api.post("/v1/auth/verify-email", {"email": email, "code": mailbox.last_code(email)})

    assert login(api, email, "wrong wrong", OWNER).status == 401
    assert login(api, unique_email(), "wrong wrong", OWNER).status == 401
    assert verified_against == [b"$2b$05$", b"$2b$05$"]


# ---- no email bombing ---------------------------------------------------------------------------


def reset_emails(mailbox, email):
    return [m for m in mailbox.messages_to(email) if "Reset token" in m["body"]]


def test_fifteen_recovery_requests_send_five_emails_an_hour(api, mailbox, new_account, clock):
    account = new_account()
    answers = {api.post("/v1/auth/password-recovery", {"email": account.email}).status for _ in range(15)}
    assert answers == {202}
    assert len(reset_emails(mailbox, account.email)) == 5
    clock.advance(3600)
    assert api.post("/v1/auth/password-recovery", {"email": account.email}).status == 202
    assert len(reset_emails(mailbox, account.email)) == 6


def test_fifteen_verification_resends_send_five_codes_an_hour(api, mailbox, clock):
    email = unique_email()
    api.post("/v1/auth/signup", {"email": email, "password": PASSWORD})
    answers = {api.post("/v1/auth/resend-verification", {"email": email}).status for _ in range(15)}
    assert answers == {202}
    assert len(mailbox.messages_to(email)) == 1 + 5  # the signup's code, then five resends
    clock.advance(3600)
    api.post("/v1/auth/resend-verification", {"email": email})
    assert len(mailbox.messages_to(email)) == 1 + 6


def test_resends_and_recoveries_share_one_budget_per_address(api, mailbox):
    email = unique_email()
    api.post("/v1/auth/signup", {"email": email, "password": PASSWORD})
    for _ in range(4):
        api.post("/v1/auth/resend-verification", {"email": email})
        api.post("/v1/auth/password-recovery", {"email": email})
    assert len(mailbox.messages_to(email)) == 1 + 5


# ---- sessions end at once -----------------------------------------------------------------------


def test_logout_ends_the_access_tokens_of_that_login_at_once(api, new_account):
    account = new_account()
    rotated = api.post("/v1/auth/refresh", {"refresh_token": account.refresh_token}).body
    other = api.post("/v1/auth/login", {"email": account.email, "password": PASSWORD}).body

    assert api.post("/v1/auth/logout", {"refresh_token": rotated["refresh_token"]}).status == 204
    for token in (account.access_token, rotated["access_token"]):  # the whole chain of that login
        ended = api.get("/v1/users/me", token=token)
        assert ended.status == 401
        assert ended.body["Code"] == "UnauthorizedError"
    assert api.get("/v1/users/me", token=other["access_token"]).status == 200


def test_a_password_change_ends_every_access_token_issued_before(api, new_account):
    account = new_account()
    other = api.post("/v1/auth/login", {"email": account.email, "password": PASSWORD}).body
    changed = api.patch(
        "/v1/users/me",
        {"password": "a new password", "current_password": PASSWORD},
        token=account.access_token,
    )
    assert changed.status == 200
    assert api.get("/v1/users/me", token=account.access_token).status == 401
    assert api.get("/v1/users/me", token=other["access_token"]).status == 401
    # A login in the same second as the change is after it, and works (iat alone is too coarse).
    fresh = api.post("/v1/auth/login", {"email": account.email, "password": "a new password"}).body
    assert api.get("/v1/users/me", token=fresh["access_token"]).status == 200


def test_a_password_reset_ends_every_access_token_issued_before(api, mailbox, new_account):
    account = new_account()
    api.post("/v1/auth/password-recovery", {"email": account.email})
    token = mailbox.last_reset_token(account.email)
    assert api.post("/v1/auth/reset-password", {"token": token, "new_password": "reset secret"}).status == 200
    assert api.get("/v1/users/me", token=account.access_token).status == 401
    fresh = api.post("/v1/auth/login", {"email": account.email, "password": "reset secret"}).body
    assert api.get("/v1/users/me", token=fresh["access_token"]).status == 200


def test_an_access_token_without_its_login_is_refused(api, new_account):
    account = new_account()
    now = int(time.time())
    claims = {"sub": account.user_id, "iat": now, "exp": now + 60, "iss": "vigil", "typ": "access"}
    sessionless = jwt.encode(claims, settings.jwt_secret, algorithm="HS256")
    assert api.get("/v1/users/me", token=sessionless).status == 401


def test_checking_the_session_is_one_small_read_per_request(api, new_account):
    account = new_account()
    with metered() as meter:
        assert api.get("/v1/orgs", token=account.access_token).status == 200
    user_reads = [
        size
        for key, size in meter.request_bytes.items()
        if key == "dynamodb.GetItem"  # the membership list is a Query
    ]
    assert meter.calls["dynamodb.GetItem"] == 1
    assert user_reads and user_reads[0] < 300


def test_old_logouts_are_pruned_from_the_users_item(api, new_account):
    account = new_account()
    long_ago = int(time.time()) - settings.access_token_ttl_seconds - 3600
    users.end_session(account.user_id, "an-old-login", now=long_ago)
    assert api.post("/v1/auth/logout", {"refresh_token": account.refresh_token}).status == 204
    ended = User.get(account.user_id, consistent_read=True).ended_sessions
    assert set(ended) == {jwt.decode(account.access_token, options={"verify_signature": False})["sid"]}


# ---- a deleted account ----------------------------------------------------------------------------


def test_a_valid_token_of_a_deleted_account_is_401_on_every_route(api, new_account, new_org):
    account = new_account()
    org = new_org(account)
    User.get(account.user_id).delete()
    calls = [
        ("POST", "/v1/orgs", {"name": "After Deletion"}),
        ("GET", "/v1/orgs", None),
        ("GET", "/v1/users/me", None),
        ("PATCH", "/v1/users/me", {"name": "Ghost"}),
        ("GET", f"/v1/orgs/{org['id']}", None),
        ("GET", f"/v1/orgs/{org['id']}/services", None),
        ("POST", f"/v1/orgs/{org['id']}/members", {"email": unique_email(), "role": "user"}),
    ]
    for method, path, body in calls:
        reply = api.call(method, path, body, token=account.access_token)
        assert (method, path, reply.status) == (method, path, 401), reply.body
        assert reply.body["Code"] == "UnauthorizedError"
    # Logging out of the deleted account does not bring a stub of it back.
    assert api.post("/v1/auth/logout", {"refresh_token": account.refresh_token}).status == 204
    with pytest.raises(User.DoesNotExist):
        User.get(account.user_id, consistent_read=True)
