"""`make deploy-web`: upload web/dist to the stack's WebBucket and refresh CloudFront.

Hashed assets (web/dist/assets/) are cached for a year; HTML is revalidated on each load, so a deploy
shows at once without invalidating the assets. Reads the bucket and distribution from the CloudFormation
stack named by VIGIL_STACK_NAME (default vigil-prod).
"""

from __future__ import annotations

import mimetypes
import os
import time
from pathlib import Path

import boto3

DIST = Path(__file__).resolve().parents[1] / "web" / "dist"
IMMUTABLE = "public, max-age=31536000, immutable"


def physical_ids(stack_name: str) -> dict[str, str]:
    resources = boto3.client("cloudformation").describe_stack_resources(StackName=stack_name)
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources["StackResources"]}


def upload(bucket: str, dist: Path = DIST) -> int:
    s3 = boto3.client("s3")
    files = sorted(p for p in dist.rglob("*") if p.is_file() and ".vite" not in p.parts)
    for path in files:
        key = path.relative_to(dist).as_posix()
        s3.upload_file(
            str(path),
            bucket,
            key,
            ExtraArgs={
                "ContentType": mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                "CacheControl": IMMUTABLE if key.startswith("assets/") else "no-cache",
            },
        )
    return len(files)


def main() -> None:
    if not (DIST / "index.html").exists():
        raise SystemExit("web/dist is missing: run `make web`")
    ids = physical_ids(os.environ.get("VIGIL_STACK_NAME", "vigil-prod"))
    count = upload(ids["WebBucket"])
    boto3.client("cloudfront").create_invalidation(
        DistributionId=ids["WebDistribution"],
        InvalidationBatch={
            "Paths": {"Quantity": 2, "Items": ["/index.html", "/docs/*"]},
            "CallerReference": str(time.time()),
        },
    )
    print(f"uploaded {count} files to s3://{ids['WebBucket']}; CloudFront refreshes index.html and /docs")


if __name__ == "__main__":
    main()
