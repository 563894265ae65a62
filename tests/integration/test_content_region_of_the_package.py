"""The package `make package` builds keeps workspace content in ap-southeast-1 and refuses to
deploy anywhere else; a stage naming another region does not build; a deployed function in
another region refuses to serve."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from chalicelib.privacy.residency import CONTENT_REGION
from chalicelib.secret_store import SECRETS
from infra.residency import CONTENT_TYPES, FUNCTION_TYPES, region_rules, template_refusals
from infra.template import PROJECT_DIR
from tests.integration.lambda_build import snapshot_of_project

ELSEWHERE = "eu-west-1"


@pytest.fixture(scope="module")
def sam(lambda_package) -> dict:
    return lambda_package.sam


def test_the_packaged_template_refuses_to_deploy_outside_the_content_region(sam):
    assert sam["Rules"] == region_rules()
    (assertion,) = next(iter(sam["Rules"].values()))["Assertions"]
    assert assertion["Assert"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, CONTENT_REGION]}


def test_every_table_bucket_queue_and_key_of_the_package_is_in_the_content_region(sam):
    content = {
        resource_id: resource["Type"]
        for resource_id, resource in sam["Resources"].items()
        if resource["Type"] in CONTENT_TYPES
    }
    kinds = sorted(set(content.values()))

    assert template_refusals(sam) == []
    assert kinds == ["AWS::DynamoDB::Table", "AWS::KMS::Key", "AWS::S3::Bucket", "AWS::SQS::Queue"]
    assert {"HelptalTable", "ContentBucket", "CalendarTokensKey"} <= set(content)
    for resource_id in content:
        text = json.dumps(sam["Resources"][resource_id])
        assert '"Region"' not in text and "Replica" not in text, resource_id
    for resource_id, resource in sam["Resources"].items():
        if resource["Type"] in FUNCTION_TYPES:
            variables = resource["Properties"]["Environment"]["Variables"]
            assert not {name for name in variables if name.startswith("AWS_")}, resource_id


def test_make_package_says_to_deploy_in_the_content_region_only(lambda_package):
    output = lambda_package.output

    assert f"deploy it in {CONTENT_REGION} only" in output
    assert f"aws cloudformation deploy --region {CONTENT_REGION}" in output


def test_a_stage_naming_another_region_does_not_build_and_writes_nothing(tmp_path):
    project = snapshot_of_project(tmp_path / "project")
    config_path = project / ".chalice" / "config.json"
    config = json.loads(config_path.read_text())
    config["stages"]["prod"]["environment_variables"]["AWS_REGION"] = ELSEWHERE
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    policies = {path: path.read_text() for path in (project / ".chalice").glob("policy-prod-*")}
    merge_template = project / "build" / "merge-prod.json"

    built = subprocess.run(
        [sys.executable, "-m", "infra", "build", "--stage", "prod", "--out", str(merge_template)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert built.returncode == 1
    assert f"workspace content must stay in {CONTENT_REGION}" in built.stderr
    assert f"stage prod in .chalice/config.json sets AWS_REGION='{ELSEWHERE}'" in built.stderr
    assert f"arn:aws:dynamodb:{ELSEWHERE}" in built.stderr  # the policies it would have written
    assert not merge_template.exists()
    assert {path: path.read_text() for path in policies} == policies


# --- a deployed function in another region ----------------------------------------------------

RESULT = "RESULT:"
_RUN_API_AND_WORKER = """
import json
from chalice.test import Client
from app import app
with Client(app, stage_name="test") as client:
    response = client.http.get("/v1/health")
    event = client.events.generate_sqs_event(message_bodies=["{}"], queue_name="mail-out")
    try:
        client.lambda_.invoke("mail_out_worker", event)
        outcome = "handled"
    except Exception as error:
        outcome = type(error).__name__
    print("RESULT:" + json.dumps({"status": response.status_code,
                                  "body": json.loads(response.body), "worker": outcome}))
"""


def test_a_deployed_function_in_another_region_refuses_requests_and_batches_naming_it():
    secret_variables = {secret.env for secret in SECRETS}
    env = {key: value for key, value in os.environ.items() if key not in secret_variables}
    env.update(
        {
            "HELPTAL_STAGE": "prod",
            "HELPTAL_FUNCTION": "api_handler",
            "SECRETS_PATH": "/helptal/prod",
            "PUBLIC_BASE_URL": "https://api.example.com",
            "APP_BASE_URL": "https://app.example.com",
            "INBOUND_MAIL_DOMAIN": "in.example.com",
            "MAILGUN_DOMAIN": "mg.example.com",
            "AWS_REGION": ELSEWHERE,
            "AWS_DEFAULT_REGION": ELSEWHERE,
        }
    )

    finished = subprocess.run(
        [sys.executable, "-c", _RUN_API_AND_WORKER],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    output = finished.stdout + finished.stderr
    lines = [line for line in finished.stdout.splitlines() if line.startswith(RESULT)]
    assert lines, output
    result = json.loads(lines[-1][len(RESULT) :])
    assert result["status"] == 503
    assert result["body"]["error"]["code"] == "not_configured"
    assert result["worker"] == "NotConfigured"  # the batch goes back to the queue
    assert "refusing to serve" in output
    assert f"AWS_REGION={ELSEWHERE}: workspace content stays in {CONTENT_REGION}" in output
    assert ELSEWHERE not in json.dumps(result["body"])  # names stay in the log
