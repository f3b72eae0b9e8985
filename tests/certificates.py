"""Self-signed certificates for tests that need real TLS or real signatures."""

import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID


def self_signed_certificate(
    key: CertificateIssuerPrivateKeyTypes,
    common_name: str,
    *,
    ip_address: str | None = None,
    valid_for: datetime.timedelta = datetime.timedelta(days=30),
) -> bytes:
    """A PEM certificate for ``key``, valid from yesterday until ``valid_for`` from now (30 days);
    with ``ip_address`` it is also a CA for that address, so a client can trust it as its only root."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + valid_for)
    )
    if ip_address is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip_address))]), critical=False
        ).add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
