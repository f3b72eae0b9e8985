"""SNS signatures and subscription confirmations (chalicelib/adapters/sns_deliveries.py).

The test plays Amazon SNS: it makes its own RSA key and certificate and signs envelopes with them.
Only the edge is replaced: the certificate fetch, and ``requests.get`` where a confirmation is sent.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from chalicelib.adapters import sns_deliveries
from chalicelib.adapters.sns_deliveries import InvalidSignature, confirm_subscription, verify_signature
from chalicelib.domain.alerts.sns import SnsMessage, parse_envelope, string_to_sign
from chalicelib.domain.errors import NotPermitted, Unavailable
from tests.certificates import self_signed_certificate

CERT_URL = (
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem"
)
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:vigil-alarms"
SUBSCRIBE_URL = (
    "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"
    f"&TopicArn={TOPIC_ARN}&Token=2336412f37fb687f5d51e6e241d09c805a5a57b30d"
)
# Where a test needs an envelope whose signature is never checked.
UNCHECKED_SIGNATURE = {"SignatureVersion": "1", "Signature": "c2lnbmF0dXJl", "SigningCertURL": CERT_URL}
ALARM = {
    "AlarmName": "api-5xx",
    "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:api-5xx",
    "NewStateValue": "ALARM",
    "NewStateReason": "Threshold Crossed: 1 datapoint [12.0] was greater than the threshold (5.0).",
}


@dataclass
class FakeSns:
    """Signs like SNS and serves its certificate; counts what the adapter fetched."""

    key: rsa.RSAPrivateKey
    certificate_pem: bytes
    fetched: list[str] = field(default_factory=list)

    def sign(self, envelope: dict[str, Any], *, version: str = "1") -> dict[str, Any]:
        envelope = {**envelope, **UNCHECKED_SIGNATURE, "SignatureVersion": version}
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303 - SNS's v1
        signature = self.key.sign(string_to_sign(parse_envelope(envelope)), padding.PKCS1v15(), algorithm)
        return {**envelope, "Signature": base64.b64encode(signature).decode()}

    def serve_certificate(self, url: str) -> bytes:
        self.fetched.append(url)
        return self.certificate_pem


@dataclass
class Reply:
    status_code: int


@dataclass
class Requests:
    """Stands in for ``requests.get`` in the adapter; records every request it is asked to make."""

    status_code: int = 200
    error: Exception | None = None
    urls: list[str] = field(default_factory=list)

    def get(self, url: str, **kwargs: Any) -> Reply:
        self.urls.append(url)
        assert kwargs.get("timeout") == 5
        assert kwargs.get("allow_redirects") is False
        if self.error is not None:
            raise self.error
        return Reply(self.status_code)


@pytest.fixture(scope="module")
def sns_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def sns(sns_key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSns]:
    fake = FakeSns(sns_key, self_signed_certificate(sns_key, "sns.amazonaws.com"))
    monkeypatch.setattr(sns_deliveries, "_fetch_certificate_pem", fake.serve_certificate)
    sns_deliveries._certificate.cache_clear()
    yield fake
    sns_deliveries._certificate.cache_clear()


@pytest.fixture
def http(monkeypatch: pytest.MonkeyPatch) -> Requests:
    fake = Requests()
    monkeypatch.setattr(sns_deliveries.requests, "get", fake.get)
    return fake


def notification(**overrides: Any) -> dict[str, Any]:
    return {
        "Type": "Notification",
        "MessageId": "9f5d6e1c-6a8e-5b52-a3c6-0f2a57c71a4e",
        "TopicArn": TOPIC_ARN,
        "Subject": 'ALARM: "api-5xx" in US East (N. Virginia)',
        "Message": json.dumps(ALARM),
        "Timestamp": "2025-11-23T06:22:41.129Z",
        "UnsubscribeURL": f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TOPIC_ARN}:1",
        **overrides,
    }


def subscription_confirmation(**overrides: Any) -> dict[str, Any]:
    return {
        "Type": "SubscriptionConfirmation",
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d",
        "TopicArn": TOPIC_ARN,
        "Message": f"You have chosen to subscribe to the topic {TOPIC_ARN}.\n"
        "To confirm the subscription, visit the SubscribeURL included in this message.",
        "SubscribeURL": SUBSCRIBE_URL,
        "Timestamp": "2025-11-23T06:20:04.751Z",
        **UNCHECKED_SIGNATURE,
        **overrides,
    }


def delivered(envelope: dict[str, Any]) -> SnsMessage:
    """What the ingest route reads: the text SNS POSTs, parsed."""
    return parse_envelope(json.dumps(envelope), envelope["Type"])


# ---- verify_signature ----------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_notification_signed_by_sns_passes(sns: FakeSns, version: str) -> None:
    verify_signature(delivered(sns.sign(notification(), version=version)))

    assert sns.fetched == [CERT_URL]


def test_a_notification_without_subject_passes(sns: FakeSns) -> None:
    envelope = notification()
    del envelope["Subject"]

    verify_signature(delivered(sns.sign(envelope, version="2")))


def test_a_subscription_confirmation_signed_by_sns_passes(sns: FakeSns) -> None:
    verify_signature(delivered(sns.sign(subscription_confirmation())))


@pytest.mark.parametrize("version", ["1", "2"])
def test_one_changed_byte_in_the_message_fails(sns: FakeSns, version: str) -> None:
    signed = sns.sign(notification(), version=version)
    tampered = {**signed, "Message": signed["Message"].replace('"ALARM"', '"ALARN"')}

    with pytest.raises(InvalidSignature) as error:
        verify_signature(delivered(tampered))

    assert str(error.value) == "signature: does not match the message"
    assert isinstance(error.value, NotPermitted)
    assert error.value.status_code == 403


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Subject", "OK: api-5xx"),
        ("TopicArn", "arn:aws:sns:us-east-1:123456789012:someone-elses-topic"),
        ("Timestamp", "2025-11-23T06:22:41.130Z"),
        ("MessageId", "9f5d6e1c-6a8e-5b52-a3c6-0f2a57c71a4f"),
        ("SignatureVersion", "2"),  # a v1 signature checked as SHA256
    ],
)
def test_any_other_signed_field_changed_fails(sns: FakeSns, name: str, value: str) -> None:
    tampered = {**sns.sign(notification(), version="1"), name: value}

    with pytest.raises(InvalidSignature):
        verify_signature(delivered(tampered))


def test_a_signature_by_another_key_fails(sns: FakeSns) -> None:
    impostor = FakeSns(rsa.generate_private_key(public_exponent=65537, key_size=2048), b"")

    with pytest.raises(InvalidSignature, match="does not match"):
        verify_signature(delivered(impostor.sign(notification(), version="2")))


def test_a_signature_that_is_not_base64_fails(sns: FakeSns) -> None:
    with pytest.raises(InvalidSignature, match=r"^signature: is not base64"):
        verify_signature(delivered({**sns.sign(notification()), "Signature": "not base64!"}))


@pytest.mark.parametrize(
    "cert_url",
    [
        "https://evil.io/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem",
        "https://sns.us-east-1.amazonaws.com.evil.io/SimpleNotificationService-1.pem",
        "https://sns.us-east-1.amazonaws.com@evil.io/SimpleNotificationService-1.pem",
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
        "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",  # on SNS, but not a certificate
    ],
)
def test_a_certificate_off_amazon_sns_is_refused_without_fetching(
    sns: FakeSns, http: Requests, cert_url: str
) -> None:
    # Signed with the right key, so only the URL check stands between this and a pass.
    forged = {**sns.sign(notification()), "SigningCertURL": cert_url}

    with pytest.raises(InvalidSignature, match=r"^signature: the signing certificate is not on"):
        verify_signature(delivered(forged))

    assert sns.fetched == []
    assert http.urls == []


def test_the_certificate_is_fetched_once_per_url(sns: FakeSns) -> None:
    for subject in ("first", "second", "third"):
        verify_signature(delivered(sns.sign(notification(Subject=subject))))

    assert sns.fetched == [CERT_URL]


def test_a_certificate_that_is_not_pem_fails(sns: FakeSns) -> None:
    sns.certificate_pem = b"<html>Not Found</html>"

    with pytest.raises(InvalidSignature, match="not a PEM certificate"):
        verify_signature(delivered(sns.sign(notification())))


def test_a_missing_certificate_fails(http: Requests) -> None:
    sns_deliveries._certificate.cache_clear()
    http.status_code = 404
    message = delivered(subscription_confirmation())

    with pytest.raises(InvalidSignature, match=r"cannot be fetched \(HTTP 404\)"):
        verify_signature(message)

    assert http.urls == [CERT_URL]


@pytest.mark.parametrize(
    ("status_code", "error"), [(503, None), (200, requests.ConnectTimeout("connect timed out"))]
)
def test_sns_out_of_reach_for_the_certificate_is_unavailable(
    http: Requests, status_code: int, error: Exception | None
) -> None:
    sns_deliveries._certificate.cache_clear()
    http.status_code, http.error = status_code, error
    message = delivered(subscription_confirmation())

    with pytest.raises(Unavailable):  # 503: SNS delivers it again later
        verify_signature(message)


# ---- confirm_subscription ------------------------------------------------------------------------


def test_a_subscription_confirmation_is_confirmed_at_its_subscribe_url(http: Requests) -> None:
    assert confirm_subscription(delivered(subscription_confirmation())) is True

    assert http.urls == [SUBSCRIBE_URL]


@pytest.mark.parametrize(
    "subscribe_url",
    [
        "https://evil.io/?Action=ConfirmSubscription&Token=1",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "https://sns.us-east-1.amazonaws.com.evil.io/?Action=ConfirmSubscription&Token=1",
        "https://sns.us-east-1.amazonaws.com@evil.io/?Action=ConfirmSubscription&Token=1",
        "https://sns.us-east-1.amazonaws.com:8443/?Action=ConfirmSubscription&Token=1",
        "http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=1",
        "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x",
    ],
)
def test_a_subscribe_url_off_amazon_sns_is_not_visited(http: Requests, subscribe_url: str) -> None:
    message = delivered(subscription_confirmation(SubscribeURL=subscribe_url))

    assert confirm_subscription(message) is False
    assert http.urls == []


def test_an_unsubscribe_confirmation_does_not_subscribe_again(http: Requests) -> None:
    message = delivered(subscription_confirmation(Type="UnsubscribeConfirmation"))

    assert confirm_subscription(message) is False
    assert http.urls == []


def test_a_notification_confirms_nothing(http: Requests) -> None:
    assert confirm_subscription(delivered({**notification(), **UNCHECKED_SIGNATURE})) is False
    assert http.urls == []


def test_a_refused_confirmation_is_false(http: Requests) -> None:
    http.status_code = 403  # e.g. the token expired

    assert confirm_subscription(delivered(subscription_confirmation())) is False


@pytest.mark.parametrize(
    ("status_code", "error"), [(500, None), (200, requests.ConnectionError("connection reset"))]
)
def test_sns_out_of_reach_for_the_confirmation_is_unavailable(
    http: Requests, status_code: int, error: Exception | None
) -> None:
    http.status_code, http.error = status_code, error

    with pytest.raises(Unavailable):
        confirm_subscription(delivered(subscription_confirmation()))
