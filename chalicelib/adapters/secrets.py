"""The JWT signing secret: from the environment locally, from SSM Parameter Store when deployed."""

from __future__ import annotations

import functools

from chalicelib.settings import settings


@functools.cache
def jwt_secret() -> str:
    if settings.jwt_secret:
        return settings.jwt_secret
    if settings.jwt_secret_parameter:
        import boto3  # on the first call: boto3 (and s3transfer) is ~80 ms of a cold start

        ssm = boto3.client("ssm", region_name=settings.region)
        response = ssm.get_parameter(Name=settings.jwt_secret_parameter, WithDecryption=True)
        return str(response["Parameter"]["Value"])
    raise RuntimeError("set VIGIL_JWT_SECRET or VIGIL_JWT_SECRET_PARAMETER")
