"""Logs are readable lines on the local stack (dev stage, LOG_FORMAT=text) and JSON with the
same keys everywhere else, deployed stages always."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
LOG_ONE_REQUEST = """
from chalicelib.observability import logger
logger.append_keys(workspace_id="ws_1", correlation_id="req-1")
logger.info("request handled", extra={"path": "/v1/me", "status": 200, "note": "two words"})
"""


def _log_line(stage: str, log_format: str) -> str:
    env = {**os.environ, "HELPTAL_STAGE": stage, "LOG_FORMAT": log_format}
    finished = subprocess.run(
        [sys.executable, "-c", LOG_ONE_REQUEST],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return (finished.stdout + finished.stderr).strip()


def test_local_stack_logs_are_one_readable_line_with_the_ids():
    line = _log_line("dev", "text")
    assert not line.startswith("{")
    assert "INFO" in line and "request handled" in line
    assert "workspace_id=ws_1 correlation_id=req-1 path=/v1/me status=200" in line
    assert 'note="two words"' in line


@pytest.mark.parametrize(("stage", "log_format"), [("dev", ""), ("prod", "text"), ("prod", "")])
def test_other_logs_are_json_with_the_same_keys(stage, log_format):
    record = json.loads(_log_line(stage, log_format))
    assert record["message"] == "request handled"
    assert (record["workspace_id"], record["correlation_id"], record["path"]) == (
        "ws_1",
        "req-1",
        "/v1/me",
    )
