"""A heartbeat's ping as it is packed into its hour bucket, and the heartbeat fields of a service config."""

import pytest

from chalicelib.domain.checks import CheckRecord, pack, unpack
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.service_config import ServiceConfig, check_service_config

HOUR = 1_796_000_400  # an hour boundary


def test_a_ping_round_trips_with_everything_it_carries():
    ping = CheckRecord(
        HOUR + 42,
        "up",
        None,
        None,
        None,
        kind="success",
        duration_ms=1234,
        rid="r-1",
        body="ok",
        exit_status=0,
    )
    packed = pack(ping)
    assert isinstance(packed, dict) and "e" not in packed  # nothing stored for what is absent
    assert unpack(packed, hour=HOUR) == ping


def test_a_start_is_info_and_a_probe_still_packs_as_before():
    start = CheckRecord(HOUR + 1, "info", None, None, None, kind="start")
    assert unpack(pack(start), hour=HOUR) == start
    probe = CheckRecord(HOUR + 5, "up", 120, 200, None)
    assert isinstance(pack(probe), int) and unpack(pack(probe), hour=HOUR) == probe


def test_a_heartbeat_config_gets_threshold_one_and_a_checked_schedule():
    config = ServiceConfig(name="Job", url="", type="heartbeat", cron="0  3 * * *", timezone="Europe/Berlin")
    checked = check_service_config(config, min_interval=30, allow_private=False)
    assert (checked.failure_threshold, checked.recovery_threshold) == (1, 1)
    assert checked.cron == "0 3 * * *"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"period_seconds": 59}, "period_seconds"),
        ({"grace_seconds": 10}, "grace_seconds"),
        ({"type": "ftp"}, "type"),
    ],
)
def test_heartbeat_limits_name_the_field(changes, field):
    config = ServiceConfig(name="Job", url="", type="heartbeat", period_seconds=3600).with_changes(changes)
    with pytest.raises(InvalidInput) as error:
        check_service_config(config, min_interval=30, allow_private=False)
    assert error.value.field == field


def test_a_test_deployment_may_allow_a_shorter_period():
    config = ServiceConfig(name="Job", url="", type="heartbeat", period_seconds=2, grace_seconds=2)
    checked = check_service_config(config, min_interval=1, allow_private=False, min_heartbeat_seconds=1)
    assert checked.period_seconds == 2
