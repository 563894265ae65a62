"""`python -m infra.publish_web --stage prod`: put the built web client online.

Reads the stage's stack outputs (`WebAppBucketName`, `WebAppDistributionId`, `AppBaseUrl`,
`PublicBaseUrl`), sets `index.html`'s `<base href>` and API origin from them, then uploads
`build/package/webapp/` (`make package`) to the bucket: the versioned assets first (those
already there are skipped: their names change with their content), then the files at stable
URLs, `index.html` last, so a browser never gets a page naming assets that are not there yet.
Every file gets its Content-Type and Cache-Control (a year, immutable, under `assets/`;
`no-cache` elsewhere). Finally it invalidates `/index.html` and the messages on CloudFront.
Older asset versions stay in the bucket, for pages loaded before the release.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chalicelib.privacy.residency import CONTENT_REGION
from infra.web_build import (
    INDEX,
    NO_CACHE,
    PROJECT_DIR,
    STABLE_DIRECTORIES,
    BuildError,
    cache_control,
    content_type,
    render_index,
    unresolved_references,
)

DEFAULT_REGION = CONTENT_REGION  # the stack's region
INVALIDATED = ("/index.html", *(f"/{directory}/*" for directory in STABLE_DIRECTORIES))


class PublishError(Exception):
    """The web client was not (completely) published; the message says why."""


@dataclass(frozen=True)
class Target:
    """Where a stage's web client goes, and the URLs its page is set for."""

    bucket: str
    distribution_id: str | None
    app_base_url: str
    api_base_url: str


@dataclass
class Published:
    uploaded: list[str]  # keys, in upload order (index.html last)
    skipped: list[str]  # versioned assets already in the bucket
    invalidation_id: str | None


def stack_target(cloudformation: Any, stack_name: str) -> Target:
    """The stack's outputs as a Target."""
    stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    missing = [
        name
        for name in ("WebAppBucketName", "WebAppDistributionId", "AppBaseUrl", "PublicBaseUrl")
        if not outputs.get(name)
    ]
    if missing:
        raise PublishError(f"stack {stack_name} has no output {', '.join(missing)}: deploy it")
    return Target(
        bucket=outputs["WebAppBucketName"],
        distribution_id=outputs["WebAppDistributionId"],
        app_base_url=outputs["AppBaseUrl"],
        api_base_url=outputs["PublicBaseUrl"],
    )


def files_in_upload_order(build: Path) -> list[str]:
    """Versioned assets, then the other files, then index.html."""
    keys = sorted(p.relative_to(build).as_posix() for p in build.rglob("*") if p.is_file())
    if INDEX not in keys:
        raise PublishError(f"{build / INDEX} is missing: run `make package` first")
    keys.remove(INDEX)
    return [*sorted(keys, key=lambda key: (cache_control(key) == NO_CACHE, key)), INDEX]


def _existing_keys(s3: Any, bucket: str, prefix: str) -> set[str]:
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.update(item["Key"] for item in page.get("Contents", []))
    return keys


def publish(s3: Any, cloudfront: Any | None, build: Path, target: Target) -> Published:
    """Uploads `build` to the target's bucket (index.html last, set for the target's URLs) and
    invalidates the revalidated files on its distribution (when it has one)."""
    if urlsplit(target.app_base_url).path.strip("/"):
        raise PublishError(
            f"AppBaseUrl {target.app_base_url} has a path: the web client is served at the "
            "root of its own host (https://app.example.com)"
        )
    problems = unresolved_references(build)
    if problems:
        raise PublishError("the built web client is broken:\n  " + "\n  ".join(problems))
    try:
        index = render_index(
            (build / INDEX).read_text(encoding="utf-8"),
            app_base_url=target.app_base_url,
            api_base_url=target.api_base_url,
        ).encode()
    except BuildError as error:
        raise PublishError(str(error)) from error
    keys = files_in_upload_order(build)
    versions = {"/".join(key.split("/")[:2]) + "/" for key in keys if key.startswith("assets/")}
    already = set().union(*(_existing_keys(s3, target.bucket, prefix) for prefix in versions))
    uploaded, skipped = [], []
    for key in keys:
        if key in already and cache_control(key) != NO_CACHE:
            skipped.append(key)
            continue
        body = index if key == INDEX else (build / key).read_bytes()
        s3.put_object(
            Bucket=target.bucket,
            Key=key,
            Body=body,
            ContentType=content_type(key),
            CacheControl=cache_control(key),
        )
        uploaded.append(key)
    invalidation_id = None
    if cloudfront is not None and target.distribution_id:
        answer = cloudfront.create_invalidation(
            DistributionId=target.distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": len(INVALIDATED), "Items": list(INVALIDATED)},
                "CallerReference": f"publish-web-{time.time_ns()}",
            },
        )
        invalidation_id = answer["Invalidation"]["Id"]
    return Published(uploaded, skipped, invalidation_id)


def main(argv: list[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(prog="python -m infra.publish_web", description=__doc__)
    parser.add_argument("--stage", default="prod")
    parser.add_argument("--stack-name", help="default: helptal-<stage>")
    parser.add_argument("--region", default=DEFAULT_REGION)
    parser.add_argument("--build", type=Path, default=PROJECT_DIR / "build" / "package" / "webapp")
    args = parser.parse_args(argv)

    stack_name = args.stack_name or f"helptal-{args.stage}"
    session = boto3.session.Session(region_name=args.region)
    try:
        target = stack_target(session.client("cloudformation"), stack_name)
        published = publish(
            session.client("s3"), session.client("cloudfront"), args.build.resolve(), target
        )
    except PublishError as error:
        print(f"publish_web: FAILED\n{error}", file=sys.stderr)
        return 1
    print(
        f"{target.app_base_url}: {len(published.uploaded)} files uploaded to "
        f"s3://{target.bucket} ({len(published.skipped)} assets already there), "
        f"index.html last; invalidation {published.invalidation_id} of "
        f"{', '.join(INVALIDATED)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
