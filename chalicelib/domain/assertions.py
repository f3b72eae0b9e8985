"""Response assertions: check what a health endpoint says, not only its status code.

    {"source": "json", "path": "<JMESPath>", "op": OP, "value": V}
    {"source": "header", "name": "X-Version", "op": OP, "value": V}
    {"source": "response_time_ms", "op": OP, "value": N}

Type rules, so a comparison means one thing:
- `==` and `!=` compare as JSON does: a number equals a number of the same value (1 == 1.0), a string
  only the same string, true/false only themselves (true is not 1), null only null; arrays and objects
  compare whole. A header is a string, so its value is compared as a string.
- `<`, `<=`, `>`, `>=` need a number as `value`; the found value must be a number or a string holding
  one (a header like Content-Length, a JSON "42"), else the assertion fails saying so.
- `contains`: a found string contains the value as a substring; a found array has an element equal to
  it; a found object has it as a key.
- `exists` (value true, or false for "must be absent"): JMESPath gives null for a missing path, so a
  JSON null counts as absent.

Pure: the checker passes the body (read up to MAX_BODY_BYTES), the headers and the response time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from chalicelib.domain.errors import InvalidInput

MAX_ASSERTIONS = 10
MAX_BODY_BYTES = 1_048_576  # read for keyword and JSON checks; the rest of a body is not looked at
MAX_PATH_CHARS = 200
MAX_VALUE_CHARS = 1000
OPS = ("==", "!=", "<", "<=", ">", ">=", "contains", "exists")
ORDERING_OPS = ("<", "<=", ">", ">=")
SOURCES = ("json", "header", "response_time_ms")
_SHOWN_CHARS = 60  # of a found value in a reason: checks keep at most 200 characters of error
_MISSING = object()


@dataclass(frozen=True)
class Assertion:
    source: str
    op: str
    value: Any = None
    path: str | None = None  # json
    name: str | None = None  # header

    def describe(self) -> str:
        """As a person would write it: `json status == "UP"`, `header X-Version exists`."""
        subject = {"json": f"json {self.path}", "header": f"header {self.name}"}.get(self.source, self.source)
        if self.op == "exists" and self.value is True:
            return f"{subject} exists"
        return f"{subject} {self.op} {_shown(self.value)}"


@dataclass(frozen=True)
class Response:
    body: bytes  # at most MAX_BODY_BYTES: the checker stops reading there
    headers: Mapping[str, str]
    response_time_ms: int
    body_truncated: bool = False  # the body went on past MAX_BODY_BYTES


def check_assertions(raw: object) -> list[Assertion]:
    """Validated assertions, at save time; InvalidInput naming `assertions.N.<field>`."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InvalidInput("must be a list", field="assertions")
    if len(raw) > MAX_ASSERTIONS:
        raise InvalidInput(f"may have at most {MAX_ASSERTIONS} entries", field="assertions")
    return [_check_one(item, f"assertions.{n}") for n, item in enumerate(raw)]


def _check_one(item: object, where: str) -> Assertion:
    if not isinstance(item, Mapping):
        raise InvalidInput("must be an object", field=where)
    source = item.get("source")
    if source not in SOURCES:
        raise InvalidInput(f"must be one of {', '.join(SOURCES)}", field=f"{where}.source")
    op = item.get("op")
    if op not in OPS:
        raise InvalidInput(f"must be one of {', '.join(OPS)}", field=f"{where}.op")
    allowed = {"source", "op", "value", "path" if source == "json" else "name" if source == "header" else ""}
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise InvalidInput(f"not a field of a {source} assertion", field=f"{where}.{unknown[0]}")
    path = name = None
    if source == "json":
        path = _check_path(item.get("path"), f"{where}.path")
    elif source == "header":
        name = item.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100 or not name.isascii():
            raise InvalidInput("must be a header name", field=f"{where}.name")
    elif op in ("contains", "exists"):
        raise InvalidInput(f"{op} does not apply to response_time_ms", field=f"{where}.op")
    value = _check_value(
        source, op, item.get("value", True if op == "exists" else _MISSING), f"{where}.value"
    )
    return Assertion(source=source, op=op, value=value, path=path, name=name)


def _check_path(path: object, field: str) -> str:
    if not isinstance(path, str) or not 1 <= len(path) <= MAX_PATH_CHARS:
        raise InvalidInput(
            f"must be a JMESPath expression of at most {MAX_PATH_CHARS} characters", field=field
        )
    try:
        jmespath.compile(path)
    except JMESPathError as error:
        raise InvalidInput(f"is not a JMESPath expression ({_first_line(error)})", field=field) from error
    return path


def _check_value(source: str, op: str, value: object, field: str) -> object:
    if value is _MISSING:
        raise InvalidInput("is required", field=field)
    if op == "exists":
        if not isinstance(value, bool):
            raise InvalidInput("must be true or false for exists", field=field)
        return value
    if op in ORDERING_OPS or source == "response_time_ms":
        if not _is_number(value) or not _finite(value):
            raise InvalidInput(f"must be a number for {op}", field=field)
        return value
    if source == "header" and not isinstance(value, str):
        raise InvalidInput("must be a string: headers are text", field=field)
    if len(json.dumps(value)) > MAX_VALUE_CHARS:
        raise InvalidInput(f"must be at most {MAX_VALUE_CHARS} characters as JSON", field=field)
    return value


def first_failure(assertions: Sequence[Assertion], response: Response) -> str | None:
    """None when every assertion holds, else the reason of the first that does not.

    The reason names the assertion and what was found: `json status == "UP": got "DEGRADED"`.
    """
    document: Any = _MISSING
    for assertion in assertions:
        if assertion.source == "json":
            if document is _MISSING:
                document = _parse_json(response)
            if isinstance(document, _NotJson):
                return f"{assertion.describe()}: {document.reason}"
            try:
                found = jmespath.search(assertion.path or "", document)
            except JMESPathError as error:
                return f"{assertion.describe()}: {_first_line(error)}"
            failure = _judge(assertion, found, missing=found is None)
        elif assertion.source == "header":
            header = _header(response.headers, assertion.name or "")
            failure = _judge(assertion, header, missing=header is None, what_missing="header missing")
        else:
            failure = _judge(assertion, response.response_time_ms, missing=False)
        if failure is not None:
            return f"{assertion.describe()}: {failure}"[:200]
    return None


@dataclass(frozen=True)
class _NotJson:
    reason: str


def _parse_json(response: Response) -> Any:
    if response.body_truncated:
        return _NotJson(f"body is not JSON (only its first {MAX_BODY_BYTES // 1_048_576} MB is read)")
    try:
        return json.loads(response.body)
    except (ValueError, RecursionError):  # ValueError covers bad UTF-8 and over-long integers too
        return _NotJson("body is not JSON")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _judge(assertion: Assertion, found: Any, *, missing: bool, what_missing: str = "not found") -> str | None:
    """None when the assertion holds for `found`, else what was wrong."""
    op, expected = assertion.op, assertion.value
    if op == "exists":
        if missing == expected:
            return "missing" if expected else f"present: got {_shown(found)}"
        return None
    if missing:
        return what_missing
    if op in ("==", "!="):
        if _json_equal(found, expected) == (op == "=="):
            return None
        return f"got {_shown(found)}"
    if op == "contains":
        if isinstance(found, str):
            held = isinstance(expected, str) and expected in found
        elif isinstance(found, list):
            held = any(_json_equal(element, expected) for element in found)
        elif isinstance(found, dict):
            held = isinstance(expected, str) and expected in found
        else:
            return f"got {_shown(found)} (not a string, array or object)"
        return None if held else f"got {_shown(found)}"
    number = _as_number(found)
    if number is None:
        return f"got {_shown(found)} (not a number)"
    held = {
        "<": number < expected,
        "<=": number <= expected,
        ">": number > expected,
        ">=": number >= expected,
    }[op]
    return None if held else f"got {_shown(found)}"


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


def _as_number(value: Any) -> float | None:
    if _is_number(value):
        return float(value)
    if isinstance(value, str) and len(value) <= 50:
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _finite(value: object) -> bool:
    """A number a float can hold (an integer of 400 digits is valid JSON, but no float)."""
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except OverflowError:
        return False


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0][:100] if str(error) else type(error).__name__
