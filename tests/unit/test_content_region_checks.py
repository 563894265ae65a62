"""Workspace content stays in ap-southeast-1: a process in another region refuses to serve,
and a template that would put a table, bucket, queue or key elsewhere is refused by name."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pytest

from chalicelib import readiness
from chalicelib.privacy.residency import CONTENT_REGION, region_of_endpoint
from chalicelib.secret_store import ParameterStoreSecrets
from chalicelib.settings import Settings, get_settings, reload_settings
from infra import package
from infra.residency import RULE_ID, region_rules, stage_refusals, template_refusals
from infra.template import build_merge_template, describe_stage

ELSEWHERE = "eu-west-1"


def test_the_content_region_is_singapore():
    assert CONTENT_REGION == "ap-southeast-1"


# --- run time ---------------------------------------------------------------------------------


class UnreadableParameterStore:
    """A parameter store the test forbids reading (another region's)."""

    def __init__(self) -> None:
        self.reads = 0

    def fetch(self, names: list[str], max_age: int) -> dict[str, str]:
        self.reads += 1
        return {}


def _deployed(
    aws_environment: dict[str, str], region: str, **changes: str
) -> tuple[Settings, UnreadableParameterStore]:
    store = UnreadableParameterStore()
    deployed = {
        "stage": "prod",
        "function": "api_handler",
        "public_base_url": "https://api.example.com",
        "app_base_url": "https://app.example.com",
        "inbound_mail_domain": "in.example.com",
        "mailgun_domain": "mg.example.com",
    }
    settings = dataclasses.replace(
        get_settings(),
        region=region,
        aws_environment=tuple(sorted(aws_environment.items())),
        secrets=ParameterStoreSecrets("/helptal/prod", "api_handler", 300, store.fetch),
        **{**deployed, **changes},
    )
    return settings, store


@pytest.mark.parametrize(
    ("environment", "region", "named"),
    [
        ({"AWS_REGION": ELSEWHERE, "AWS_DEFAULT_REGION": ELSEWHERE}, ELSEWHERE, "AWS_REGION"),
        ({"AWS_DEFAULT_REGION": "us-east-1"}, "us-east-1", "AWS_DEFAULT_REGION=us-east-1"),
        (
            {"AWS_REGION": CONTENT_REGION, "AWS_DEFAULT_REGION": "us-west-2"},
            CONTENT_REGION,
            "us-west-2",
        ),
        ({}, ELSEWHERE, f"the AWS region is {ELSEWHERE}"),
    ],
)
def test_a_deployed_stage_in_another_region_refuses_to_serve_and_names_the_region(
    environment, region, named
):
    settings, store = _deployed(environment, region)

    missing = settings.missing()

    assert any(named in line for line in missing), missing
    assert all(f"workspace content stays in {CONTENT_REGION}" in line for line in missing)
    assert store.reads == 0  # no secret is read from another region's parameter store


def test_a_deployed_stage_in_another_region_also_lists_its_missing_settings():
    settings, _ = _deployed({"AWS_REGION": ELSEWHERE}, ELSEWHERE, mailgun_domain="")

    missing = settings.missing()

    assert missing[0].startswith(f"AWS_REGION={ELSEWHERE}")
    assert "MAILGUN_DOMAIN" in missing


def test_a_deployed_stage_whose_sdk_endpoint_is_another_regions_refuses_to_serve():
    endpoint = f"https://dynamodb.{ELSEWHERE}.amazonaws.com"
    settings, _ = _deployed(
        {"AWS_REGION": CONTENT_REGION, "AWS_ENDPOINT_URL_DYNAMODB": endpoint}, CONTENT_REGION
    )

    assert settings.missing() == [
        f"AWS_ENDPOINT_URL_DYNAMODB={endpoint} is in {ELSEWHERE}: "
        f"workspace content stays in {CONTENT_REGION}"
    ]


@pytest.mark.parametrize(
    ("environment", "refused"),
    [
        ({"AWS_REGION": ELSEWHERE}, True),  # a dev stage deployed to AWS
        ({"AWS_REGION": ELSEWHERE, "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}, False),
        ({"AWS_REGION": ELSEWHERE, "AWS_ENDPOINT_URL": "http://localstack:4566"}, False),
        (
            {"AWS_REGION": ELSEWHERE, "AWS_ENDPOINT_URL": "https://sqs.eu-west-1.amazonaws.com"},
            True,
        ),
        ({"AWS_REGION": CONTENT_REGION}, False),
        ({"AWS_REGION": CONTENT_REGION, "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}, False),
    ],
)
def test_dev_accepts_another_region_only_behind_a_local_emulator(environment, refused):
    settings = dataclasses.replace(
        get_settings(),
        stage="dev",
        region=environment["AWS_REGION"],
        aws_environment=tuple(sorted(environment.items())),
    )

    assert bool(settings.missing()) is refused, settings.missing()


def test_settings_read_the_region_variables_and_endpoints_from_the_environment(monkeypatch):
    monkeypatch.setenv("HELPTAL_STAGE", "dev")
    monkeypatch.setenv("AWS_REGION", ELSEWHERE)
    monkeypatch.setenv("AWS_DEFAULT_REGION", ELSEWHERE)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    try:
        settings = reload_settings()
        assert dict(settings.aws_environment) == {
            "AWS_REGION": ELSEWHERE,
            "AWS_DEFAULT_REGION": ELSEWHERE,
        }
        assert settings.missing() == [
            f"AWS_DEFAULT_REGION={ELSEWHERE}: workspace content stays in {CONTENT_REGION}",
            f"AWS_REGION={ELSEWHERE}: workspace content stays in {CONTENT_REGION}",
        ]
    finally:
        monkeypatch.undo()
        reload_settings()


def test_the_test_and_local_stack_environment_is_in_the_content_region():
    """`make run` and the tests set AWS_REGION=ap-southeast-1 (and an emulator endpoint)."""
    assert reload_settings().missing() == []


def test_readiness_refuses_requests_and_batches_while_the_region_is_another(monkeypatch):
    settings, _ = _deployed({"AWS_REGION": ELSEWHERE}, ELSEWHERE)
    monkeypatch.setattr(readiness, "get_settings", lambda: settings)
    readiness.reset()
    try:
        assert readiness.problems(monotonic=0.0) == [
            f"AWS_REGION={ELSEWHERE}: workspace content stays in {CONTENT_REGION}"
        ]
        readiness.reset()
        with pytest.raises(readiness.NotConfigured) as refused:
            readiness.ensure_configured()  # workers: the batch goes back to the queue
        assert ELSEWHERE in str(refused.value)
    finally:
        readiness.reset()


@pytest.mark.parametrize(
    ("url", "region"),
    [
        ("https://sqs.eu-west-1.amazonaws.com", "eu-west-1"),
        ("https://bucket.s3.us-gov-west-1.amazonaws.com/key", "us-gov-west-1"),
        ("https://dynamodb.cn-north-1.amazonaws.com.cn", "cn-north-1"),
        ("https://s3-ap-southeast-2.amazonaws.com", "ap-southeast-2"),
        ("http://127.0.0.1:5000", None),
        ("https://s3.amazonaws.com", None),
    ],
)
def test_the_region_of_an_endpoint_is_read_from_its_aws_host(url, region):
    assert region_of_endpoint(url) == region


# --- build time: small templates ---------------------------------------------------------------


def _template(resources: dict, **sections) -> dict:
    return {"Rules": region_rules(), "Resources": resources, **sections}


def _queue(**properties) -> dict:
    return {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "q", **properties}}


def test_a_template_of_resources_in_the_stacks_region_is_accepted():
    template = _template(
        {
            "Queue": _queue(),
            "Table": {
                "Type": "AWS::DynamoDB::GlobalTable",
                "Properties": {"Replicas": [{"Region": {"Ref": "AWS::Region"}}]},
            },
            "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
            "Policy": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "Resource": [
                        "arn:aws:sqs:ap-southeast-1:*:q",
                        "arn:aws:s3:::bucket/*",
                        {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:*"},
                    ]
                },
            },
        }
    )

    assert template_refusals(template) == []


@pytest.mark.parametrize(
    ("resources", "named"),
    [
        (
            {
                "HelptalTable": {
                    "Type": "AWS::DynamoDB::GlobalTable",
                    "Properties": {"Replicas": [{"Region": CONTENT_REGION}, {"Region": ELSEWHERE}]},
                }
            },
            "HelptalTable (AWS::DynamoDB::GlobalTable) has Properties.Replicas[1].Region",
        ),
        (
            {
                "ApiRole": {
                    "Type": "AWS::IAM::Role",
                    "Properties": {
                        "Policies": [
                            {"Resource": [f"arn:aws:dynamodb:{ELSEWHERE}:*:table/helptal-prod"]}
                        ]
                    },
                }
            },
            f"Resources.ApiRole.Properties.Policies[0].Resource[0] names {ELSEWHERE}",
        ),
        (
            {
                "MailOutQueue": _queue(
                    RedrivePolicy={"deadLetterTargetArn": f"arn:aws:sqs:{ELSEWHERE}:1:dlq"}
                )
            },
            "Resources.MailOutQueue.Properties.RedrivePolicy.deadLetterTargetArn",
        ),
        (
            {
                "CalendarTokensKey": {
                    "Type": "AWS::KMS::ReplicaKey",
                    "Properties": {"PrimaryKeyArn": f"arn:aws:kms:{ELSEWHERE}:1:key/k"},
                }
            },
            "CalendarTokensKey (AWS::KMS::ReplicaKey) replicates a key",
        ),
        (
            {
                "ContentBucket": {
                    "Type": "AWS::S3::Bucket",
                    "Properties": {
                        "ReplicationConfiguration": {
                            "Rules": [{"Destination": {"Bucket": "arn:aws:s3:::far-away"}}]
                        }
                    },
                }
            },
            "ContentBucket (AWS::S3::Bucket) replicates to 'arn:aws:s3:::far-away'",
        ),
        (
            {
                "APIHandler": {
                    "Type": "AWS::Serverless::Function",
                    "Properties": {"Environment": {"Variables": {"AWS_DEFAULT_REGION": ELSEWHERE}}},
                }
            },
            "APIHandler (AWS::Serverless::Function) environment sets "
            f"AWS_DEFAULT_REGION='{ELSEWHERE}'",
        ),
        (
            {
                "APIHandler": {
                    "Type": "AWS::Serverless::Function",
                    "Properties": {
                        "Environment": {
                            "Variables": {
                                "EVENTS_QUEUE_URL": f"https://sqs.{ELSEWHERE}.amazonaws.com/1/q"
                            }
                        }
                    },
                }
            },
            "Resources.APIHandler.Properties.Environment.Variables.EVENTS_QUEUE_URL",
        ),
    ],
)
def test_a_template_putting_content_in_another_region_is_refused_naming_the_resource(
    resources, named
):
    refused = template_refusals(_template(resources))

    assert any(named in line for line in refused), refused
    assert all(line.endswith(f"workspace content stays in {CONTENT_REGION}") for line in refused)


def test_a_bucket_replicating_to_a_bucket_of_its_own_stack_is_accepted():
    template = _template(
        {
            "ContentBucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "ReplicationConfiguration": {
                        "Rules": [{"Destination": {"Bucket": {"Fn::GetAtt": ["Copy", "Arn"]}}}]
                    }
                },
            },
            "Copy": {"Type": "AWS::S3::Bucket", "Properties": {}},
        }
    )

    assert template_refusals(template) == []


def test_a_condition_on_the_stacks_region_is_refused():
    template = _template(
        {"Queue": _queue()},
        Conditions={"InVirginia": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}},
    )

    assert template_refusals(template) == [
        f"condition InVirginia depends on the stack's region: workspace content stays in "
        f"{CONTENT_REGION}"
    ]


def test_a_template_without_the_region_rule_or_with_another_region_in_it_is_refused():
    without = {"Resources": {"Queue": _queue()}}
    elsewhere = copy.deepcopy(_template({"Queue": _queue()}))
    elsewhere["Rules"][RULE_ID]["Assertions"][0]["Assert"]["Fn::Equals"][1] = ELSEWHERE

    for template in (without, elsewhere):
        (refused,) = template_refusals(template)
        assert f"Rules.{RULE_ID}" in refused


def test_the_region_rule_asserts_the_stacks_region_is_the_content_region():
    (assertion,) = region_rules()[RULE_ID]["Assertions"]

    assert assertion["Assert"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, CONTENT_REGION]}
    assert f"--region {CONTENT_REGION}" in assertion["AssertDescription"]


def test_a_stage_whose_config_names_another_region_or_endpoint_is_refused():
    config = {
        "environment_variables": {"AWS_REGION": ELSEWHERE},
        "stages": {
            "prod": {
                "environment_variables": {"HELPTAL_STAGE": "prod"},
                "lambda_functions": {
                    "mail_out_worker": {
                        "environment_variables": {"AWS_ENDPOINT_URL": "http://10.0.0.5:4566"}
                    }
                },
            }
        },
    }

    refused = stage_refusals("prod", config, {}, _template({}))

    assert refused == [
        f"stage prod in .chalice/config.json sets AWS_REGION='{ELSEWHERE}': workspace content "
        f"stays in {CONTENT_REGION}",
        "function mail_out_worker of stage prod in .chalice/config.json sends AWS calls to "
        f"AWS_ENDPOINT_URL='http://10.0.0.5:4566': workspace content stays in {CONTENT_REGION}",
    ]


# --- build time: the real stage ----------------------------------------------------------------


@pytest.fixture(scope="module")
def prod() -> dict:
    """What `python -m infra build --stage prod` computes (the stage's description)."""
    return describe_stage("prod")


def test_the_real_merge_template_policies_and_config_of_prod_are_accepted(prod):
    config = json.loads((Path(package.PROJECT_DIR) / ".chalice" / "config.json").read_text())
    merge_template = build_merge_template(prod)

    assert stage_refusals("prod", config, prod["policies"], merge_template) == []
    assert merge_template["Rules"] == region_rules()


def test_the_build_is_for_the_content_region_whatever_the_builders_shell_says(monkeypatch):
    monkeypatch.setenv("AWS_REGION", ELSEWHERE)
    monkeypatch.setenv("AWS_DEFAULT_REGION", ELSEWHERE)

    description = describe_stage("prod")

    policies = json.dumps(description["policies"])
    assert ELSEWHERE not in policies and f":{CONTENT_REGION}:" in policies


# --- make package --------------------------------------------------------------------------


def _chalice_writes(sam: dict):
    """A fake of the processes `infra.package` runs: chalice writes `sam` and says nothing."""
    import subprocess

    def run(command, **kwargs):
        if "chalice.cli" in " ".join(command):
            out = Path(command[-1])
            out.mkdir(parents=True)
            (out / "sam.json").write_text(json.dumps(sam))
            (out / "deployment.zip").write_bytes(b"")
        return subprocess.CompletedProcess(command, 0, stdout="", stderr="")

    return run


def test_make_package_refuses_a_packaged_template_with_a_queue_elsewhere(
    tmp_path, monkeypatch, capsys
):
    project = tmp_path / "project"
    project.mkdir()
    sam = _template(
        {
            "InboundMailQueue": _queue(),
            "Redrive": _queue(
                RedrivePolicy={"deadLetterTargetArn": f"arn:aws:sqs:{ELSEWHERE}:1:inbound-dlq"}
            ),
        }
    )
    monkeypatch.setattr(package, "PROJECT_DIR", project)
    monkeypatch.setattr(package, "_seed_chalice_cache", lambda *args: None)
    monkeypatch.setattr(package.subprocess, "run", _chalice_writes(sam))
    out = project / "build" / "package"

    status = package.main(["--stage", "prod", "--out", str(out)])

    assert status == 1
    error = capsys.readouterr().err
    assert f"workspace content must stay in {CONTENT_REGION}" in error
    assert "Resources.Redrive.Properties.RedrivePolicy.deadLetterTargetArn" in error
    assert not out.exists()  # nothing left to deploy by mistake


def test_make_package_refuses_another_region(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(package, "PROJECT_DIR", tmp_path)
    monkeypatch.setattr(package.subprocess, "run", _chalice_writes(_template({})))

    status = package.main(["--stage", "prod", "--region", ELSEWHERE, "--out", str(tmp_path / "o")])

    assert status == 1
    assert f"--region {ELSEWHERE}: workspace content stays in {CONTENT_REGION}" in (
        capsys.readouterr().err
    )
