"""Cold-start cost of the app: `import app` against the bare framework imports.

Each sample is a fresh interpreter (what a new Lambda container pays). Prints the medians
and their ratio; the target is `import app` <= 1.3x `import chalice, boto3, pynamodb`.
Also shown: `import app` plus building the services an authenticated request uses (no
password hashing, no SQS client until one is needed).

Then what a user feels: a fresh interpreter that imports app and serves one authenticated
GET /v1/tickets (chalice.test.Client, a signed-up workspace on a private moto server),
against a bare Chalice + boto3 + pynamodb handler making the same DynamoDB calls (recorded
from the app's own first request); the target is <= 1.5x. --skip-inbox leaves it out.
Exits non-zero on a miss only with --strict.

Both sides run from bytecode, as a deployed function does (the Lambda package ships it,
compiled: infra/package.py): the first run of each compiles into a cache under build/ even
where PYTHONDONTWRITEBYTECODE is set, so no timed run compiles anything.
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
BYTECODE_CACHE = PROJECT_DIR / "build" / "bench-bytecode"


def _with_bytecode(environ: dict[str, str]) -> dict[str, str]:
    """`environ` that reads and writes bytecode (in its own cache, out of the source tree)."""
    environ = {**environ, "PYTHONPYCACHEPREFIX": str(BYTECODE_CACHE)}
    environ.pop("PYTHONDONTWRITEBYTECODE", None)
    return environ


APP_IMPORT = "import app"
BASELINE_IMPORT = "import chalice, boto3, pynamodb"
# What an authenticated request adds before its first AWS call: the account services.
FIRST_REQUEST = "import app; from chalicelib import bootstrap; bootstrap.account_deps()"
TARGET_RATIO = 1.3
INBOX_TARGET_RATIO = 1.5
INBOX_PATH = "/v1/tickets"

# A fresh process's first inbox page. With RECORD set it prints the AWS calls it made.
APP_FIRST_INBOX_PAGE = """
import json, os, sys
if os.environ.get("RECORD"):
    import botocore.client
    calls, make = [], botocore.client.BaseClient._make_api_call
    def recording(self, operation, params):
        calls.append([self.meta.service_model.service_name, operation, params])
        return make(self, operation, params)
    botocore.client.BaseClient._make_api_call = recording
from chalice.test import Client
from app import app
with Client(app) as client:
    response = client.http.get(
        os.environ["INBOX_PATH"], headers={"Authorization": "Bearer " + os.environ["TOKEN"]}
    )
assert response.status_code == 200, response.body
if os.environ.get("RECORD"):
    print(json.dumps(calls, default=str))
"""

# The same DynamoDB calls from a bare Chalice handler: one boto3 client, a pynamodb model.
BARE_FIRST_INBOX_PAGE = """
import json, os
import boto3
from chalice import Chalice
from chalice.test import Client
from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

class Item(Model):
    class Meta:
        table_name = os.environ["TABLE"]
        host = os.environ["AWS_ENDPOINT_URL"]
        region = os.environ["AWS_DEFAULT_REGION"]
    PK = UnicodeAttribute(hash_key=True)
    SK = UnicodeAttribute(range_key=True)

app = Chalice(app_name="bare")
calls = json.loads(os.environ["CALLS"])

@app.route("/v1/tickets")
def tickets():
    dynamodb = Item._get_connection().connection.client
    for _service, operation, params in calls:
        dynamodb._make_api_call(operation, params)
    return {"tickets": []}

with Client(app) as client:
    assert client.http.get("/v1/tickets").status_code == 200
"""


def time_import(statement: str, env: dict[str, str]) -> float:
    """Wall-clock seconds for a fresh interpreter to run `statement`."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], cwd=PROJECT_DIR, env=env, check=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--strict", action="store_true", help="exit 1 when over the target")
    parser.add_argument("--skip-inbox", action="store_true", help="only the import figures")
    args = parser.parse_args(argv)

    env = {
        **os.environ,
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "ap-southeast-1"),
    }
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    env = _with_bytecode(env)
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
    if not args.skip_inbox:
        verdict = _first_inbox_page(args.runs) if verdict == "PASS" else "FAIL"
    return 1 if args.strict and verdict == "FAIL" else 0


def _signed_up_token() -> str:
    """A workspace signed up on the bench emulator; its owner's bearer token."""
    import json

    from chalice.test import Client

    from app import app

    with Client(app) as client:
        response = client.http.post(
            "/v1/signup",
            headers={"Content-Type": "application/json"},
            body=json.dumps(
                {
                    "workspace_name": "Cold start",
                    "name": "Bench",
                    "email": "cold-start@helptal.test",
                    "password": "bench-password-123",
                }
            ),
        )
    assert response.status_code == 201, response.body
    token: str = json.loads(response.body)["token"]
    return token


def _first_inbox_page(runs: int) -> str:
    """Times both first-inbox-page processes, prints their ratio; returns the verdict."""
    import json

    import _emulator  # sets the environment the settings read

    server = _emulator.start()
    try:
        env = _with_bytecode({**os.environ, "TOKEN": _signed_up_token(), "INBOX_PATH": INBOX_PATH})
        recorded = subprocess.run(
            [sys.executable, "-c", APP_FIRST_INBOX_PAGE],
            cwd=PROJECT_DIR,
            env={**env, "RECORD": "1"},
            check=True,
            capture_output=True,
            text=True,
        ).stdout.splitlines()[-1]
        calls = json.loads(recorded)
        services = sorted({service for service, _, _ in calls})
        assert services == ["dynamodb"], f"the inbox page called {services}"
        from chalicelib.settings import get_settings

        bare_env = {**env, "CALLS": json.dumps(calls), "TABLE": get_settings().table_name}
        time_import(BARE_FIRST_INBOX_PAGE, bare_env)
        app_times: list[float] = []
        bare_times: list[float] = []
        for _ in range(runs):
            bare_times.append(time_import(BARE_FIRST_INBOX_PAGE, bare_env))
            app_times.append(time_import(APP_FIRST_INBOX_PAGE, env))
    finally:
        server.stop()
    app_median = statistics.median(app_times)
    bare_median = statistics.median(bare_times)
    ratio = app_median / bare_median
    verdict = "PASS" if ratio <= INBOX_TARGET_RATIO else "FAIL"
    label = f"bare handler, same {len(calls)} DynamoDB calls"
    print(f"{label:38} median {bare_median * 1000:7.1f} ms over {runs} runs")
    label = f"app, first GET {INBOX_PATH}"
    print(f"{label:38} median {app_median * 1000:7.1f} ms over {runs} runs")
    print(f"first inbox page ratio {ratio:.2f} (target <= {INBOX_TARGET_RATIO}): {verdict}")
    return verdict


if __name__ == "__main__":
    sys.exit(main())
