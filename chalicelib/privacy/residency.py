"""Where workspace content is stored: one AWS region, and the checks that keep it there.

`CONTENT_REGION` is the only place that names it. The table, the content bucket, the queues
and the KMS keys of every deployment live there; a process whose AWS environment names
another region refuses to serve (`region_refusals`, asked by `Settings.missing`), and
`make package` refuses a template that would put content elsewhere (`infra.residency`).
Pure: no SDK, no environment read here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

CONTENT_REGION = "ap-southeast-1"

# The variables the AWS SDKs take a region from (Lambda sets both to the function's region).
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
# `AWS_ENDPOINT_URL` and the per-service `AWS_ENDPOINT_URL_<SERVICE>` send the SDKs elsewhere.
ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL"

# An AWS region code: ap-southeast-1, us-gov-west-1, cn-north-1, eu-central-2, ...
REGION_PATTERN = r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}"
_AWS_HOST = re.compile(
    rf"(?:^|[.-])(?P<region>{REGION_PATTERN})\.amazonaws\.com(?:\.cn)?$", re.IGNORECASE
)
_AWS_DOMAIN = re.compile(r"(?:^|\.)amazonaws\.com(?:\.cn)?$", re.IGNORECASE)


def is_aws_variable(name: str) -> bool:
    """A variable that tells the AWS SDKs which region or endpoint to use."""
    return name in REGION_VARIABLES or name.startswith(ENDPOINT_VARIABLE)


def region_of_endpoint(url: str) -> str | None:
    """The AWS region an endpoint URL names (`https://sqs.eu-west-1.amazonaws.com` ->
    `eu-west-1`); None for a host that is not AWS's or names no region."""
    host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    match = _AWS_HOST.search(host)
    return match.group("region").lower() if match else None


def is_local_emulator(url: str) -> bool:
    """An endpoint that is not AWS (moto, LocalStack): what it stores stays on that machine."""
    host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    return bool(host) and not _AWS_DOMAIN.search(host)


def refusal(what: str) -> str:
    """How a refusal reads, in logs and build errors alike: what names another region."""
    return f"{what}: workspace content stays in {CONTENT_REGION}"


def region_refusals(
    environment: Mapping[str, str], region: str, *, local_emulator_allowed: bool
) -> list[str]:
    """Why a process with these AWS variables and this effective `region` must not serve
    workspace content ([] when it may).

    Every region variable and the effective region must be `CONTENT_REGION`, and no endpoint
    variable may name an AWS host of another region. With `local_emulator_allowed` (the dev
    stage), a process whose `AWS_ENDPOINT_URL` is a local emulator may name any region: the
    emulator, not AWS, holds what it stores."""
    emulator = environment.get(ENDPOINT_VARIABLE, "")
    regions_checked = not (local_emulator_allowed and is_local_emulator(emulator))
    refused: list[str] = []
    named: set[str] = set()
    for name in sorted(environment):
        value = environment[name].strip()
        if not value:
            continue
        if name in REGION_VARIABLES and regions_checked:
            named.add(value)
            if value != CONTENT_REGION:
                refused.append(refusal(f"{name}={value}"))
        elif name.startswith(ENDPOINT_VARIABLE):
            endpoint_region = region_of_endpoint(value)
            if endpoint_region is not None and endpoint_region != CONTENT_REGION:
                refused.append(refusal(f"{name}={value} is in {endpoint_region}"))
    if regions_checked and region != CONTENT_REGION and region not in named:
        refused.append(refusal(f"the AWS region is {region}"))
    return refused
