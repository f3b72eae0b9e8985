"""Spreading checks over their interval: who fires when, and what the scheduler queries for a window."""

import random
from collections import Counter
from itertools import pairwise

import pytest

from chalicelib.domain.schedule import fire_times, is_missed, offset_ranges, phase_offset

MINUTE = 60
A_MONDAY_NOON = 1_717_416_000  # 2024-06-03T12:00:00Z, a multiple of 60, 300 and 3600


def offsets_that_fire(interval: int, window_start: int, window_seconds: int) -> set[int]:
    """The brute-force answer: walk every second of the window."""
    return {t % interval for t in range(window_start, window_start + window_seconds)}


def offsets_in(ranges: list[tuple[int, int]]) -> set[int]:
    return {offset for lo, hi in ranges for offset in range(lo, hi + 1)}


# phase_offset


def test_an_offset_lies_within_the_interval():
    for interval in (1, 2, 30, 60, 300, 3600, 86400):
        for n in range(200):
            assert 0 <= phase_offset(f"svc_{n}", interval) < interval


def test_offsets_are_pinned_so_every_process_and_every_release_agrees():
    # Values from sha256 of the id; hash() would give other values under another PYTHONHASHSEED, and a
    # changed formula would silently move every service to another second.
    assert phase_offset("svc_1", 60) == 40
    assert phase_offset("svc_1", 3600) == 1120
    assert phase_offset("svc_01HZX9J3Q8", 300) == 242
    assert phase_offset("", 86400) == 79252


def test_offsets_spread_evenly_over_the_minute():
    per_second = Counter(phase_offset(f"svc_{n}", MINUTE) for n in range(12_000))
    # 200 expected in each second, with a standard deviation of about 14: no second gets a herd
    assert set(per_second) == set(range(MINUTE))
    assert max(per_second.values()) < 260
    assert min(per_second.values()) > 140


@pytest.mark.parametrize("interval", [0, -60])
def test_an_interval_must_be_at_least_a_second(interval):
    with pytest.raises(ValueError, match="interval_seconds"):
        phase_offset("svc_1", interval)


# offset_ranges


def test_a_minute_window_on_a_minute_boundary_takes_every_one_minute_service():
    assert offset_ranges(60, A_MONDAY_NOON, 60) == [(0, 59)]


def test_a_minute_window_takes_the_matching_minute_of_a_five_minute_interval():
    assert offset_ranges(300, A_MONDAY_NOON + 2 * MINUTE, MINUTE) == [(120, 179)]


def test_a_window_that_crosses_the_end_of_the_interval_wraps_to_offset_zero():
    assert offset_ranges(300, A_MONDAY_NOON + 270, MINUTE) == [(0, 29), (270, 299)]


def test_a_window_longer_than_the_interval_takes_every_offset():
    assert offset_ranges(30, A_MONDAY_NOON + 7, MINUTE) == [(0, 29)]
    assert offset_ranges(1, A_MONDAY_NOON, MINUTE) == [(0, 0)]


def test_an_empty_window_takes_nothing():
    assert offset_ranges(60, A_MONDAY_NOON, 0) == []


def test_a_negative_window_is_refused():
    with pytest.raises(ValueError, match="window_seconds"):
        offset_ranges(60, A_MONDAY_NOON, -1)


def test_offset_ranges_match_the_brute_force_answer():
    rng = random.Random(20240603)
    for interval in [*range(1, 201), 300, 600, 900, 1800, 3600, 7200, 86400]:
        windows = [MINUTE, 1, 59, 61] + ([interval - 1, interval, interval + 1] if interval <= 600 else [])
        for _ in range(20):
            window_seconds = rng.choice(windows)
            window_start = rng.randrange(1_600_000_000, 1_900_000_000)
            if rng.random() < 0.5:  # just before a multiple of the interval, where the window wraps
                window_start += interval - window_start % interval - rng.randrange(window_seconds + 1)
            ranges = offset_ranges(interval, window_start, window_seconds)
            case = (interval, window_start, window_seconds)
            assert offsets_in(ranges) == offsets_that_fire(interval, window_start, window_seconds), case
            assert len(ranges) <= 2, case
            assert all(0 <= lo <= hi < interval for lo, hi in ranges), case
            assert all(hi < next_lo for (_, hi), (next_lo, _) in pairwise(ranges)), case


# fire_times


def test_a_service_fires_once_in_a_window_shorter_than_its_interval():
    assert fire_times(17, MINUTE, A_MONDAY_NOON, MINUTE) == [A_MONDAY_NOON + 17]


def test_a_service_with_a_sub_minute_interval_fires_several_times_a_minute():
    assert fire_times(5, 20, A_MONDAY_NOON, MINUTE) == [
        A_MONDAY_NOON + 5,
        A_MONDAY_NOON + 25,
        A_MONDAY_NOON + 45,
    ]


def test_a_service_whose_second_is_outside_the_window_does_not_fire():
    assert fire_times(200, 300, A_MONDAY_NOON, MINUTE) == []


def test_the_window_includes_its_start_and_excludes_its_end():
    assert fire_times(30, MINUTE, A_MONDAY_NOON + 30, 30) == [A_MONDAY_NOON + 30]
    assert fire_times(30, MINUTE, A_MONDAY_NOON, 30) == []


def test_fire_times_agree_with_offset_ranges():
    rng = random.Random(7)
    for _ in range(2000):
        interval = rng.choice([1, 7, 15, 30, 60, 90, 300, 3600])
        window_start = rng.randrange(1_600_000_000, 1_900_000_000)
        offset = rng.randrange(interval)
        times = fire_times(offset, interval, window_start, MINUTE)
        assert times == [t for t in range(window_start, window_start + MINUTE) if t % interval == offset]
        assert bool(times) == (offset in offsets_in(offset_ranges(interval, window_start, MINUTE)))


def test_an_offset_outside_the_interval_is_refused():
    with pytest.raises(ValueError, match="offset"):
        fire_times(60, MINUTE, A_MONDAY_NOON, MINUTE)


# is_missed


def test_a_check_that_starts_late_but_within_its_interval_still_counts():
    assert not is_missed(scheduled_at=1000.0, started_at=1000.0, interval_seconds=60)
    assert not is_missed(scheduled_at=1000.0, started_at=1059.9, interval_seconds=60)
    assert not is_missed(scheduled_at=1000.0, started_at=1060.0, interval_seconds=60)


def test_a_check_that_starts_more_than_an_interval_late_is_missed():
    assert is_missed(scheduled_at=1000.0, started_at=1060.5, interval_seconds=60)
    assert is_missed(scheduled_at=1000.0, started_at=5000.0, interval_seconds=3600)
