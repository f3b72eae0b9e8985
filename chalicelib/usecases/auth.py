"""Accounts: signup, email verification, throttled login, token rotation, logout, password recovery."""

from __future__ import annotations

import time
from dataclasses import dataclass

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import mailer
from chalicelib.adapters.secrets import jwt_secret
from chalicelib.domain import messages
from chalicelib.domain.accounts import (
    ACCOUNT_EMAILS_PER_HOUR,
    VERIFICATION_CODE_TTL_SECONDS,
    VERIFICATION_MAX_WRONG_TRIES,
    check_password,
    login_client,
    login_delay_seconds,
    normalize_email,
)
from chalicelib.domain.clock import now_seconds
from chalicelib.domain.errors import Conflict, InvalidInput, NotPermitted, Throttled, Unauthenticated
from chalicelib.domain.ids import new_id
from chalicelib.models.auth import (
    EmailVerification,
    LoginThrottle,
    PasswordReset,
    RefreshFamily,
    RefreshToken,
    WindowCounter,
)
from chalicelib.models.users import UniqueClaim, User
from chalicelib.security.passwords import hash_password, verify_password
from chalicelib.security.tokens import (
    hash_token,
    hash_verification_code,
    issue_access_token,
    new_opaque_token,
    new_verification_code,
    same_digest,
)
from chalicelib.settings import settings
from chalicelib.usecases import orgs
from chalicelib.usecases.dynamo import condition_failed, transaction_connection
from chalicelib.usecases.users import end_session, find_user_by_email
from chalicelib.usecases.window_counts import count_in_window

logger = Logger(service="vigil", child=True, level=settings.log_level)

# A login attempt under way holds the next one from the same client back this long at most (it
# clears as soon as the attempt is judged); longer than judging takes, short if a Lambda dies.
LOGIN_ATTEMPT_HOLD_SECONDS = 10


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret


def _now_ms() -> int:
    return int(time.time() * 1000)


def signup(email: str, password: str, name: str | None) -> User:
    email = normalize_email(email)
    check_password(password)
    now = now_seconds()
    user = User(
        user_id=new_id(),
        email=email,
        name=(name or "").strip() or email.split("@", 1)[0],
        password_hash=hash_password(password, rounds=settings.bcrypt_rounds),
        email_verified=False,
        created_at=now,
        sessions_valid_after=0,
    )
    claim = UniqueClaim(UniqueClaim.email_key(email), owner_id=user.user_id)
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.save(claim, condition=UniqueClaim.key.does_not_exist())
            tx.save(user, condition=User.user_id.does_not_exist())
    except TransactWriteError as exc:
        if condition_failed(exc):
            raise Conflict("is already registered", field="email") from exc
        raise
    _send_verification_code(user, now=now)
    orgs.accept_invitations(user, now=now)
    logger.info("user signed up", extra={"user_id": user.user_id})
    return user


def _send_verification_code(user: User, *, now: int) -> None:
    code = new_verification_code()
    EmailVerification(
        EmailVerification.key(user.user_id),
        code_hash=hash_verification_code(code, user_id=user.user_id, secret=jwt_secret()),
        wrong_tries=0,
        expires_at=now + VERIFICATION_CODE_TTL_SECONDS,
    ).save()
    message = messages.verification_email(user.email, code, minutes=VERIFICATION_CODE_TTL_SECONDS // 60)
    _deliver(message, what="verification code", user_id=user.user_id)


def _may_email_account(email: str, *, what: str) -> bool:
    """Verification codes and reset tokens to one address share one hourly budget, so nobody can
    bomb an inbox through the answers that stay 202."""
    allowed = count_in_window(
        WindowCounter.account_emails_key(email),
        limit=ACCOUNT_EMAILS_PER_HOUR,
        window_seconds=3600,
        now=now_seconds(),
    )
    if not allowed:
        logger.warning("hourly account email limit reached for an address", extra={"what": what})
    return allowed


def _deliver(message: messages.EmailMessage, *, what: str, user_id: str | None = None) -> None:
    """Account emails are sent inline; a failure is logged and the user can ask again (resend)."""
    try:
        mailer.send_email(message)
    except (BotoCoreError, ClientError):
        logger.exception("could not send email", extra={"what": what, "user_id": user_id})


def verify_email(email: str, code: str) -> User:
    email = normalize_email(email)
    invalid = InvalidInput("is invalid or expired; request a new code", field="code")
    user = find_user_by_email(email)
    if user is None:
        raise invalid
    if user.email_verified:
        return user
    try:
        pending = EmailVerification.get(EmailVerification.key(user.user_id), consistent_read=True)
    except DoesNotExist as exc:
        raise invalid from exc
    now = now_seconds()
    if pending.expires_at <= now:
        raise invalid
    # Count the attempt before judging it, so concurrent guesses cannot exceed the limit.
    try:
        pending.update(
            actions=[EmailVerification.wrong_tries.add(1)],
            condition=EmailVerification.wrong_tries < VERIFICATION_MAX_WRONG_TRIES,
        )
    except UpdateError as exc:
        if condition_failed(exc):
            raise InvalidInput("was entered wrong too many times; request a new code", field="code") from exc
        raise
    expected = hash_verification_code(code, user_id=user.user_id, secret=jwt_secret())
    if not same_digest(expected, pending.code_hash):
        raise InvalidInput("is incorrect", field="code")
    user.update(actions=[User.email_verified.set(True)])
    pending.delete()
    return user


def resend_verification(email: str) -> None:
    """Always answers the same way, so it cannot tell who has an account."""
    email = normalize_email(email)
    user = find_user_by_email(email)
    if user is None or user.email_verified or not _may_email_account(email, what="verification code"):
        return
    _send_verification_code(user, now=now_seconds())


def login(email: str, password: str, *, source_ip: str) -> TokenPair:
    """Failed logins slow down the client that makes them (``email`` from ``source_ip``) with
    growing waits, so an attacker's failures do not lock the owner out from another address; a
    much higher ceiling per email bounds guesses spread over many addresses."""
    email = normalize_email(email)
    now = now_seconds()
    _refuse_at_email_ceiling(email, now=now)
    throttle = _claim_login_attempt(email, login_client(source_ip), now=now)
    user = find_user_by_email(email)
    # An unknown email is verified against a dummy hash of the same cost: both answers take as long.
    if not verify_password(password, user.password_hash if user else None) or user is None:
        _record_login_failure(email, throttle, now=now)
        raise Unauthenticated("invalid email or password")
    throttle.delete()
    if not user.email_verified:
        raise NotPermitted("is not verified yet; enter the code we emailed you", field="email")
    return _start_session(user)


def _refuse_at_email_ceiling(email: str, *, now: int) -> None:
    try:
        failed = WindowCounter.get(WindowCounter.failed_logins_key(email), consistent_read=True)
    except DoesNotExist:
        return
    if failed.expires_at > now and failed.events >= settings.login_email_max_failures:
        raise Throttled(
            "too many failed logins for this email; try again later",
            retry_after_seconds=int(failed.expires_at) - now,
        )


def _claim_login_attempt(email: str, client: str, *, now: int) -> LoginThrottle:
    """Counts the attempt before judging it, so concurrent guesses from one client are judged one
    at a time and each waits out the delay the previous failures earned."""
    throttle = LoginThrottle(LoginThrottle.key(email, client))
    try:
        throttle.update(
            actions=[
                LoginThrottle.failures.add(1),
                LoginThrottle.retry_at.set(now + LOGIN_ATTEMPT_HOLD_SECONDS),
                # Kept as it was, so the judgement below can tell a stale count from a live one.
                LoginThrottle.expires_at.set(LoginThrottle.expires_at | now + settings.login_window_seconds),
            ],
            condition=LoginThrottle.retry_at.does_not_exist() | (LoginThrottle.retry_at <= now),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        try:
            retry_at = int(LoginThrottle.get(throttle.pk, consistent_read=True).retry_at)
        except DoesNotExist:
            retry_at = now + 1
        raise Throttled(
            "too many failed logins from this address; try again later", retry_after_seconds=retry_at - now
        ) from exc
    return throttle


def _record_login_failure(email: str, throttle: LoginThrottle, *, now: int) -> None:
    earlier = int(throttle.failures) - 1 if throttle.expires_at > now else 0
    failures = earlier + 1
    wait = login_delay_seconds(
        failures,
        failures_before_delay=settings.login_failures_before_delay,
        max_delay_seconds=settings.login_max_delay_seconds,
    )
    # `now` is a whole second already begun: one more makes every wait last at least `wait` seconds.
    retry_at = now + wait + 1 if wait else now
    throttle.update(
        actions=[
            LoginThrottle.failures.set(failures),
            LoginThrottle.retry_at.set(retry_at),
            LoginThrottle.expires_at.set(max(now + settings.login_window_seconds, retry_at)),
        ]
    )
    count_in_window(
        WindowCounter.failed_logins_key(email),
        limit=settings.login_email_max_failures,
        window_seconds=settings.login_window_seconds,
        now=now,
    )


def _start_session(user: User, family_id: str | None = None) -> TokenPair:
    """Tokens for one login (the refresh family); the access token names it, so logout ends it."""
    issued_ms = _now_ms()
    refresh_expires_at = issued_ms // 1000 + settings.refresh_token_ttl_seconds
    if family_id is None:
        family_id = new_id()
        RefreshFamily(
            RefreshFamily.key(family_id), user_id=user.user_id, revoked=False, expires_at=refresh_expires_at
        ).save()
    refresh_token = new_opaque_token()
    RefreshToken(
        RefreshToken.key(hash_token(refresh_token)),
        user_id=user.user_id,
        family_id=family_id,
        issued_at=issued_ms,
        expires_at=refresh_expires_at,
    ).save(condition=RefreshToken.pk.does_not_exist())
    access_token = issue_access_token(
        user.user_id,
        session_id=family_id,
        secret=jwt_secret(),
        now_ms=issued_ms,
        ttl_seconds=settings.access_token_ttl_seconds,
    )
    return TokenPair(
        access_token=access_token, refresh_token=refresh_token, expires_in=settings.access_token_ttl_seconds
    )


def refresh(refresh_token: str) -> TokenPair:
    """Rotate: the presented token is spent by a conditional write, so it works exactly once."""
    invalid = Unauthenticated("refresh token is invalid, expired, already used or revoked")
    try:
        token = RefreshToken.get(RefreshToken.key(hash_token(refresh_token)), consistent_read=True)
        family = RefreshFamily.get(RefreshFamily.key(token.family_id), consistent_read=True)
        user = User.get(token.user_id, consistent_read=True)
    except DoesNotExist as exc:
        raise invalid from exc
    now = now_seconds()
    if family.revoked or token.expires_at <= now or token.issued_at < user.sessions_valid_after:
        raise invalid
    try:
        token.update(
            actions=[RefreshToken.used_at.set(_now_ms())],
            condition=RefreshToken.used_at.does_not_exist(),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        # API.md: reuse answers 401 and the newer token stays valid. Revoking the whole
        # chain (RFC 9700 reuse detection) would be stricter; it is logged for now.
        logger.warning("spent refresh token presented again", extra={"user_id": user.user_id})
        raise invalid from exc
    return _start_session(user, family_id=token.family_id)


def logout(refresh_token: str) -> None:
    """Ends the login of this refresh token: its chain of refresh tokens and its access tokens."""
    try:
        token = RefreshToken.get(RefreshToken.key(hash_token(refresh_token)), consistent_read=True)
    except DoesNotExist:
        return
    RefreshFamily(RefreshFamily.key(token.family_id)).update(
        actions=[RefreshFamily.revoked.set(True)],
    )
    end_session(token.user_id, token.family_id, now=now_seconds())


def request_password_reset(email: str) -> None:
    """Answers the same whether or not the email has an account."""
    email = normalize_email(email)
    user = find_user_by_email(email)
    if user is None or not _may_email_account(email, what="password reset"):
        return
    token = new_opaque_token()
    now = now_seconds()
    try:
        PasswordReset(
            PasswordReset.key(hash_token(token)),
            user_id=user.user_id,
            expires_at=now + settings.reset_token_ttl_seconds,
        ).save(condition=PasswordReset.pk.does_not_exist())
    except PutError:
        logger.exception("could not store reset token", extra={"user_id": user.user_id})
        return
    message = messages.password_reset_email(
        user.email,
        token,
        reset_url=f"{settings.public_url}/reset-password",
        minutes=settings.reset_token_ttl_seconds // 60,
    )
    _deliver(message, what="password reset", user_id=user.user_id)


def reset_password(token: str, new_password: str, *, source_ip: str) -> None:
    check_password(new_password, field="new_password")
    invalid = InvalidInput("is invalid, already used or expired", field="token")
    try:
        reset = PasswordReset.get(PasswordReset.key(hash_token(token)), consistent_read=True)
    except DoesNotExist as exc:
        raise invalid from exc
    if reset.used_at is not None or reset.expires_at <= now_seconds():
        raise invalid
    try:
        reset.update(
            actions=[PasswordReset.used_at.set(now_seconds())],
            condition=PasswordReset.used_at.does_not_exist(),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            raise invalid from exc
        raise
    try:
        user = User.get(reset.user_id, consistent_read=True)
    except DoesNotExist as exc:
        raise invalid from exc
    # The emailed token proves the address, and every older session ends.
    user.update(
        actions=[
            User.password_hash.set(hash_password(new_password, rounds=settings.bcrypt_rounds)),
            User.email_verified.set(True),
            User.sessions_valid_after.set(_now_ms()),
        ]
    )
    # The owner proved the address: their own failed logins and the ceiling no longer hold them back.
    WindowCounter(WindowCounter.failed_logins_key(user.email)).delete()
    LoginThrottle(LoginThrottle.key(user.email, login_client(source_ip))).delete()
