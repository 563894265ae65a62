"""`python -m infra.parameters --stage prod`: create a stage's secrets in SSM Parameter Store.

Run with the deployment's AWS credentials, before the first deploy and to rotate a secret:

    python -m infra.parameters --stage prod                      # asks for each missing one
    python -m infra.parameters --stage prod --from-file prod.env # NAME=value lines
    python -m infra.parameters --stage prod --check              # lists what is set (no values)

Names in a file are the variables of README "Configuration" (`MAILGUN_API_KEY=...`).
Secrets that are only random strings (`REPLY_ADDRESS_SECRET`, `DOMAIN_VERIFICATION_SECRET`)
are generated when not given. Existing parameters are kept unless `--overwrite`. Every value
is stored as a SecureString under `/helptal/<stage>/` (the stage's `SECRETS_PATH`).
"""

from __future__ import annotations

import argparse
import getpass
import secrets as random_secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chalicelib.secret_store import SECRETS, Secret
from infra.template import stage_environment

REGION = "ap-southeast-1"
GENERATED = {"reply_address_secret", "domain_verification_secret"}


def stage_secrets_path(stage: str) -> str:
    path = stage_environment(stage).get("SECRETS_PATH", "")
    if not path:
        raise SystemExit(f"stage {stage!r} has no SECRETS_PATH in .chalice/config.json")
    return path.rstrip("/")


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, separator, value = line.partition("=")
        if not separator:
            raise SystemExit(f"{path}:{number}: expected NAME=value")
        values[name.strip()] = value.strip().strip('"').strip("'")
    known = {secret.env for secret in SECRETS}
    unknown = sorted(set(values) - known)
    if unknown:
        raise SystemExit(f"{path}: not secrets of this app: {', '.join(unknown)}")
    return values


def existing(ssm: Any, path: str) -> set[str]:
    """Names (not values) of the parameters under `path`."""
    names: set[str] = set()
    for page in ssm.get_paginator("get_parameters_by_path").paginate(
        Path=path, Recursive=False, WithDecryption=False
    ):
        names.update(parameter["Name"] for parameter in page["Parameters"])
    return names


def put_secrets(
    ssm: Any,
    path: str,
    given: dict[str, str],
    ask: Callable[[Secret], str] | None,
    overwrite: bool = False,
) -> list[str]:
    """Stores the stage's secrets; returns what it did, one line per secret (no values)."""
    present = existing(ssm, path)
    report: list[str] = []
    for secret in SECRETS:
        name = f"{path}/{secret.parameter}"
        if name in present and not overwrite:
            report.append(f"kept      {name}")
            continue
        value = given.get(secret.env, "")
        if not value and secret.field in GENERATED:
            value = random_secrets.token_urlsafe(48)
        if not value and ask is not None:
            value = ask(secret).strip()
        if not value:
            label = "MISSING  " if secret.required else "skipped  "
            report.append(f"{label} {name} ({secret.purpose})")
            continue
        ssm.put_parameter(
            Name=name,
            Value=value,
            Type="SecureString",
            Overwrite=name in present,
            Description=secret.purpose[:1024],
        )
        report.append(f"stored    {name}")
    return report


def check(ssm: Any, path: str) -> tuple[list[str], bool]:
    present = existing(ssm, path)
    lines, complete = [], True
    for secret in SECRETS:
        name = f"{path}/{secret.parameter}"
        if name in present:
            lines.append(f"set       {name}")
        elif secret.required:
            lines.append(f"MISSING   {name} ({secret.purpose})")
            complete = False
        else:
            lines.append(f"not set   {name} (optional: {secret.purpose})")
    return lines, complete


def _ask(secret: Secret) -> str:
    optional = "" if secret.required else ", optional: Enter to skip"
    return getpass.getpass(f"{secret.env} ({secret.purpose}{optional}): ")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.parameters", description=__doc__)
    parser.add_argument("--stage", default="prod")
    parser.add_argument("--region", default=REGION)
    parser.add_argument("--from-file", type=Path, help="NAME=value lines")
    parser.add_argument("--check", action="store_true", help="list what is set, change nothing")
    parser.add_argument("--overwrite", action="store_true", help="replace existing values")
    parser.add_argument("--no-input", action="store_true", help="never prompt")
    args = parser.parse_args(argv)

    import boto3

    ssm = boto3.client("ssm", region_name=args.region)
    path = stage_secrets_path(args.stage)
    if args.check:
        lines, complete = check(ssm, path)
        print("\n".join(lines))
        return 0 if complete else 1
    given = read_env_file(args.from_file) if args.from_file else {}
    interactive = not args.no_input and sys.stdin.isatty()
    report = put_secrets(ssm, path, given, _ask if interactive else None, args.overwrite)
    print("\n".join(report))
    return 1 if any(line.startswith("MISSING") for line in report) else 0


if __name__ == "__main__":
    sys.exit(main())
