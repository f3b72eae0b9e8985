"""One check result, how it is packed, and which result shard records it.

A check is packed small: a good check as one number (second of the hour,
response time, status code), a failed or missed one as a short string that also
keeps the error. The checker records the results of a message's jobs together,
in one item per result shard (see ``result_shard``); the hourly fold moves them
into each service's hour bucket, where a heartbeat's pings are written directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.metrics import Rollup
from chalicelib.domain.schedule import phase_offset

HOUR = 3600
MAX_ERROR_CHARS = 200
_MAX_MS = 10**7 - 1  # 2.7 hours: longer is clamped


@dataclass(frozen=True)
class CheckRecord:
    checked_at: int  # epoch second the check was scheduled for
    status: str  # "up", "down" or "missed"
    response_time_ms: int | None
    status_code: int | None
    error: str | None
    # Heartbeat pings only (a probe leaves them None): what the ping was and what came with it.
    kind: str | None = None  # heartbeats.PingKind: success, start, fail, log
    duration_ms: int | None = None  # from the start it pairs with
    rid: str | None = None
    body: str | None = None  # the first 10 KB of a POST body
    exit_status: int | None = None


def hour_of(epoch_seconds: int) -> int:
    return epoch_seconds - epoch_seconds % HOUR


def counters_of(record: CheckRecord) -> Rollup:
    """What one check adds to the counters: a missed check counts as missed, a heartbeat's start or
    log ping not at all."""
    if record.status not in ("up", "down", "missed"):
        return Rollup()
    up = None if record.status == "missed" else record.status == "up"
    return Rollup.of_check(up=up, response_time_ms=record.response_time_ms)


def result_shard(service_id: str, shards_per_second: int) -> str:
    """The service's result shard: ``shards_per_second`` shards per second of the minute.

    The shard modulo 60 is the service's phase in a 60-second interval (the same hash as
    ``phase_offset``), so the services of one shard fire in the same seconds (for any interval that
    divides 60 or is a multiple of it) and the scheduler packs them into the same messages: the
    jobs of a message are recorded in one item. A service's last hour is one Query of its shard.
    """
    return str(phase_offset(service_id, 60 * shards_per_second))


def result_slot(scheduled_at: int, first_key: str) -> str:
    """Range key of a group of results: its scheduled second (sortable), then the group's first
    service key, the same for a redelivered message, so recording it again overwrites."""
    return f"{scheduled_at:010d}#{first_key}"


def slot_second(slot: str) -> int:
    return int(slot[:10])


def pack(record: CheckRecord) -> int | str | dict[str, object]:
    if record.kind is not None:
        return _pack_ping(record)
    second = record.checked_at - hour_of(record.checked_at)
    if record.status == "up" and record.response_time_ms is not None and record.status_code is not None:
        ms = min(max(record.response_time_ms, 0), _MAX_MS)
        # second (0..3599) | 7 digits of ms | 3 digits of status code
        return (second * 10**7 + ms) * 1000 + record.status_code
    error = (record.error or "").replace("|", "/")[:MAX_ERROR_CHARS]
    code = "" if record.status_code is None else str(record.status_code)
    ms_text = "" if record.response_time_ms is None else str(record.response_time_ms)
    return f"{second}|{record.status[0]}|{code}|{ms_text}|{error}"


def _pack_ping(record: CheckRecord) -> dict[str, object]:
    """A ping is a small map: its kind always, the rest only when there is something to keep."""
    fields: dict[str, object] = {
        "t": record.checked_at - hour_of(record.checked_at),
        "k": record.kind,
        "s": record.status[0],
        "d": record.duration_ms,
        "r": record.rid,
        "b": record.body or None,
        "x": record.exit_status,
        "e": record.error,
    }
    return {name: value for name, value in fields.items() if value is not None}


def unpack(packed: int | str | float | dict[str, object], *, hour: int) -> CheckRecord:
    if isinstance(packed, dict):
        return _unpack_ping(packed, hour=hour)
    if isinstance(packed, int | float):
        value = int(packed)
        code = value % 1000
        value //= 1000
        ms = value % 10**7
        second = value // 10**7
        return CheckRecord(hour + second, "up", ms, code, None)
    second_text, letter, code_text, ms_text, error = packed.split("|", 4)
    status = {"u": "up", "d": "down", "m": "missed"}[letter]
    return CheckRecord(
        checked_at=hour + int(second_text),
        status=status,
        response_time_ms=int(ms_text) if ms_text else None,
        status_code=int(code_text) if code_text else None,
        error=error or None,
    )


_STATUS_LETTERS = {"u": "up", "d": "down", "m": "missed", "i": "info"}


def _unpack_ping(packed: dict[str, object], *, hour: int) -> CheckRecord:
    def number(name: str) -> int | None:
        value = packed.get(name)
        return None if value is None else int(value)  # type: ignore[call-overload]

    def text(name: str) -> str | None:
        value = packed.get(name)
        return None if value is None else str(value)

    return CheckRecord(
        checked_at=hour + (number("t") or 0),
        status=_STATUS_LETTERS.get(text("s") or "i", "info"),
        response_time_ms=None,
        status_code=None,
        error=text("e"),
        kind=text("k"),
        duration_ms=number("d"),
        rid=text("r"),
        body=text("b"),
        exit_status=number("x"),
    )
