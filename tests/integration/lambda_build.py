"""Builds the Lambda package with `python -m infra.package`, the command `make package` runs.

It runs in a snapshot of the project (app, chalicelib, infra, .chalice config, requirements)
so that `python -m infra build` writes its policy files there, not in the working tree (a test
checks that the committed ones are current). Downloaded dependencies are shared with
`make package` through this project's `.chalice/deployments`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.package import sizes

PROJECT_DIR = Path(__file__).resolve().parents[2]
DEPENDENCY_CACHE = PROJECT_DIR / ".chalice" / "deployments"
STAGE = "prod"


@dataclass(frozen=True)
class LambdaPackage:
    out: Path  # sam.json and deployment.zip
    output: str  # what `python -m infra.package` printed
    seconds: float

    @property
    def zip_path(self) -> Path:
        return self.out / "deployment.zip"

    @property
    def sam(self) -> dict[str, Any]:
        return json.loads((self.out / "sam.json").read_text())

    @property
    def zipped_bytes(self) -> int:
        return sizes(self.zip_path)[0]

    @property
    def unzipped_bytes(self) -> int:
        return sizes(self.zip_path)[1]


def snapshot_of_project(destination: Path) -> Path:
    """What packaging reads of this project (with the web client), copied (to build or change
    it untouched)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    destination.mkdir(parents=True)
    for name in ("app.py", "requirements.txt"):
        shutil.copy2(PROJECT_DIR / name, destination / name)
    for name in ("chalicelib", "infra", "webapp"):
        shutil.copytree(PROJECT_DIR / name, destination / name, ignore=ignore)
    (destination / ".chalice").mkdir()
    for config in (PROJECT_DIR / ".chalice").glob("*.json"):
        shutil.copy2(config, destination / ".chalice" / config.name)
    return destination


def build_lambda_package(
    workdir: Path, *, project: Path | None = None, env: Mapping[str, str] | None = None
) -> LambdaPackage:
    """`python -m infra.package --stage prod` on a snapshot (or `project`) into workdir."""
    project = project or snapshot_of_project(workdir / "project")
    out = workdir / "package"
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "infra.package",
            "--stage",
            STAGE,
            "--out",
            str(out),
            "--cache-dir",
            str(DEPENDENCY_CACHE),
        ],
        cwd=project,
        env=dict(env if env is not None else os.environ),
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"python -m infra.package failed:\n{output[-6000:]}"
    return LambdaPackage(out, output, time.monotonic() - started)


def offline_pip_environment(no_wheels_dir: Path) -> dict[str, str]:
    """os.environ with pip unable to reach any index (any download fails)."""
    return {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(no_wheels_dir)}
