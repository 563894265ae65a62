"""`python -m infra build --stage prod`: write the merge template and the IAM policy file.

Writes `build/merge-<stage>.json` (given to `chalice package --merge-template`) and
`.chalice/policy-<stage>-<function>.json` (each function's role policy, named by config.json).
`--check` only verifies that the committed policy files and config.json are up to date.
Both refuse (exit 1, nothing written) a stage that would put workspace content outside the
content region (`infra.residency`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from infra.residency import ContentOutsideRegion, stage_refusals
from infra.template import CHALICE_CONFIG, PROJECT_DIR, build_merge_template, describe_stage


def _dump(document: object) -> str:
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra")
    parser.add_argument("command", choices=["build"])
    parser.add_argument("--stage", default="prod")
    parser.add_argument("--out", type=Path, default=None, help="merge template path")
    parser.add_argument("--check", action="store_true", help="fail if the policy file is stale")
    args = parser.parse_args(argv)

    description = describe_stage(args.stage)
    merge_template = build_merge_template(description)
    config = json.loads(CHALICE_CONFIG.read_text())
    refused = stage_refusals(args.stage, config, description["policies"], merge_template)
    if refused:
        print(
            f"python -m infra build --stage {args.stage}: {ContentOutsideRegion(refused)}",
            file=sys.stderr,
        )
        return 1
    expected = expected_files(args.stage, description)
    stale = [
        path for path, text in expected.items() if not path.exists() or path.read_text() != text
    ]
    if args.check:
        for path in stale:
            print(f"{path} is stale: run `python -m infra build --stage {args.stage}`")
        return 1 if stale else 0
    for path in stale:
        path.write_text(expected[path])

    out = args.out or PROJECT_DIR / "build" / f"merge-{args.stage}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(_dump(merge_template))
    print(f"wrote {out} and {len(description['policies'])} function policies")
    return 0


def expected_files(stage: str, description: dict[str, Any]) -> dict[Path, str]:
    """The policy files of a stage and config.json naming them, as they should be."""
    chalice_dir = PROJECT_DIR / ".chalice"
    files: dict[Path, str] = {}
    config = json.loads(CHALICE_CONFIG.read_text())
    functions = config["stages"][stage].setdefault("lambda_functions", {})
    for function, policy in description["policies"].items():
        name = policy_file_name(stage, function)
        files[chalice_dir / name] = _dump(policy)
        functions.setdefault(function, {})["iam_policy_file"] = name
    files[CHALICE_CONFIG] = _dump(config)
    return files


def policy_file_name(stage: str, function: str) -> str:
    return f"policy-{stage}-{function}.json"


if __name__ == "__main__":
    sys.exit(main())
