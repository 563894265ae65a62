"""`chalice package` with the infra merge template yields a deployable, safe stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.template import PROJECT_DIR, build_merge_template, describe_stage

STAGE = "prod"


@pytest.fixture(scope="module")
def sam(tmp_path_factory) -> dict:
    """The SAM template `make package` produces for prod (packaging takes a few seconds)."""
    workdir = tmp_path_factory.mktemp("package")
    description = describe_stage(STAGE)
    merge_path = workdir / "merge.json"
    merge_path.write_text(
        json.dumps(build_merge_template(description["resources"], description["event_sources"]))
    )
    env = {**os.environ, "AWS_DEFAULT_REGION": "ap-southeast-1"}
    packaging = subprocess.run(
        [
            str(Path(sys.executable).parent / "chalice"),
            "package",
            "--stage",
            STAGE,
            "--merge-template",
            str(merge_path),
            str(workdir / "package"),
        ],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert packaging.returncode == 0, packaging.stdout + packaging.stderr
    return json.loads((workdir / "package" / "sam.json").read_text())


def _resources_of_type(sam: dict, kind: str) -> dict[str, dict]:
    return {rid: r for rid, r in sam["Resources"].items() if r["Type"] == kind}


def test_table_expires_items_on_expires_at_and_keeps_point_in_time_recovery(sam):
    (table,) = _resources_of_type(sam, "AWS::DynamoDB::Table").values()
    properties = table["Properties"]

    assert properties["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }
    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    from chalicelib.store.models import Item

    indexes = [index["IndexName"] for index in properties["GlobalSecondaryIndexes"]]
    assert sorted(indexes) == sorted(Item._indexes)


def test_content_bucket_is_encrypted_and_never_public(sam):
    (bucket,) = _resources_of_type(sam, "AWS::S3::Bucket").values()
    properties = bucket["Properties"]

    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }


def test_every_queue_redrives_to_a_dead_letter_queue(sam):
    queues = _resources_of_type(sam, "AWS::SQS::Queue")
    work_queues = {
        rid: q for rid, q in queues.items() if not q["Properties"]["QueueName"].endswith("-dlq")
    }
    assert work_queues

    for queue in work_queues.values():
        redrive = queue["Properties"]["RedrivePolicy"]
        dlq_id, attribute = redrive["deadLetterTargetArn"]["Fn::GetAtt"]
        assert attribute == "Arn"
        dlq = queues[dlq_id]["Properties"]
        assert dlq["QueueName"] == f"{queue['Properties']['QueueName']}-dlq"
        assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600
        assert redrive["maxReceiveCount"] == 5


def test_each_queue_stays_invisible_six_times_as_long_as_its_worker_may_run(sam):
    """AWS's advice for Lambda event sources: a visibility timeout of 6x the function's."""
    queues = {
        q["Properties"]["QueueName"]: q["Properties"]
        for q in _resources_of_type(sam, "AWS::SQS::Queue").values()
    }
    checked = 0
    for function in _resources_of_type(sam, "AWS::Serverless::Function").values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] != "SQS":
                continue
            queue = queues[event["Properties"]["Queue"]["Fn::Sub"].rsplit(":", 1)[1]]
            assert queue["VisibilityTimeout"] >= 6 * function["Properties"]["Timeout"]
            checked += 1
    assert checked >= 4  # mail out, mail in, events, AI jobs


def test_every_sqs_event_source_reports_batch_item_failures(sam):
    functions = _resources_of_type(sam, "AWS::Serverless::Function")
    sqs_events = [
        (function_id, event)
        for function_id, function in functions.items()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "SQS"
    ]
    assert sqs_events, "the app has at least the mail-out worker"
    queue_names = {
        q["Properties"]["QueueName"] for q in _resources_of_type(sam, "AWS::SQS::Queue").values()
    }

    for function_id, event in sqs_events:
        assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        queue_arn = event["Properties"]["Queue"]["Fn::Sub"]
        assert queue_arn.rsplit(":", 1)[1] in queue_names, function_id


def test_functions_get_the_configured_memory_and_timeouts(sam):
    functions = _resources_of_type(sam, "AWS::Serverless::Function")

    assert functions["APIHandler"]["Properties"]["MemorySize"] == 512
    assert functions["APIHandler"]["Properties"]["Timeout"] == 29
    assert functions["MailOutWorker"]["Properties"]["MemorySize"] == 256
    assert functions["MailOutWorker"]["Properties"]["Timeout"] == 30
    variables = functions["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert variables["RESOURCE_PREFIX"] == "helptal-prod"


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_committed_iam_policy_matches_the_stage_resources(stage):
    committed = json.loads((PROJECT_DIR / ".chalice" / f"policy-{stage}.json").read_text())

    assert committed == describe_stage(stage)["policy"]
