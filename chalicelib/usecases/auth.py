"""Accounts: signup, email verification, login with lockout, token rotation, password recovery."""

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
    VERIFICATION_CODE_TTL_SECONDS,
    VERIFICATION_MAX_WRONG_TRIES,
    check_password,
    lockout_remaining,
    normalize_email,
)
from chalicelib.domain.clock import now_seconds
from chalicelib.domain.errors import Conflict, InvalidInput, NotPermitted, Throttled, Unauthenticated
from chalicelib.domain.ids import new_id
from chalicelib.models.auth import (
    EmailVerification,
    LoginFailures,
    PasswordReset,
    RefreshFamily,
    RefreshToken,
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
from chalicelib.usecases.users import find_user_by_email

logger = Logger(service="vigil", child=True, level=settings.log_level)

MAX_VERIFICATION_EMAILS_PER_HOUR = 10


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
    _send_verification_code(user, now=now, sends_this_hour=1)
    orgs.accept_invitations(user, now=now)
    logger.info("user signed up", extra={"user_id": user.user_id})
    return user


def _send_verification_code(user: User, *, now: int, sends_this_hour: int) -> None:
    code = new_verification_code()
    EmailVerification(
        EmailVerification.key(user.user_id),
        code_hash=hash_verification_code(code, user_id=user.user_id, secret=jwt_secret()),
        wrong_tries=0,
        expires_at=now + VERIFICATION_CODE_TTL_SECONDS,
        sent_at=now,
        sends_this_hour=sends_this_hour,
    ).save()
    message = messages.verification_email(user.email, code, minutes=VERIFICATION_CODE_TTL_SECONDS // 60)
    _deliver(message, what="verification code", user_id=user.user_id)


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
    if user is None or user.email_verified:
        return
    now = now_seconds()
    sends_this_hour = 1
    try:
        previous = EmailVerification.get(EmailVerification.key(user.user_id), consistent_read=True)
        if now - previous.sent_at < 3600:
            sends_this_hour = int(previous.sends_this_hour) + 1
    except DoesNotExist:
        pass
    if sends_this_hour > MAX_VERIFICATION_EMAILS_PER_HOUR:
        logger.warning("verification resend limit reached", extra={"user_id": user.user_id})
        return
    _send_verification_code(user, now=now, sends_this_hour=sends_this_hour)


def login(email: str, password: str) -> TokenPair:
    email = normalize_email(email)
    now = now_seconds()
    failures = _login_failures(email)
    if failures is not None:
        wait = lockout_remaining(
            failures=int(failures.failures),
            window_ends_at=int(failures.expires_at),
            now=now,
            max_failures=settings.login_max_failures,
        )
        if wait:
            raise Throttled(
                "too many failed logins for this email; try again later", retry_after_seconds=wait
            )
    user = find_user_by_email(email)
    if not verify_password(password, user.password_hash if user else None) or user is None:
        _record_login_failure(email, now=now)
        raise Unauthenticated("invalid email or password")
    if not user.email_verified:
        raise NotPermitted("is not verified yet; enter the code we emailed you", field="email")
    if failures is not None:
        failures.delete()
    return _start_session(user)


def _login_failures(email: str) -> LoginFailures | None:
    try:
        return LoginFailures.get(LoginFailures.key(email), consistent_read=True)
    except DoesNotExist:
        return None


def _record_login_failure(email: str, *, now: int) -> None:
    key = LoginFailures.key(email)
    try:
        LoginFailures(key).update(
            actions=[LoginFailures.failures.add(1)],
            condition=LoginFailures.expires_at > now,
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        # No counting window open (none yet, or the last one ended): start one.
        LoginFailures(key, failures=1, expires_at=now + settings.login_lockout_seconds).save()


def _start_session(user: User, family_id: str | None = None) -> TokenPair:
    now = now_seconds()
    refresh_expires_at = now + settings.refresh_token_ttl_seconds
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
        issued_at=_now_ms(),
        expires_at=refresh_expires_at,
    ).save(condition=RefreshToken.pk.does_not_exist())
    access_token = issue_access_token(
        user.user_id, secret=jwt_secret(), now=now, ttl_seconds=settings.access_token_ttl_seconds
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
    try:
        token = RefreshToken.get(RefreshToken.key(hash_token(refresh_token)), consistent_read=True)
    except DoesNotExist:
        return
    RefreshFamily(RefreshFamily.key(token.family_id)).update(
        actions=[RefreshFamily.revoked.set(True)],
    )


def request_password_reset(email: str) -> None:
    """Answers the same whether or not the email has an account."""
    email = normalize_email(email)
    user = find_user_by_email(email)
    if user is None:
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


def reset_password(token: str, new_password: str) -> None:
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
    stale = _login_failures(user.email)
    if stale is not None:
        stale.delete()
