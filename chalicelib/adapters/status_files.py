"""The published files of status pages on S3: ``status/{slug}/{name}`` in the web app's bucket, which
CloudFront serves at ``/status/{slug}/...`` (and the local stack's web origin from the embedded S3)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

from botocore.config import Config

from chalicelib.settings import settings

PREFIX = "status/"
FILE_NAMES = ("index.html", "status.json", "summary.json", "feed.atom", "badge.svg")
CACHE_CONTROL = "public, max-age=30"  # browsers and CloudFront hold a page at most this long
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)


@functools.cache
def _s3() -> Any:
    import boto3  # on the first call: boto3 (and s3transfer) is ~80 ms of a cold start

    return boto3.client("s3", region_name=settings.region, config=_CONFIG)


def key(slug: str, name: str) -> str:
    return f"{PREFIX}{slug}/{name}"


def upload(slug: str, files: Mapping[str, tuple[bytes, str]]) -> None:
    """Each file by name: (body, content type). An error raises (the queue retries the render)."""
    for name, (body, content_type) in files.items():
        _s3().put_object(
            Bucket=settings.status_bucket,
            Key=key(slug, name),
            Body=body,
            ContentType=content_type,
            CacheControl=CACHE_CONTROL,
        )


def remove(slug: str, names: Iterable[str] = FILE_NAMES) -> None:
    _s3().delete_objects(
        Bucket=settings.status_bucket,
        Delete={"Objects": [{"Key": key(slug, name)} for name in names], "Quiet": True},
    )
