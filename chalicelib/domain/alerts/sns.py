"""What Amazon SNS delivers to an HTTP(S) subscription: the envelope, its string to sign, its URLs.

CloudWatch alarms reach Vigil as SNS deliveries. The envelope's fields, the string SNS signs and the
hosts it serves certificates and confirmations from follow
https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html and
https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html. Pure: fetching the
certificate and checking the signature are the adapter's (``chalicelib.adapters.sns_deliveries``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from chalicelib.domain.errors import InvalidInput

MessageType = Literal["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"]
MESSAGE_TYPES: tuple[MessageType, ...] = (
    "Notification",
    "SubscriptionConfirmation",
    "UnsubscribeConfirmation",
)
CONFIRMATION_TYPES = frozenset({"SubscriptionConfirmation", "UnsubscribeConfirmation"})
SIGNATURE_VERSIONS = frozenset({"1", "2"})  # 1: SHA1withRSA, 2: SHA256withRSA

# Name/value pairs in the string to sign, in byte order; Subject only when the notification has one.
_SIGNED_NOTIFICATION = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_SIGNED_CONFIRMATION = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")

# The AWS SDKs' validators accept `sns.<something>.amazonaws.com(.cn)`; the region part is held to the
# shape of a region name (us-east-1, us-gov-west-1, cn-northwest-1) so nothing else fits in it.
_SNS_HOST = re.compile(r"sns\.[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}\.amazonaws\.com(?:\.cn)?")
_TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?")
# Whitespace, control characters and backslashes: URL parsers disagree on them, so a URL holding any
# may name one host to this check and another to the HTTP client.
_AMBIGUOUS_URL_CHARS = re.compile(r"[\x00-\x20\x7f\\]")


@dataclass(frozen=True)
class SnsMessage:
    """One SNS delivery, as read from the JSON body SNS POSTs to the subscription's URL."""

    type: MessageType
    message_id: str
    topic_arn: str
    subject: str | None
    message: str
    timestamp: str
    token: str | None
    subscribe_url: str | None
    signature_version: str
    signature: str
    signing_cert_url: str
    raw: Mapping[str, Any] = field(repr=False, hash=False)

    @property
    def is_confirmation(self) -> bool:
        return self.type in CONFIRMATION_TYPES


def parse_envelope(body: Any, message_type_header: str | None = None) -> SnsMessage:
    """Read an SNS delivery: the decoded JSON object, or its text (SNS sends it as text/plain).

    Checks the fields SNS always sends for the message's type and, when given, that the
    ``x-amz-sns-message-type`` header names the same type as the body. Raises ``InvalidInput`` naming
    the field otherwise. Authenticity is not checked here: that needs the signing certificate.
    """
    envelope = _decoded(body)
    message_type = _text(envelope, "Type")
    if message_type not in MESSAGE_TYPES:
        raise InvalidInput(f"must be one of {', '.join(MESSAGE_TYPES)}", field="Type")
    if message_type_header is not None and message_type_header.strip() != message_type:
        raise InvalidInput("does not match the x-amz-sns-message-type header", field="Type")

    topic_arn = _text(envelope, "TopicArn")
    if not _TOPIC_ARN.fullmatch(topic_arn):
        raise InvalidInput("must be an SNS topic ARN", field="TopicArn")
    signature_version = _text(envelope, "SignatureVersion")
    if signature_version not in SIGNATURE_VERSIONS:
        raise InvalidInput("must be 1 or 2", field="SignatureVersion")

    confirmation = message_type in CONFIRMATION_TYPES
    return SnsMessage(
        type=message_type,
        message_id=_text(envelope, "MessageId"),
        topic_arn=topic_arn,
        subject=_optional_text(envelope, "Subject") if not confirmation else None,
        message=_text(envelope, "Message", allow_empty=True),
        timestamp=_text(envelope, "Timestamp"),
        token=_text(envelope, "Token") if confirmation else None,
        subscribe_url=_text(envelope, "SubscribeURL") if confirmation else None,
        signature_version=signature_version,
        signature=_text(envelope, "Signature"),
        signing_cert_url=_text(envelope, "SigningCertURL"),
        raw=envelope,
    )


def string_to_sign(message: SnsMessage) -> bytes:
    """The bytes SNS signed: each signed field as ``Name\\nvalue\\n``, in the order AWS documents."""
    values = {
        "Message": message.message,
        "MessageId": message.message_id,
        "Subject": message.subject,
        "SubscribeURL": message.subscribe_url,
        "Timestamp": message.timestamp,
        "Token": message.token,
        "TopicArn": message.topic_arn,
        "Type": message.type,
    }
    names = _SIGNED_CONFIRMATION if message.is_confirmation else _SIGNED_NOTIFICATION
    lines = []
    for name in names:
        value = values[name]
        if value is None:  # only Subject may be absent; parse_envelope requires the others
            continue
        lines.append(f"{name}\n{value}\n")
    return "".join(lines).encode("utf-8")


def is_aws_sns_url(url: str) -> bool:
    """True for an https URL on Amazon SNS itself (``sns.<region>.amazonaws.com``, or ``.com.cn``).

    Where a signing certificate or a subscription confirmation may be fetched from: anything else
    (another host, a lookalike such as ``sns.us-east-1.amazonaws.com.evil.io``, user info, another
    port) is refused before any request is made.
    """
    if not isinstance(url, str) or _AMBIGUOUS_URL_CHARS.search(url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme != "https" or "@" in parts.netloc or port not in (None, 443):
        return False
    host = parts.netloc.rsplit(":", 1)[0] if port is not None else parts.netloc
    return _SNS_HOST.fullmatch(host.lower()) is not None


def _decoded(body: Any) -> dict[str, Any]:
    if isinstance(body, bytes | bytearray):
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput("must be UTF-8 JSON", field="body") from exc
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError as exc:
            raise InvalidInput("must be a JSON object", field="body") from exc
    if not isinstance(body, dict):
        raise InvalidInput("must be a JSON object", field="body")
    return body


def _text(envelope: Mapping[str, Any], name: str, *, allow_empty: bool = False) -> str:
    value = envelope.get(name)
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise InvalidInput("is required and must be a string", field=name)
    return value


def _optional_text(envelope: Mapping[str, Any], name: str) -> str | None:
    value = envelope.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("must be a string", field=name)
    return value
