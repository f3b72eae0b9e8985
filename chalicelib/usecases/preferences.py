"""Notification preferences: on which channels, at which address, from which severity a user
wants to hear about incidents.

Every user has the four channels, stored or not: a channel never written has its default (email
on at the account's address, the others off), and ``min_severity`` defaults to ``low``. In a PUT,
an omitted ``address`` or ``min_severity`` keeps the current value (so turning SMS off and on
again does not lose the number); ``address: null`` clears it, which for email means the
account's own address again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain.accounts import normalize_email
from chalicelib.domain.clock import now_seconds
from chalicelib.domain.enums import CHANNELS
from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.domain.escalation import check_hook_url, check_severity, severity_at_least
from chalicelib.domain.notifications import check_e164
from chalicelib.models.preferences import NotificationPreference
from chalicelib.models.users import User
from chalicelib.settings import settings
from chalicelib.usecases import targets

DEFAULT_MIN_SEVERITY = "low"


class Keep(Enum):
    """An omitted field of a PUT: the stored value stays."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class PreferenceView:
    channel: str
    enabled: bool
    address: str | None  # for email without an address of its own: the account's address
    min_severity: str
    updated_at: int | None  # None while the channel has its default


def check_channel(channel: str) -> str:
    """404 for a channel that does not exist (it appears in the path)."""
    if channel not in CHANNELS:
        raise NotFound(f"no notification channel {channel!r}; channels are {', '.join(CHANNELS)}")
    return channel


def check_address(channel: str, address: str) -> str:
    if channel == "email":
        return normalize_email(address, field="address")
    if channel == "sms":
        return check_e164(address, field="address")
    url = check_hook_url(channel, address, allow_private=settings.allow_private_targets, field="address")
    if not settings.allow_private_targets:
        targets.refuse_private_resolution([("address", url)])
    return url


def _account_email(user_id: str) -> str:
    try:
        return User.get(user_id, consistent_read=True, attributes_to_get=["email"]).email
    except DoesNotExist as exc:
        raise NotFound("user not found") from exc


def _stored(user_id: str) -> dict[str, NotificationPreference]:
    return {p.channel: p for p in NotificationPreference.query(user_id, consistent_read=True)}


def _view(
    channel: str, stored: NotificationPreference | None, account_email: Callable[[], str]
) -> PreferenceView:
    if stored is None:
        enabled = channel == "email"
        address = account_email() if channel == "email" else None
        return PreferenceView(channel, enabled, address, DEFAULT_MIN_SEVERITY, None)
    address = stored.address
    if address is None and channel == "email":
        address = account_email()
    return PreferenceView(
        channel=channel,
        enabled=bool(stored.enabled),
        address=address,
        min_severity=stored.min_severity or DEFAULT_MIN_SEVERITY,
        updated_at=int(stored.updated_at),
    )


def list_preferences(user_id: str) -> list[PreferenceView]:
    """All four channels, in the order of ``CHANNELS``, defaults filled in."""
    stored = _stored(user_id)
    email = _account_email(user_id)
    return [_view(channel, stored.get(channel), lambda: email) for channel in CHANNELS]


def put_preference(
    user_id: str,
    channel: str,
    *,
    enabled: bool,
    address: str | Keep | None = KEEP,
    min_severity: str | None = None,
) -> PreferenceView:
    """Writes one channel; InvalidInput naming ``address`` or ``min_severity`` when they are bad,
    or when a channel other than email is enabled without an address."""
    check_channel(channel)
    email = _account_email(user_id)  # also: the user exists
    current = _stored(user_id).get(channel)
    if address is KEEP:
        new_address = current.address if current is not None else None
    elif address is None:
        new_address = None
    else:
        new_address = check_address(channel, address)
    if min_severity is None:
        severity = current.min_severity if current is not None else DEFAULT_MIN_SEVERITY
    else:
        severity = check_severity(min_severity, field="min_severity")
    if enabled and new_address is None and channel != "email":
        raise InvalidInput(f"is required to turn {channel} notifications on", field="address")
    preference = NotificationPreference(
        user_id,
        channel,
        enabled=enabled,
        address=new_address,
        min_severity=severity,
        updated_at=now_seconds(),
    )
    preference.save()
    return _view(channel, preference, lambda: email)


def channels_for(user_id: str, severity: str) -> list[tuple[str, str]]:
    """(channel, address) of the user's enabled channels whose ``min_severity`` the incident's
    ``severity`` reaches. One Query, and a read of the account only for email at its address."""
    check_severity(severity, field="severity")
    stored = _stored(user_id)
    found: list[tuple[str, str]] = []
    for channel in CHANNELS:
        record = stored.get(channel)
        if not (record.enabled if record is not None else channel == "email"):
            continue
        try:
            view = _view(channel, record, lambda: _account_email(user_id))
        except NotFound:
            continue  # the account is gone: nothing to reach by email
        if view.enabled and view.address and severity_at_least(severity, view.min_severity):
            found.append((channel, view.address))
    return found
