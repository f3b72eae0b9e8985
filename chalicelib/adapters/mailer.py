"""Email through Amazon SES (moto's SES in the local stack and in tests)."""

from __future__ import annotations

import functools
from email.message import EmailMessage as MimeMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from typing import Any

from botocore.config import Config

from chalicelib.domain.messages import EmailMessage
from chalicelib.settings import settings

_RETRIES = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)


@functools.cache
def _ses() -> Any:
    import boto3  # on the first call: boto3 (and s3transfer) is ~80 ms of a cold start

    return boto3.client("ses", region_name=settings.region, config=_RETRIES)


def send_email(message: EmailMessage) -> str:
    """Send one message; returns SES's message id. Raises botocore errors on failure."""
    if message.headers:
        return _send_raw(message)
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


def mime_bytes(message: EmailMessage, *, sender: str) -> bytes:
    """The message as multipart/alternative MIME (text, then HTML) with its extra headers."""
    # Lines up to RFC 5322's 998 characters: folding a long URL would wrap it in RFC 2047 encoded
    # words, which no mail client reads as a List-Unsubscribe link.
    mime = MimeMessage(policy=SMTP.clone(max_line_length=998))
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = formatdate(usegmt=True)
    mime["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    for name, value in message.headers:
        mime[name] = value
    mime.set_content(message.text, cte="quoted-printable")
    mime.add_alternative(message.html, subtype="html", cte="quoted-printable")
    return mime.as_bytes()


def _send_raw(message: EmailMessage) -> str:
    # SendEmail has no way to add headers such as List-Unsubscribe; SendRawEmail takes the whole
    # message. No Destinations: SES reads them from the To header.
    response = _ses().send_raw_email(
        Source=settings.email_from,
        RawMessage={"Data": mime_bytes(message, sender=settings.email_from)},
    )
    return str(response["MessageId"])
