"""A service's default timeout (API.md "Services": 10 s, or 80% of a shorter interval)."""

import pytest

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.service_config import ServiceConfig, check_service_config, default_timeout


@pytest.mark.parametrize(("interval", "timeout"), [(2, 1), (3, 2), (10, 8), (12, 9), (13, 10), (86_400, 10)])
def test_default_timeout(interval, timeout):
    assert default_timeout(interval) == timeout


def test_an_omitted_timeout_takes_the_default_and_a_given_one_is_kept():
    config = ServiceConfig(name="Fast", url="http://127.0.0.1/", interval_seconds=2)
    assert check_service_config(config, min_interval=1, allow_private=True).timeout_seconds == 1
    given = ServiceConfig(name="Slow", url="http://127.0.0.1/", interval_seconds=60, timeout_seconds=30)
    assert check_service_config(given, min_interval=1, allow_private=True).timeout_seconds == 30


def test_a_one_second_interval_leaves_no_room_for_a_timeout():
    config = ServiceConfig(name="Too fast", url="http://127.0.0.1/", interval_seconds=1)
    with pytest.raises(InvalidInput, match="timeout_seconds: must be below interval_seconds"):
        check_service_config(config, min_interval=1, allow_private=True)


def test_http_options_are_checked_and_normalized():
    config = check_service_config(
        ServiceConfig(
            name="x",
            url="https://example.com/health",
            tls_expiry_days=[1, 30, 7],
            assertions=[{"source": "header", "name": "X-Version", "op": "exists"}],
        ),
        min_interval=1,
        allow_private=False,
    )
    assert config.verify_tls is True
    assert config.tls_expiry_days == [30, 7, 1]
    assert config.assertions == [{"source": "header", "name": "X-Version", "op": "exists", "value": True}]
    with pytest.raises(InvalidInput) as bad:
        check_service_config(
            ServiceConfig(name="x", url="https://example.com/", assertions=[{"source": "json", "op": "=="}]),
            min_interval=1,
            allow_private=False,
        )
    assert bad.value.field == "assertions.0.path"
