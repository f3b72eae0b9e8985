"""Test-wide environment: set before anything imports the app.

PynamoDB and boto3 read endpoint, region and table names at import or at the
first client, so the environment is complete here, before any test module is
collected. One moto server per test process serves every integration test;
tests use unique emails and ids instead of wiping state.
"""

import os
import secrets
import socket


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


MOTO_PORT = _free_port()
MOTO_ENDPOINT = f"http://127.0.0.1:{MOTO_PORT}"

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": MOTO_ENDPOINT,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "VIGIL_STAGE": "test",
        "VIGIL_NAME_PREFIX": "vigil-test-",
        "VIGIL_BCRYPT_ROUNDS": "4",
        "VIGIL_JWT_SECRET": secrets.token_urlsafe(48),
        "VIGIL_EMAIL_FROM": "Vigil <vigil@example.com>",
        "VIGIL_LOG_LEVEL": "WARNING",
        "VIGIL_ALLOW_PRIVATE_TARGETS": "1",
        "VIGIL_MIN_INTERVAL_SECONDS": "1",
        "VIGIL_SKIP_SNS_SIGNATURES": "1",  # as in the local stack; the verifier has its own tests
    }
)
for _name in ("VIGIL_REQUIRE_BUSINESS_EMAIL", "VIGIL_JWT_SECRET_PARAMETER"):
    os.environ.pop(_name, None)
