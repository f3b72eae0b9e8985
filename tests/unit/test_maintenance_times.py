"""ISO times of maintenance windows as the API reads them: with an offset as given, without one in
the window's time zone (wall-clock, so a DST change moves the UTC instant), anything else a 400
naming the field."""

import pytest

from chalicelib.api.maintenance import parse_time
from chalicelib.domain.errors import InvalidInput


def epoch(text: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(text).timestamp())


@pytest.mark.parametrize(
    ("given", "zone", "expected"),
    [
        ("2027-03-14T04:00:00Z", "UTC", "2027-03-14T04:00:00+00:00"),
        ("2027-03-14T04:00:00+01:00", "America/New_York", "2027-03-14T03:00:00+00:00"),
        ("2027-03-07T04:00:00", "America/New_York", "2027-03-07T09:00:00+00:00"),  # EST
        ("2027-03-14T04:00:00", "America/New_York", "2027-03-14T08:00:00+00:00"),  # EDT
        ("2027-10-31T04:00", "Europe/Berlin", "2027-10-31T03:00:00+00:00"),  # CET again
    ],
)
def test_times_are_read_with_their_offset_or_in_the_windows_zone(given, zone, expected):
    assert parse_time(given, field="starts_at", timezone=zone) == epoch(expected)


@pytest.mark.parametrize("given", ["tomorrow", "2027-13-01T00:00:00Z", "", "2027-03-14 25:00"])
def test_anything_else_is_400_naming_the_field(given):
    with pytest.raises(InvalidInput) as raised:
        parse_time(given, field="ends_at", timezone="UTC")
    assert raised.value.field == "ends_at"


def test_no_time_is_none():
    assert parse_time(None, field="starts_at", timezone="UTC") is None
