"""`python -m infra.parameters --stage prod`: create a stage's secrets in SSM Parameter Store.

Run with the deployment's AWS credentials, before the first deploy and to rotate a secret:

    python -m infra.parameters --stage prod                      # asks for each missing one
    python -m infra.parameters --stage prod --from-file prod.env # NAME=value lines
    python -m infra.parameters --stage prod --check              # lists what is set (no values)
    python -m infra.parameters --stage prod --rotate-two-factor-key

Names in a file are the variables of README "Configuration" (`MAILGUN_API_KEY=...`).
Secrets that are only random values (`REPLY_ADDRESS_SECRET`, `DOMAIN_VERIFICATION_SECRET`,
`TWO_FACTOR_KEY`: 32 random bytes, base64) are generated when not given. Existing parameters
are kept unless `--overwrite`. Every value is stored as a SecureString under
`/helptal/<stage>/` (the stage's `SECRETS_PATH`). `--rotate-two-factor-key` moves the
two-factor key to `two-factor-key-previous` and generates a new one: secrets sealed with the
old key still open, and are sealed with the new one at their owner's next sign-in.
"""

from __future__ import annotations

import argparse
import getpass
import secrets as random_secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chalicelib.privacy.residency import CONTENT_REGION
from chalicelib.secret_store import SECRETS, SECRETS_BY_FIELD, Secret
from chalicelib.store.secret_box import new_key
from infra.template import stage_environment

REGION = CONTENT_REGION  # the functions read their secrets in their own region
# Secrets that are only random values, and how each is made.
GENERATED: dict[str, Callable[[], str]] = {
    "reply_address_secret": lambda: random_secrets.token_urlsafe(48),
    "domain_verification_secret": lambda: random_secrets.token_urlsafe(48),
    "two_factor_key": new_key,
    "card_token_key": new_key,
}


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
            value = GENERATED[secret.field]()
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


def rotate_two_factor_key(ssm: Any, path: str) -> list[str]:
    """Keeps the current two-factor key as the previous one and stores a new current key
    (what is sealed with the key before that stops opening: rotate again only once every
    user who signs in with two-factor has done so since, or accept that)."""
    current = f"{path}/{SECRETS_BY_FIELD['two_factor_key'].parameter}"
    previous = f"{path}/{SECRETS_BY_FIELD['two_factor_key_previous'].parameter}"
    report: list[str] = []
    if current in existing(ssm, path):
        value = ssm.get_parameter(Name=current, WithDecryption=True)["Parameter"]["Value"]
        ssm.put_parameter(
            Name=previous,
            Value=value,
            Type="SecureString",
            Overwrite=True,
            Description=SECRETS_BY_FIELD["two_factor_key_previous"].purpose[:1024],
        )
        report.append(f"moved     {current} -> {previous}")
    ssm.put_parameter(
        Name=current,
        Value=new_key(),
        Type="SecureString",
        Overwrite=True,
        Description=SECRETS_BY_FIELD["two_factor_key"].purpose[:1024],
    )
    report.append(f"stored    {current} (new)")
    return report


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
    parser.add_argument(
        "--rotate-two-factor-key",
        action="store_true",
        help="keep the two-factor key as the previous one and generate a new one",
    )
    args = parser.parse_args(argv)

    import boto3

    ssm = boto3.client("ssm", region_name=args.region)
    path = stage_secrets_path(args.stage)
    if args.check:
        lines, complete = check(ssm, path)
        print("\n".join(lines))
        return 0 if complete else 1
    if args.rotate_two_factor_key:
        print("\n".join(rotate_two_factor_key(ssm, path)))
        return 0
    given = read_env_file(args.from_file) if args.from_file else {}
    interactive = not args.no_input and sys.stdin.isatty()
    report = put_secrets(ssm, path, given, _ask if interactive else None, args.overwrite)
    print("\n".join(report))
    return 1 if any(line.startswith("MISSING") for line in report) else 0


if __name__ == "__main__":
    sys.exit(main())
