"""Email through Amazon SES (moto's SES in the local stack and in tests)."""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

from chalicelib.domain.messages import EmailMessage
from chalicelib.settings import settings

_RETRIES = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)


@functools.cache
def _ses() -> Any:
    return boto3.client("ses", region_name=settings.region, config=_RETRIES)


def send_email(message: EmailMessage) -> str:
    """Send one message; returns SES's message id. Raises botocore errors on failure."""
    response = _ses().send_email(
        Source=settings.email_from,
        Destination={"ToAddresses": [message.to]},
        Message={
            "Subject": {"Data": message.subject, "Charset": "UTF-8"},
            "Body": {
                "Text": {"Data": message.text, "Charset": "UTF-8"},
                "Html": {"Data": message.html, "Charset": "UTF-8"},
            },
        },
    )
    return str(response["MessageId"])
