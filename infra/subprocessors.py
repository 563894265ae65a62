"""`python -m infra.subprocessors`: the operator's command for the sub-processor registry.

Run it with the deployment's AWS credentials and settings: it reads and writes the table
named by TABLE_NAME (else RESOURCE_PREFIX; `--stage prod` takes the stage's prefix from
.chalice/config.json when neither is set) in AWS_REGION (default ap-southeast-1).

    python -m infra.subprocessors list                 # the list now, and what is planned
    python -m infra.subprocessors show mailgun         # a provider, or a change by its id
    python -m infra.subprocessors plan --file change.json         # what the page will show
    python -m infra.subprocessors plan --file change.json --yes   # ... and record it

A change file is JSON: `kind` (add, replace, remove), `effective_at` (`2026-08-01` is
midnight UTC, or an ISO time with its offset), `summary` {en, fr}, `subprocessor` (the
newcomer: id, name, legal_entity, location {en, fr}, purpose {en, fr}, category,
processes_workspace_content) and `replaces` (ids that leave); infra/subprocessor_changes/
aws-hosting.json is an example.  The change is recorded as announced now, by the caller's
AWS identity (STS GetCallerIdentity; $USER when STS cannot say).  Refused, and nothing
recorded: a change that processes Workspace content taking effect sooner than 30 days from
now, an effective date in the past, replacing or removing a provider that is not listed at
that date, adding one that is.  Changes are never edited or deleted: plan another change."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from chalicelib.privacy.model import PlannedChange, RegistryView, SubProcessor
    from chalicelib.privacy.ports import SubprocessorChanges

REGION = "ap-southeast-1"


def _use_stage(stage: str | None) -> None:
    """The stage's RESOURCE_PREFIX when the environment names no table (before the store is
    imported: its table name is read then)."""
    if stage and not (os.environ.get("TABLE_NAME") or os.environ.get("RESOURCE_PREFIX")):
        from infra.template import stage_environment

        prefix = stage_environment(stage).get("RESOURCE_PREFIX")
        if not prefix:
            raise SystemExit(f"stage {stage!r} has no RESOURCE_PREFIX in .chalice/config.json")
        os.environ["RESOURCE_PREFIX"] = prefix
    os.environ.setdefault("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION") or REGION)


def caller_identity() -> str:
    """Who runs the command: the ARN STS names, else $USER (no credentials, no STS)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from chalicelib.settings import get_settings

    try:
        sts = boto3.client("sts", region_name=get_settings().region)
        return str(sts.get_caller_identity()["Arn"])
    except (BotoCoreError, ClientError):  # no credentials, no STS: the login name will do
        return os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"


def _store() -> SubprocessorChanges:
    from chalicelib.store.subprocessor_changes_repo import DynamoSubprocessorChanges

    return DynamoSubprocessorChanges()


# -- printing ---------------------------------------------------------------------------------


def _day(moment: datetime) -> str:
    from chalicelib.web.helpcentre_words import format_date

    return f"{format_date(moment.date(), 'en')} ({moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ})"


def _provider_lines(provider: SubProcessor, indent: str) -> list[str]:
    content = "yes" if provider.processes_workspace_content else "no"
    return [
        f"{indent}{provider.name} [{provider.id}] — {provider.location.en}",
        f"{indent}  {provider.purpose.en}",
        f"{indent}  processes Workspace content: {content}",
    ]


def _change_lines(change: PlannedChange, names: dict[str, SubProcessor]) -> list[str]:
    from chalicelib.web.legal_words import joined

    newcomer = change.subprocessor
    leaving = [
        names[r].name if r in names else r
        for r in change.replaces
        if newcomer is None or r != newcomer.id
    ]
    headline = newcomer.name if newcomer else joined(leaving, "en")
    lines = [
        f"  {change.kind.value.capitalize()}: {headline}  [{change.id}]",
        f"    takes effect on {_day(change.effective_at)}",
        f"    announced on {_day(change.announced_at)}"
        + (f" by {change.planned_by}" if change.planned_by else ""),
        f"    summary (en): {change.summary.en}",
        f"    summary (fr): {change.summary.fr}",
    ]
    if newcomer is not None:
        lines.append("    new sub-processor:")
        lines += _provider_lines(newcomer, "      ")
    if leaving:
        lines.append(f"    leaving the list: {joined(leaving, 'en')}")
    return lines


def _list_lines(view: RegistryView) -> list[str]:
    from chalicelib.privacy.model import Category
    from chalicelib.privacy.subprocessors import CATEGORY_TITLES

    lines = []
    for category in Category:
        providers = [p for p in view.current if p.category is category]
        if providers:
            lines.append(f"  {CATEGORY_TITLES[category].en}")
            for provider in providers:
                lines += _provider_lines(provider, "    ")
    return lines


def _where(out: TextIO) -> None:
    from chalicelib.settings import get_settings

    settings = get_settings()
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    print(
        f"table {settings.table_name} in {settings.region}"
        + (f" (endpoint {endpoint})" if endpoint else ""),
        file=out,
    )


# -- commands ---------------------------------------------------------------------------------


def list_command(out: TextIO, at: datetime) -> int:
    from chalicelib.privacy.registry import published

    shown = published(_store(), at)
    print(f"Sub-processors on {_day(at)} (last updated {_day(shown.view.last_updated)}):", file=out)
    print("\n".join(_list_lines(shown.view)), file=out)
    print("Upcoming changes:" if shown.view.upcoming else "No upcoming change.", file=out)
    for change in shown.view.upcoming:
        print("\n".join(_change_lines(change, shown.providers)), file=out)
    return 0


def show_command(out: TextIO, wanted: str, at: datetime) -> int:
    from chalicelib.privacy.registry import published

    store = _store()
    change = store.get_change(wanted)
    shown = published(store, at)
    if change is not None:
        print("\n".join(_change_lines(change, shown.providers)), file=out)
        return 0
    provider = shown.providers.get(wanted)
    if provider is None:
        print(f"no provider or change {wanted!r}", file=sys.stderr)
        return 1
    listed = any(p.id == wanted for p in shown.view.current)
    print(f"{'listed' if listed else 'not listed'} on {_day(at)}:", file=out)
    print("\n".join(_provider_lines(provider, "  ")), file=out)
    print(f"  legal entity: {provider.legal_entity}", file=out)
    concerning = [
        c
        for c in store.all_changes()
        if wanted in c.replaces or (c.subprocessor is not None and c.subprocessor.id == wanted)
    ]
    for change in concerning:
        print("\n".join(_change_lines(change, shown.providers)), file=out)
    return 0


def plan_command(out: TextIO, path: Path, yes: bool, now: datetime) -> int:
    from chalicelib.privacy.model import NOTICE_DAYS
    from chalicelib.privacy.records import BadChangeRecord, draft_fields
    from chalicelib.privacy.registry import (
        ChangeDraft,
        ChangeRefused,
        check_change,
        known_providers,
        plan_change,
        view,
    )

    try:
        fields = draft_fields(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as e:  # BadChangeRecord and JSON errors are ValueErrors
        kind = "" if isinstance(e, BadChangeRecord) else f"{type(e).__name__}: "
        print(f"{path}: {kind}{e}", file=sys.stderr)
        return 1
    except RecursionError:
        print(f"{path}: the JSON nests too deeply to be a change", file=sys.stderr)
        return 1
    draft = ChangeDraft(planned_by=caller_identity(), **fields)
    store = _store()
    existing = store.all_changes()
    try:
        change = check_change(existing, draft, now)
    except ChangeRefused as e:
        print(f"refused ({e.code}): {e.message}; nothing was recorded", file=sys.stderr)
        return 1
    names = known_providers([*existing, change])
    print("The public page will show, from now on, under Upcoming changes:", file=out)
    print("\n".join(_change_lines(change, names)), file=out)
    if change.processes_workspace_content:
        print(
            f"  It processes Workspace content: announced {NOTICE_DAYS} days ahead at least; "
            "subscribers and workspace owners and admins are notified, and owners may object "
            f"until {_day(change.effective_at)}.",
            file=out,
        )
    print(f"The list from {_day(change.effective_at)}:", file=out)
    print("\n".join(_list_lines(view([*existing, change], change.effective_at))), file=out)
    if not yes and not _confirmed():
        print("Nothing was recorded: run again with --yes to record this change.", file=out)
        return 0
    try:
        recorded = plan_change(store, draft, now)
    except ChangeRefused as e:  # another change was recorded in between
        print(f"refused ({e.code}): {e.message}; nothing was recorded", file=sys.stderr)
        return 1
    print(f"Recorded change {recorded.id}, announced {_day(recorded.announced_at)}.", file=out)
    return 0


def _confirmed() -> bool:
    if not sys.stdin.isatty():
        return False
    return input("Record this change? [y/N] ").strip().lower() in ("y", "yes")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.subprocessors",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stage", help="take RESOURCE_PREFIX from this stage when unset")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="the list now and the upcoming changes")
    listing.add_argument("--at", help="the list at another time (ISO 8601)")
    show = commands.add_parser("show", help="a provider (by id) or a recorded change (by id)")
    show.add_argument("id")
    plan = commands.add_parser("plan", help="plan a change from a JSON file")
    plan.add_argument("--file", type=Path, required=True)
    plan.add_argument("--yes", action="store_true", help="record it without asking")
    args = parser.parse_args(argv)

    _use_stage(args.stage)
    from chalicelib.settings import reload_settings

    reload_settings()
    _where(sys.stderr)
    now = datetime.now(UTC)
    if args.command == "list":
        from chalicelib.privacy.records import BadChangeRecord, parse_moment

        try:
            at = parse_moment(args.at, "--at") if args.at else now
        except BadChangeRecord as e:
            parser.error(str(e))
        return list_command(sys.stdout, at)
    if args.command == "show":
        return show_command(sys.stdout, args.id, now)
    return plan_command(sys.stdout, args.file, args.yes, now)


if __name__ == "__main__":
    sys.exit(main())
