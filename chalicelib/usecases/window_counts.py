"""Events counted in fixed windows (``WindowCounter`` items of the auth table): the budgets that
bound what anyone can make Vigil send (account emails, subscription emails) or try (logins)."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.models.auth import WindowCounter
from chalicelib.usecases.dynamo import condition_failed


def count_in_window(key: str, *, limit: int, window_seconds: int, now: int) -> bool:
    """Counts one event in ``key``'s window unless ``limit`` are counted there already; True when
    counted. Both writes are conditional, so concurrent requests never count past the limit."""
    try:
        WindowCounter(key).update(
            actions=[WindowCounter.events.add(1)],
            condition=(WindowCounter.expires_at > now) & (WindowCounter.events < limit),
        )
        return True
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
    # No window open (none yet, or the last one ended), or the limit is reached: only the first
    # of these may start a new window.
    try:
        WindowCounter(key, events=1, expires_at=now + window_seconds).save(
            condition=WindowCounter.pk.does_not_exist() | (WindowCounter.expires_at <= now)
        )
        return True
    except PutError as exc:
        if not condition_failed(exc):
            raise
        return False


def seconds_left_in_window(key: str, *, now: int) -> int:
    """Until ``key``'s window ends (at least 1): the Retry-After of a refused event."""
    try:
        counter = WindowCounter.get(key, consistent_read=True)
    except DoesNotExist:
        return 1
    return max(1, int(counter.expires_at) - now)
