"""The resources devstack creates from the infra template carry the deployed attributes."""

from __future__ import annotations

import json

from chalicelib.settings import get_settings
from devstack.resources import create_resources
from infra.template import (
    MAX_RECEIVE_COUNT,
    QUEUE_VISIBILITY_TIMEOUT_SECONDS,
    VISIBILITY_TIMEOUT_OVERRIDES,
)


def test_table_has_the_single_table_keys_gsi_ttl_and_point_in_time_recovery(aws):
    dynamodb = aws.client("dynamodb")
    table = dynamodb.describe_table(TableName=aws.table_name)["Table"]

    assert {(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]} == {
        ("PK", "HASH"),
        ("SK", "RANGE"),
    }
    # Every index the models query exists, with the keys they use.
    from chalicelib.store.models import Item

    indexes = {gsi["IndexName"]: gsi for gsi in table["GlobalSecondaryIndexes"]}
    assert set(indexes) == set(Item._indexes)
    for name, gsi in indexes.items():
        assert {(k["AttributeName"], k["KeyType"]) for k in gsi["KeySchema"]} == {
            (f"{name}PK", "HASH"),
            (f"{name}SK", "RANGE"),
        }
        assert gsi["Projection"]["ProjectionType"] == "ALL"
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = dynamodb.describe_time_to_live(TableName=aws.table_name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    backups = dynamodb.describe_continuous_backups(TableName=aws.table_name)
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"


def test_bucket_is_encrypted_and_blocks_all_public_access(aws):
    s3 = aws.client("s3")

    encryption = s3.get_bucket_encryption(Bucket=aws.bucket)
    (rule,) = encryption["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    block = s3.get_public_access_block(Bucket=aws.bucket)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }


def test_bucket_lets_only_the_web_clients_origin_upload_and_read(aws):
    [rule] = aws.client("s3").get_bucket_cors(Bucket=aws.bucket)["CORSRules"]
    assert rule["AllowedOrigins"] == ["https://app.helptal.test"]  # APP_BASE_URL's origin
    assert sorted(rule["AllowedMethods"]) == ["GET", "HEAD", "POST"]


def test_every_queue_redrives_to_its_own_dead_letter_queue(aws):
    sqs = aws.client("sqs")
    assert set(aws.queue_urls) == set(get_settings().queues.all())

    for logical_name, queue_url in aws.queue_urls.items():
        queue = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
        dlq_url = aws.dlq_urls[logical_name]
        dlq = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])["Attributes"]

        redrive = json.loads(queue["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"] == dlq["QueueArn"]
        assert int(redrive["maxReceiveCount"]) == MAX_RECEIVE_COUNT
        assert int(queue["VisibilityTimeout"]) == VISIBILITY_TIMEOUT_OVERRIDES.get(
            logical_name, QUEUE_VISIBILITY_TIMEOUT_SECONDS
        )
        assert dlq["QueueArn"].endswith(f"{queue['QueueArn'].rsplit(':', 1)[1]}-dlq")
        assert int(dlq["MessageRetentionPeriod"]) == 14 * 24 * 3600
        assert queue.get("SqsManagedSseEnabled") == "true"


def test_creating_the_resources_again_keeps_them_and_their_content(aws):
    dynamodb = aws.client("dynamodb")
    item = {"PK": {"S": "WS#idempotency-check"}, "SK": {"S": "WORKSPACE"}}
    dynamodb.put_item(TableName=aws.table_name, Item=item)
    try:
        again = create_resources(get_settings(), endpoint_url=aws.endpoint)

        assert again.queue_urls == aws.queue_urls
        assert again.dlq_urls == aws.dlq_urls
        stored = dynamodb.get_item(TableName=aws.table_name, Key=item)
        assert stored.get("Item") == item
    finally:
        dynamodb.delete_item(TableName=aws.table_name, Key=item)
