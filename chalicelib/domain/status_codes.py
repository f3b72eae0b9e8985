"""`expected_status`: which HTTP status codes count as up ("200-299,301", "200", "2xx")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.domain.errors import InvalidInput

_PART = re.compile(r"^(?:(\d{3})(?:-(\d{3}))?|([1-5])xx)$")
MAX_PARTS = 20


@dataclass(frozen=True)
class StatusRanges:
    ranges: tuple[tuple[int, int], ...]

    @classmethod
    def parse(cls, spec: str, *, field: str = "expected_status") -> StatusRanges:
        if not isinstance(spec, str) or not spec.strip():
            raise InvalidInput("must list codes or ranges, like 200-299,301", field=field)
        parts = [p.strip().lower() for p in spec.split(",")]
        if len(parts) > MAX_PARTS:
            raise InvalidInput(f"may list at most {MAX_PARTS} codes or ranges", field=field)
        ranges = []
        for part in parts:
            match = _PART.match(part)
            if not match:
                raise InvalidInput(
                    f"{part!r} is not a status code or range (like 200-299,301 or 2xx)", field=field
                )
            if match.group(3):
                low, high = int(match.group(3)) * 100, int(match.group(3)) * 100 + 99
            else:
                low = int(match.group(1))
                high = int(match.group(2) or low)
            if not 100 <= low <= high <= 599:
                raise InvalidInput(f"{part!r} must be codes from 100 to 599, low to high", field=field)
            ranges.append((low, high))
        return cls(tuple(sorted(set(ranges))))

    def __contains__(self, code: object) -> bool:
        return isinstance(code, int) and any(low <= code <= high for low, high in self.ranges)

    def __str__(self) -> str:
        return ",".join(str(low) if low == high else f"{low}-{high}" for low, high in self.ranges)
