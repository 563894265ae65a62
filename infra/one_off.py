"""What the operators' one-off commands share (`python -m infra.backfill_admins`,
`python -m infra.reindex_tickets`): their arguments, and the deployment's table they work on,
named on standard error before anything is read."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from infra.subprocessors import _use_stage


def one_off_arguments(prog: str, description: str, argv: list[str] | None) -> argparse.Namespace:
    """`--stage` (take RESOURCE_PREFIX from this stage when unset) and `--dry-run`."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stage", help="take RESOURCE_PREFIX from this stage when unset")
    parser.add_argument("--dry-run", action="store_true", help="count, change nothing")
    return parser.parse_args(argv)


def deployment_table(stage: str | None) -> Any:
    """The boto3 Table of the deployment's settings (TABLE_NAME, else RESOURCE_PREFIX, else
    the stage's), in its region, behind AWS_ENDPOINT_URL when that is set."""
    _use_stage(stage)
    import boto3

    from chalicelib.settings import reload_settings

    settings = reload_settings()
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    print(
        f"table {settings.table_name} in {settings.region}"
        + (f" (endpoint {endpoint})" if endpoint else ""),
        file=sys.stderr,
    )
    return boto3.resource("dynamodb", region_name=settings.region).Table(settings.table_name)
