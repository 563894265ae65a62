"""Cold-start cost of the app: `import app` against the bare framework imports.

Each sample is a fresh interpreter (what a new Lambda container pays). Prints the medians
and their ratio; the target is `import app` <= 1.3x `import chalice, boto3, pynamodb`.
Also shown: `import app` plus building the services an authenticated request uses (no
password hashing, no SQS client until one is needed).
Exits non-zero on a miss only with --strict.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
APP_IMPORT = "import app"
BASELINE_IMPORT = "import chalice, boto3, pynamodb"
# What an authenticated request adds before its first AWS call: the account services.
FIRST_REQUEST = "import app; from chalicelib import bootstrap; bootstrap.account_deps()"
TARGET_RATIO = 1.3


def time_import(statement: str, env: dict[str, str]) -> float:
    """Wall-clock seconds for a fresh interpreter to run `statement`."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], cwd=PROJECT_DIR, env=env, check=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--strict", action="store_true", help="exit 1 when over the target")
    args = parser.parse_args(argv)

    env = {
        **os.environ,
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "ap-southeast-1"),
    }
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    # Warm the file-system cache and write .pyc files so neither side pays for compiling.
    time_import(APP_IMPORT, env)
    time_import(BASELINE_IMPORT, env)

    time_import(FIRST_REQUEST, env)
    app_times: list[float] = []
    baseline_times: list[float] = []
    first_request_times: list[float] = []
    for _ in range(args.runs):
        # Interleaved, so a busy moment of the machine hits every side alike.
        baseline_times.append(time_import(BASELINE_IMPORT, env))
        app_times.append(time_import(APP_IMPORT, env))
        first_request_times.append(time_import(FIRST_REQUEST, env))

    app_median = statistics.median(app_times)
    baseline_median = statistics.median(baseline_times)
    ratio = app_median / baseline_median
    verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
    print(f"{BASELINE_IMPORT!r:38} median {baseline_median * 1000:7.1f} ms over {args.runs} runs")
    print(f"{APP_IMPORT!r:38} median {app_median * 1000:7.1f} ms over {args.runs} runs")
    first_request_median = statistics.median(first_request_times)
    print(
        f"{'import app + account services':38} median {first_request_median * 1000:7.1f} ms "
        f"over {args.runs} runs (ratio {first_request_median / baseline_median:.2f})"
    )
    print(f"ratio {ratio:.2f} (target <= {TARGET_RATIO}): {verdict}")
    return 1 if args.strict and verdict == "FAIL" else 0


if __name__ == "__main__":
    sys.exit(main())
