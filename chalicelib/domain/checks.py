"""One check result, and how it is packed into its hour bucket.

A steady-state check must cost one small DynamoDB write, so the raw checks of
an hour live as a list inside that hour's item: a good check as one number
(second of the hour, response time, status code), a failed or missed one as a
short string that also keeps the error.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def hour_of(epoch_seconds: int) -> int:
    return epoch_seconds - epoch_seconds % HOUR


def pack(record: CheckRecord) -> int | str:
    second = record.checked_at - hour_of(record.checked_at)
    if record.status == "up" and record.response_time_ms is not None and record.status_code is not None:
        ms = min(max(record.response_time_ms, 0), _MAX_MS)
        # second (0..3599) | 7 digits of ms | 3 digits of status code
        return (second * 10**7 + ms) * 1000 + record.status_code
    error = (record.error or "").replace("|", "/")[:MAX_ERROR_CHARS]
    code = "" if record.status_code is None else str(record.status_code)
    ms_text = "" if record.response_time_ms is None else str(record.response_time_ms)
    return f"{second}|{record.status[0]}|{code}|{ms_text}|{error}"


def unpack(packed: int | str | float, *, hour: int) -> CheckRecord:
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
