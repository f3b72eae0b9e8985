"""`expected_status` specs (chalicelib/domain/status_codes.py)."""

import pytest

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.status_codes import MAX_PARTS, StatusRanges


@pytest.mark.parametrize(
    ("spec", "ranges"),
    [
        ("200", ((200, 200),)),
        ("200-299", ((200, 299),)),
        ("200-299,301", ((200, 299), (301, 301))),
        ("2xx", ((200, 299),)),
        ("2XX", ((200, 299),)),
        ("1xx,5xx", ((100, 199), (500, 599))),
        ("301,200-299", ((200, 299), (301, 301))),  # sorted
        ("200,200,2xx,200-299", ((200, 200), (200, 299))),  # repeats dropped
        ("  200-299  ", ((200, 299),)),
        ("  200-299 ,  301 ", ((200, 299), (301, 301))),
        ("100-599", ((100, 599),)),
        ("404-404", ((404, 404),)),
    ],
)
def test_parse(spec: str, ranges: tuple[tuple[int, int], ...]) -> None:
    assert StatusRanges.parse(spec).ranges == ranges


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        ("200", "200"),
        ("200-200", "200"),
        ("2xx", "200-299"),
        ("301, 2XX", "200-299,301"),
        ("5xx,200-204,200-204", "200-204,500-599"),
    ],
)
def test_str_is_the_canonical_spec(spec: str, text: str) -> None:
    assert str(StatusRanges.parse(spec)) == text
    assert StatusRanges.parse(text) == StatusRanges.parse(spec)  # it parses back to the same ranges


def test_membership() -> None:
    ranges = StatusRanges.parse("200-299,301,5xx")
    for code in (200, 250, 299, 301, 500, 599):
        assert code in ranges
    for code in (199, 300, 302, 404, 499, 600, None, "200", 200.0):
        assert code not in ranges


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "expected_status: must list codes or ranges, like 200-299,301"),
        ("   ", "expected_status: must list codes or ranges, like 200-299,301"),
        (
            "ok",
            "expected_status: 'ok' is not a status code or range (like 200-299,301 or 2xx)",
        ),
        ("20", "expected_status: '20' is not a status code or range (like 200-299,301 or 2xx)"),
        ("2000", "expected_status: '2000' is not a status code or range (like 200-299,301 or 2xx)"),
        ("200-", "expected_status: '200-' is not a status code or range (like 200-299,301 or 2xx)"),
        ("-200", "expected_status: '-200' is not a status code or range (like 200-299,301 or 2xx)"),
        ("200 - 299", "expected_status: '200 - 299' is not a status code or range (like 200-299,301 or 2xx)"),
        (
            "200-299-300",
            "expected_status: '200-299-300' is not a status code or range (like 200-299,301 or 2xx)",
        ),
        ("200;301", "expected_status: '200;301' is not a status code or range (like 200-299,301 or 2xx)"),
        ("200,", "expected_status: '' is not a status code or range (like 200-299,301 or 2xx)"),
        ("200,,301", "expected_status: '' is not a status code or range (like 200-299,301 or 2xx)"),
        ("6xx", "expected_status: '6xx' is not a status code or range (like 200-299,301 or 2xx)"),
        ("0xx", "expected_status: '0xx' is not a status code or range (like 200-299,301 or 2xx)"),
        ("2x", "expected_status: '2x' is not a status code or range (like 200-299,301 or 2xx)"),
        ("099", "expected_status: '099' must be codes from 100 to 599, low to high"),
        ("600", "expected_status: '600' must be codes from 100 to 599, low to high"),
        ("200-600", "expected_status: '200-600' must be codes from 100 to 599, low to high"),
        ("299-200", "expected_status: '299-200' must be codes from 100 to 599, low to high"),
    ],
)
def test_invalid_specs_are_refused_with_a_reason(spec: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        StatusRanges.parse(spec)
    assert caught.value.message == message


def test_at_most_max_parts() -> None:
    codes = [str(200 + i) for i in range(MAX_PARTS + 1)]
    assert len(StatusRanges.parse(",".join(codes[:MAX_PARTS])).ranges) == MAX_PARTS
    with pytest.raises(InvalidInput) as caught:
        StatusRanges.parse(",".join(codes))
    assert caught.value.message == f"expected_status: may list at most {MAX_PARTS} codes or ranges"


def test_a_spec_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(InvalidInput):
        StatusRanges.parse(200)  # type: ignore[arg-type]


def test_the_field_named_is_the_one_given() -> None:
    with pytest.raises(InvalidInput) as caught:
        StatusRanges.parse("nope", field="accept")
    assert caught.value.field == "accept"
