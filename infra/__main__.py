"""`python -m infra build --stage prod`: write the merge template and the IAM policy file.

Writes `build/merge-<stage>.json` (given to `chalice package --merge-template`) and
`.chalice/policy-<stage>.json` (the Lambda role's policy, referenced by config.json).
`--check` only verifies that the committed policy file is up to date.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from infra.template import PROJECT_DIR, build_merge_template, describe_stage


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
    policy_path = PROJECT_DIR / ".chalice" / f"policy-{args.stage}.json"
    policy_text = _dump(description["policy"])
    if args.check:
        if not policy_path.exists() or policy_path.read_text() != policy_text:
            print(f"{policy_path} is stale: run `python -m infra build --stage {args.stage}`")
            return 1
        return 0
    policy_path.write_text(policy_text)

    out = args.out or PROJECT_DIR / "build" / f"merge-{args.stage}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    merge = build_merge_template(description["resources"], description["event_sources"])
    out.write_text(_dump(merge))
    print(f"wrote {out} and {policy_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
