"""Text messages through Amazon SNS (moto's SNS in the local stack and in tests)."""

from __future__ import annotations

import functools
from typing import Any

from botocore.config import Config

from chalicelib.settings import settings

_RETRIES = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)


@functools.cache
def _sns() -> Any:
    import boto3  # on the first call: boto3 (and s3transfer) is ~80 ms of a cold start

    return boto3.client("sns", region_name=settings.region, config=_RETRIES)


def send_sms(phone_number: str, message: str) -> str:
    """Publish one transactional SMS (E.164 number, checked by the caller); returns SNS's message id.

    Raises botocore errors on failure. Transactional: delivered even to numbers on do-not-disturb
    lists and routed for reliability rather than price, which is what an alert needs.
    """
    response = _sns().publish(
        PhoneNumber=phone_number,
        Message=message,
        MessageAttributes={
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        },
    )
    return str(response["MessageId"])
