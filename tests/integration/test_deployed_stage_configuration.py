"""A deployed stage reads its secrets from Parameter Store and refuses to serve without them.

Each case starts the app in a fresh interpreter, configured as Lambda configures a prod
function (HELPTAL_STAGE=prod, SECRETS_PATH, HELPTAL_FUNCTION, no secret in the environment),
against the moto server's Parameter Store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from chalicelib.secret_store import FUNCTION_SECRETS, SECRETS_BY_FIELD
from infra.template import PROJECT_DIR

RESULT = "RESULT:"
_RUN_API = """
import json
from chalice.test import Client
from app import app
with Client(app, stage_name="test") as client:
    response = client.http.get("/v1/health")
    print("RESULT:" + json.dumps({"status": response.status_code,
                                  "body": json.loads(response.body)}))
"""
_RUN_WORKER = """
import json
from chalice.test import Client
from app import app
with Client(app, stage_name="test") as client:
    event = client.events.generate_sqs_event(message_bodies=["{}"], queue_name="mail-out")
    try:
        client.lambda_.invoke("mail_out_worker", event)
        outcome = "handled"
    except Exception as error:
        outcome = type(error).__name__
    print("RESULT:" + json.dumps({"outcome": outcome}))
"""


def _prod_environment(secrets_path: str, function: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not any(key == SECRETS_BY_FIELD[field].env for field in SECRETS_BY_FIELD)
    }
    env.update(
        {
            "HELPTAL_STAGE": "prod",
            "HELPTAL_FUNCTION": function,
            "SECRETS_PATH": secrets_path,
            "PUBLIC_BASE_URL": "https://api.example.com",
            "APP_BASE_URL": "https://app.example.com",
            "INBOUND_MAIL_DOMAIN": "in.example.com",
            "MAILGUN_DOMAIN": "mg.example.com",
        }
    )
    return env


def _run(code: str, env: dict[str, str]) -> tuple[dict, str]:
    finished = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [line for line in finished.stdout.splitlines() if line.startswith(RESULT)]
    assert lines, finished.stdout + finished.stderr
    return json.loads(lines[-1][len(RESULT) :]), finished.stdout + finished.stderr


@pytest.fixture
def secrets_path(aws) -> str:
    return f"/helptal/itest-{uuid.uuid4().hex[:8]}"


def _put(aws, secrets_path: str, function: str, blank: str | None = None) -> None:
    ssm = aws.client("ssm")
    for field in sorted(FUNCTION_SECRETS[function]):
        secret = SECRETS_BY_FIELD[field]
        value = " " if secret.parameter == blank else f"value-of-{secret.parameter}"
        ssm.put_parameter(
            Name=f"{secrets_path}/{secret.parameter}",
            Value=value,
            Type="SecureString",
            Overwrite=True,
        )


def test_prod_api_with_a_blank_secret_refuses_to_serve_and_logs_which(aws, secrets_path):
    _put(aws, secrets_path, "api_handler", blank="reply-address-secret")

    result, output = _run(_RUN_API, _prod_environment(secrets_path, "api_handler"))

    assert result["status"] == 503
    assert result["body"]["error"]["code"] == "not_configured"
    assert "reply-address-secret" not in json.dumps(result["body"])  # names stay in the log
    assert f"{secrets_path}/reply-address-secret" in output
    assert "refusing to serve" in output
    assert "value-of-" not in output  # no secret value is ever logged


def test_prod_api_with_a_missing_secret_refuses_to_serve(aws, secrets_path):
    _put(aws, secrets_path, "api_handler")
    aws.client("ssm").delete_parameter(Name=f"{secrets_path}/mailgun-webhook-signing-key")

    result, output = _run(_RUN_API, _prod_environment(secrets_path, "api_handler"))

    assert result["status"] == 503
    assert f"{secrets_path}/mailgun-webhook-signing-key" in output


def test_prod_api_with_its_secrets_in_parameter_store_serves(aws, secrets_path):
    _put(aws, secrets_path, "api_handler")

    result, _ = _run(_RUN_API, _prod_environment(secrets_path, "api_handler"))

    assert result == {"status": 200, "body": {"status": "ok", "table": "reachable"}}


def test_prod_api_without_a_domain_setting_refuses_to_serve(aws, secrets_path):
    _put(aws, secrets_path, "api_handler")
    env = _prod_environment(secrets_path, "api_handler")
    del env["MAILGUN_DOMAIN"]

    result, output = _run(_RUN_API, env)

    assert result["status"] == 503
    assert "MAILGUN_DOMAIN" in output


def test_prod_worker_without_its_secrets_fails_the_batch_so_the_queue_keeps_it(aws, secrets_path):
    _put(aws, secrets_path, "mail_out_worker", blank="mailgun-api-key")

    result, output = _run(_RUN_WORKER, _prod_environment(secrets_path, "mail_out_worker"))

    assert result == {"outcome": "NotConfigured"}
    assert f"{secrets_path}/mailgun-api-key" in output
