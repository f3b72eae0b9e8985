"""Time as the API shows it: ISO 8601 UTC with a trailing Z, whole seconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_seconds() -> int:
    return int(time.time())


def iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(int(epoch_seconds), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
