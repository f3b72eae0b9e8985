"""When each service is checked: spread over its interval by a hash of its id.

A service with interval I and offset o fires at every epoch second t with
t % I == o. The offset comes from the id, so every process agrees on it without
storing anything but the offset itself, and the services of one interval fire
evenly spread over it instead of all at second 0. The scheduler finds the
services due in a window with a Query on an index whose hash key is the interval
and whose range key is the offset, one `BETWEEN lo AND hi` per range.
"""

from __future__ import annotations

import hashlib


def phase_offset(service_id: str, interval_seconds: int) -> int:
    """The service's second within its interval, the same in every process and every run."""
    _check_interval(interval_seconds)
    # hash() is salted per process; sha256 is not. 64 bits make the modulo bias negligible.
    digest = hashlib.sha256(service_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % interval_seconds


def offset_ranges(interval_seconds: int, window_start: int, window_seconds: int) -> list[tuple[int, int]]:
    """The inclusive offset ranges of the services with this interval that fire in the window.

    The window is [window_start, window_start + window_seconds). At most two ranges, ascending: a window
    that crosses a multiple of the interval wraps around to offset 0.
    """
    _check_interval(interval_seconds)
    if window_seconds < 0:
        raise ValueError(f"window_seconds must be >= 0, not {window_seconds}")
    if window_seconds == 0:
        return []
    if window_seconds >= interval_seconds:
        return [(0, interval_seconds - 1)]
    first = window_start % interval_seconds
    last = (window_start + window_seconds - 1) % interval_seconds
    if first <= last:
        return [(first, last)]
    return [(0, last), (first, interval_seconds - 1)]


def fire_times(offset: int, interval_seconds: int, window_start: int, window_seconds: int) -> list[int]:
    """Every epoch second in [window_start, window_start + window_seconds) at which the service fires."""
    _check_interval(interval_seconds)
    if not 0 <= offset < interval_seconds:
        raise ValueError(f"offset must be in [0, {interval_seconds}), not {offset}")
    first = window_start + (offset - window_start) % interval_seconds
    return list(range(first, window_start + window_seconds, interval_seconds))


def is_missed(scheduled_at: float, started_at: float, interval_seconds: int) -> bool:
    """A check that starts more than an interval late is missed, not down.

    By then the next check is already due, and what made it late (a backlog in the queue, a throttled
    Lambda) is our problem, not the service's.
    """
    return started_at - scheduled_at > interval_seconds


def _check_interval(interval_seconds: int) -> None:
    if interval_seconds < 1:
        raise ValueError(f"interval_seconds must be >= 1, not {interval_seconds}")
