"""What every Vigil table shares: its name prefix and region come from settings."""

from __future__ import annotations

from chalicelib.settings import settings


def table_meta(name: str) -> type:
    """A PynamoDB ``Meta`` for the stage's table ``name``.

    No ``host``: boto3's AWS_ENDPOINT_URL points PynamoDB at moto locally.
    """

    class Meta:
        table_name = settings.table(name)
        region = settings.region
        max_retry_attempts = 3

    return Meta
