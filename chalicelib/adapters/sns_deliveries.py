"""Amazon SNS HTTP(S) deliveries: check a message's signature, confirm a subscription.

Only URLs on Amazon SNS itself are ever fetched (``is_aws_sns_url``): the envelope is written by
whoever POSTs to the ingest URL, so following its URLs anywhere else would let them make Vigil sign
its own forgeries or reach inside our network.
"""

from __future__ import annotations

import base64
import binascii
import functools
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import requests
from aws_lambda_powertools import Logger

from chalicelib.domain.alerts.sns import SnsMessage, is_aws_sns_url, string_to_sign
from chalicelib.domain.errors import NotPermitted, Unavailable
from chalicelib.settings import settings

if TYPE_CHECKING:
    from cryptography import x509

logger = Logger(service="vigil", child=True, level=settings.log_level)

TIMEOUT_SECONDS = 5
CERTIFICATES_CACHED = 32  # SNS signs with one certificate per region at a time; rotations are rare
_HASHES = {"1": "SHA1", "2": "SHA256"}  # SignatureVersion -> the name of its hash in cryptography


class InvalidSignature(NotPermitted):
    """The delivery is not provably from Amazon SNS: answered 403 ``signature: ...``."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="signature")


def verify_signature(message: SnsMessage) -> None:
    """Raise ``InvalidSignature`` unless SNS's certificate verifies the message's signature.

    Raises ``Unavailable`` when SNS cannot be reached for the certificate (SNS retries on a 5xx).
    """
    # cryptography costs ~40 ms to import: only SNS deliveries pay it, not every cold start of the API.
    from cryptography.exceptions import InvalidSignature as BadSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    if not _is_sns_certificate_url(message.signing_cert_url):
        raise InvalidSignature("the signing certificate is not on an Amazon SNS URL")
    hash_name = _HASHES.get(message.signature_version)
    if hash_name is None:
        raise InvalidSignature(f"unsupported SignatureVersion {message.signature_version!r}")
    try:
        signature = base64.b64decode(message.signature, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSignature("is not base64") from exc

    public_key = _certificate(message.signing_cert_url).public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise InvalidSignature("the signing certificate does not hold an RSA key")
    try:
        algorithm = getattr(hashes, hash_name)()
        public_key.verify(signature, string_to_sign(message), padding.PKCS1v15(), algorithm)
    except BadSignature as exc:
        raise InvalidSignature("does not match the message") from exc


def confirm_subscription(message: SnsMessage) -> bool:
    """Visit a SubscriptionConfirmation's SubscribeURL; True once SNS has confirmed the subscription.

    False, with no request made, for any other message or for a URL that is not Amazon SNS's own
    ConfirmSubscription. Raises ``Unavailable`` when SNS cannot be reached (SNS sends it again).
    """
    # Visiting an UnsubscribeConfirmation's SubscribeURL would subscribe us again: only confirm.
    url = message.subscribe_url
    if message.type != "SubscriptionConfirmation" or url is None or not is_aws_sns_url(url):
        return False
    if parse_qs(urlsplit(url).query).get("Action") != ["ConfirmSubscription"]:
        return False
    try:
        response = requests.get(url, timeout=TIMEOUT_SECONDS, allow_redirects=False)
    except requests.RequestException as exc:
        logger.warning("sns confirmation failed", topic_arn=message.topic_arn, error=str(exc))
        raise Unavailable("Amazon SNS cannot be reached to confirm the subscription now") from exc
    if response.status_code >= 500:
        raise Unavailable("Amazon SNS cannot confirm the subscription now")
    if response.status_code != 200:
        logger.warning("sns confirmation refused", topic_arn=message.topic_arn, status=response.status_code)
        return False
    logger.info("sns subscription confirmed", topic_arn=message.topic_arn)
    return True


def _is_sns_certificate_url(url: str) -> bool:
    # Like the AWS SDKs' validators: a .pem on SNS itself, not any page SNS serves.
    return is_aws_sns_url(url) and urlsplit(url).path.endswith(".pem")


@functools.lru_cache(maxsize=CERTIFICATES_CACHED)
def _certificate(url: str) -> x509.Certificate:
    """The certificate at an SNS URL, fetched once per cold start (a failure is not cached)."""
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificate(_fetch_certificate_pem(url))
    except ValueError as exc:
        raise InvalidSignature("the signing certificate is not a PEM certificate") from exc


def _fetch_certificate_pem(url: str) -> bytes:
    try:
        response = requests.get(url, timeout=TIMEOUT_SECONDS, allow_redirects=False)
    except requests.RequestException as exc:
        logger.warning("sns certificate fetch failed", url=url, error=str(exc))
        raise Unavailable("Amazon SNS cannot be reached for its signing certificate now") from exc
    if response.status_code >= 500:
        raise Unavailable("Amazon SNS cannot serve its signing certificate now")
    if response.status_code != 200:
        raise InvalidSignature(f"the signing certificate cannot be fetched (HTTP {response.status_code})")
    return response.content
