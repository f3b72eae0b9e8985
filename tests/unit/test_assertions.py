"""Response assertions: validation at save time, every operator, type rules and the reasons people read."""

import json

import pytest

from chalicelib.domain.assertions import (
    MAX_BODY_BYTES,
    Response,
    check_assertions,
    first_failure,
)
from chalicelib.domain.errors import InvalidInput


def reason(assertion: dict, body: object = None, headers: dict | None = None, ms: int = 100) -> str | None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return first_failure(check_assertions([assertion]), Response(raw, headers or {}, ms))


def holds(assertion: dict, body: object = None, headers: dict | None = None, ms: int = 100) -> bool:
    return reason(assertion, body, headers, ms) is None


def invalid_field(raw: object) -> str | None:
    with pytest.raises(InvalidInput) as error:
        check_assertions(raw)
    return error.value.field


def json_(path: str, op: str, value: object = None, **extra) -> dict:
    item = {"source": "json", "path": path, "op": op, **extra}
    if value is not None or op != "exists":
        item["value"] = value
    return item


# The reasons API.md promises


def test_a_failed_json_assertion_names_it_and_what_was_found():
    assert (
        reason(json_("status", "==", "UP"), {"status": "DEGRADED"}) == 'json status == "UP": got "DEGRADED"'
    )


def test_a_body_that_is_not_json_fails_a_json_assertion_with_that_reason():
    assert (
        reason(json_("status", "==", "UP"), b"<html>oops</html>") == 'json status == "UP": body is not JSON'
    )


def test_a_body_cut_at_the_bound_is_not_read_as_json():
    response = Response(b'{"status": "UP", "pad": "' + b"x" * 100, {}, 5, body_truncated=True)
    failure = first_failure(check_assertions([json_("status", "==", "UP")]), response)
    assert failure == 'json status == "UP": body is not JSON (only its first 1 MB is read)'
    assert MAX_BODY_BYTES == 1_048_576


def test_a_missing_json_path_and_a_missing_header_say_so():
    assert reason(json_("checks.db", "==", "ok"), {"status": "UP"}) == 'json checks.db == "ok": not found'
    missing_header = {"source": "header", "name": "X-Version", "op": "==", "value": "2"}
    assert reason(missing_header, {}) == 'header X-Version == "2": header missing'


def test_a_slow_response_names_the_time_it_took():
    slow = {"source": "response_time_ms", "op": "<", "value": 500}
    assert reason(slow, {}, ms=812) == "response_time_ms < 500: got 812"
    assert holds(slow, {}, ms=499)


def test_the_first_failure_is_reported_and_all_must_hold():
    assertions = check_assertions(
        [
            json_("status", "==", "UP"),
            json_("version", ">=", 2),
            {"source": "response_time_ms", "op": "<", "value": 50},
        ]
    )
    body = json.dumps({"status": "UP", "version": 1}).encode()
    assert first_failure(assertions, Response(body, {}, 900)) == "json version >= 2: got 1"
    assert first_failure(assertions, Response(b'{"status": "UP", "version": 3}', {}, 10)) is None
    assert first_failure([], Response(b"", {}, 10)) is None


def test_a_long_found_value_is_cut_so_the_reason_fits_a_check_record():
    failure = reason(json_("status", "==", "UP"), {"status": "x" * 5000})
    assert failure is not None and len(failure) <= 200 and failure.endswith("…")


# Every operator, with the type rules


@pytest.mark.parametrize(
    ("op", "value", "found", "expected"),
    [
        ("==", "UP", "UP", True),
        ("==", "UP", "up", False),  # strings are compared exactly
        ("==", 1, 1.0, True),  # numbers by value
        ("==", 1, "1", False),  # a string is not a number
        ("==", 1, True, False),  # true is not 1
        ("==", True, True, True),
        ("==", None, None, False),  # null is "not found" (JMESPath cannot tell them apart)
        ("==", [1, 2], [1, 2], True),
        ("==", {"a": 1}, {"a": 1.0}, True),
        ("!=", "UP", "DOWN", True),
        ("!=", "UP", "UP", False),
        ("!=", 0, False, True),
        ("<", 10, 9, True),
        ("<", 10, 10, False),
        ("<=", 10, 10, True),
        (">", 10, 10.5, True),
        (">", 10, "11", True),  # a numeric string is read as a number for ordering
        (">=", 10, 9, False),
        (">=", 10, "abc", False),
        (">", 0, True, False),  # true is not a number
        ("contains", "ok", "all ok here", True),
        ("contains", "ok", "fine", False),
        ("contains", "db", ["cache", "db"], True),
        ("contains", 2, [1, 2.0], True),
        ("contains", "db", {"db": "up"}, True),
        ("contains", "up", {"db": "up"}, False),  # objects contain keys, not values
        ("contains", "1", 1, False),  # a number contains nothing
    ],
)
def test_json_operators(op, value, found, expected):
    assert holds(json_("x", op, value), {"x": found}) is expected


def test_exists_true_and_false():
    assert holds(json_("x", "exists"), {"x": 0})
    assert holds(json_("x", "exists", True), {"x": ""})
    assert reason(json_("x", "exists"), {"y": 1}) == "json x exists: missing"
    assert holds(json_("error", "exists", False), {"status": "UP"})
    assert (
        reason(json_("error", "exists", False), {"error": "boom"})
        == 'json error exists false: present: got "boom"'
    )


def test_jmespath_reaches_into_lists_and_filters():
    body = {"checks": [{"name": "db", "status": "UP"}, {"name": "cache", "status": "DOWN"}]}
    assert holds(json_("checks[?name=='db'].status | [0]", "==", "UP"), body)
    assert reason(json_("length(checks[?status!='UP'])", "==", 0), body) == (
        "json length(checks[?status!='UP']) == 0: got 1"
    )


def test_a_jmespath_type_error_at_run_time_fails_with_a_reason():
    failure = reason(json_("length(status)", "==", 2), {"status": 5})
    assert failure is not None and failure.startswith("json length(status) == 2: ")


def test_a_non_ordering_failure_on_a_non_number_says_it_is_not_a_number():
    assert reason(json_("x", ">", 3), {"x": "abc"}) == 'json x > 3: got "abc" (not a number)'


def test_headers_are_found_whatever_their_case_and_compared_as_text():
    header = {"source": "header", "name": "content-type", "op": "contains", "value": "json"}
    assert holds(header, {}, headers={"Content-Type": "application/json; charset=utf-8"})
    equal = {"source": "header", "name": "X-Version", "op": "==", "value": "2"}
    assert holds(equal, {}, headers={"x-version": "2"})
    size = {"source": "header", "name": "Content-Length", "op": ">", "value": 0}
    assert holds(size, {}, headers={"Content-Length": "120"})
    assert holds({"source": "header", "name": "X-Gone", "op": "exists", "value": False}, {})


@pytest.mark.parametrize(
    ("op", "value", "ms", "expected"),
    [
        ("<", 500, 499, True),
        ("<=", 500, 500, True),
        (">", 500, 500, False),
        (">=", 500, 500, True),
        ("==", 100, 100, True),
        ("!=", 100, 100, False),
    ],
)
def test_response_time_operators(op, value, ms, expected):
    assert holds({"source": "response_time_ms", "op": op, "value": value}, {}, ms=ms) is expected


# Validation at save time


def test_a_bad_jmespath_names_its_index():
    raw = [json_("status", "==", "UP"), json_("checks[", "==", "UP")]
    assert invalid_field(raw) == "assertions.1.path"


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"source": "xml", "op": "==", "value": 1}, "assertions.0.source"),
        ({"source": "json", "path": "a", "op": "=~", "value": 1}, "assertions.0.op"),
        ({"source": "json", "op": "==", "value": 1}, "assertions.0.path"),
        ({"source": "json", "path": "", "op": "==", "value": 1}, "assertions.0.path"),
        ({"source": "json", "path": "a", "op": "=="}, "assertions.0.value"),
        ({"source": "json", "path": "a", "op": "<", "value": "10"}, "assertions.0.value"),
        ({"source": "json", "path": "a", "op": "exists", "value": "yes"}, "assertions.0.value"),
        ({"source": "header", "op": "==", "value": "x"}, "assertions.0.name"),
        ({"source": "header", "name": "X", "op": "==", "value": 2}, "assertions.0.value"),
        ({"source": "response_time_ms", "op": "contains", "value": 5}, "assertions.0.op"),
        ({"source": "response_time_ms", "op": "<", "value": "fast"}, "assertions.0.value"),
        ({"source": "response_time_ms", "op": "<", "value": True}, "assertions.0.value"),
        ({"source": "json", "path": "a", "name": "b", "op": "==", "value": 1}, "assertions.0.name"),
        ("status == UP", "assertions.0"),
    ],
)
def test_bad_assertions_name_the_field(item, field):
    assert invalid_field([item]) == field


def test_at_most_ten_assertions():
    assert len(check_assertions([json_("a", "exists")] * 10)) == 10
    assert invalid_field([json_("a", "exists")] * 11) == "assertions"
    assert invalid_field({"source": "json"}) == "assertions"
    assert check_assertions(None) == []


def test_a_number_too_big_for_a_float_is_refused_naming_the_value():
    with pytest.raises(InvalidInput) as refused:
        check_assertions([{"source": "response_time_ms", "op": "<", "value": 10**400}])
    assert refused.value.field == "assertions.0.value"
