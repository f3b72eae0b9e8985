"""Short-lived account secrets, all in the ``auth`` table (hash ``pk``, TTL ``expires_at``).

Every secret is stored hashed; the ``pk`` prefix names the kind of item:
``verify#<user_id>``, ``refresh#<sha256>``, ``family#<id>``, ``reset#<sha256>``,
``throttle#<email>#<client>``, and for counters ``login#<email>``, ``mail#<email>``,
``subscribe#<email>`` and ``subscribe-page#<org_id>#<page_id>``.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.settings import settings


class EmailVerification(Model):
    class Meta:
        table_name = settings.table("auth")
        region = settings.region

    pk = UnicodeAttribute(hash_key=True)  # verify#<user_id>
    code_hash = UnicodeAttribute()
    wrong_tries = NumberAttribute(default=0)
    expires_at = NumberAttribute()

    @staticmethod
    def key(user_id: str) -> str:
        return f"verify#{user_id}"


class RefreshToken(Model):
    class Meta:
        table_name = settings.table("auth")
        region = settings.region

    pk = UnicodeAttribute(hash_key=True)  # refresh#<sha256 of the token>
    user_id = UnicodeAttribute()
    family_id = UnicodeAttribute()
    issued_at = NumberAttribute()
    expires_at = NumberAttribute()
    used_at = NumberAttribute(null=True)

    @staticmethod
    def key(token_hash: str) -> str:
        return f"refresh#{token_hash}"


class RefreshFamily(Model):
    """All refresh tokens descending from one login; revoked as a whole on reuse or logout."""

    class Meta:
        table_name = settings.table("auth")
        region = settings.region

    pk = UnicodeAttribute(hash_key=True)  # family#<id>
    user_id = UnicodeAttribute()
    revoked = BooleanAttribute(default=False)
    expires_at = NumberAttribute()

    @staticmethod
    def key(family_id: str) -> str:
        return f"family#{family_id}"


class PasswordReset(Model):
    class Meta:
        table_name = settings.table("auth")
        region = settings.region

    pk = UnicodeAttribute(hash_key=True)  # reset#<sha256 of the token>
    user_id = UnicodeAttribute()
    expires_at = NumberAttribute()
    used_at = NumberAttribute(null=True)

    @staticmethod
    def key(token_hash: str) -> str:
        return f"reset#{token_hash}"


class LoginThrottle(Model):
    """Failed logins in a row for one email from one client address, and when it may try again."""

    class Meta:
        table_name = settings.table("auth")
        region = settings.region

    pk = UnicodeAttribute(hash_key=True)  # throttle#<email>#<client>
    failures = NumberAttribute(default=0)  # attempts judged wrong, or under way
    retry_at = NumberAttribute(default=0)  # no attempt is judged before this second
    expires_at = NumberAttribute()  # forgotten then (TTL), a window after the last attempt

    @staticmethod
    def key(email: str, client: str) -> str:
        return f"throttle#{email}#{client}"


class WindowCounter(Model):
    """Events counted in a fixed window that starts with the first one: failed logins for an email
    (``login#<email>``, the ceiling over all addresses), account emails sent to an address
    (``mail#<email>``), status page subscription emails sent to an address (``subscribe#<email>``)
    and by a page (``subscribe-page#<org_id>#<page_id>``)."""

    class Meta:
        table_name = settings.table("auth")
        region = settings.region

    pk = UnicodeAttribute(hash_key=True)
    events = NumberAttribute(default=0)
    expires_at = NumberAttribute()  # end of the window, and the TTL

    @staticmethod
    def failed_logins_key(email: str) -> str:
        return f"login#{email}"

    @staticmethod
    def account_emails_key(email: str) -> str:
        return f"mail#{email}"

    @staticmethod
    def subscription_emails_key(email: str) -> str:
        return f"subscribe#{email}"

    @staticmethod
    def page_subscription_emails_key(org_id: str, page_id: str) -> str:
        return f"subscribe-page#{org_id}#{page_id}"
