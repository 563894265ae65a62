"""Create the stage's resources on any AWS endpoint (moto, LocalStack), idempotently.

The resources are read from the same CloudFormation that `infra.template` merges into the
deployed stack, so the local table, bucket and queues carry the deployed attributes: GSI,
TTL, point-in-time recovery, encryption, public-access block, dead-letter redrive.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError

from chalicelib.settings import Settings, get_settings
from infra.template import (
    build_resource_template,
    dead_letter_queue_id,
    queue_id,
)


@dataclass(frozen=True)
class LocalResources:
    """Where the created resources live; queue URLs are keyed by logical queue name."""

    endpoint: str | None
    region: str
    table_name: str
    bucket: str
    queue_urls: dict[str, str] = field(default_factory=dict)
    dlq_urls: dict[str, str] = field(default_factory=dict)


def _session_clients(endpoint: str | None, region: str) -> dict[str, Any]:
    session = boto3.session.Session(region_name=region)
    return {name: session.client(name, endpoint_url=endpoint) for name in ("dynamodb", "s3", "sqs")}


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def create_table(dynamodb: Any, properties: dict[str, Any]) -> None:
    """Create the table (or keep the existing one), then turn on TTL and PITR."""
    table_name = properties["TableName"]
    create_args: dict[str, Any] = {
        "TableName": table_name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties["BillingMode"],
    }
    if properties.get("GlobalSecondaryIndexes"):
        create_args["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
    if properties.get("SSESpecification", {}).get("SSEEnabled"):
        create_args["SSESpecification"] = {"Enabled": True}
    try:
        dynamodb.create_table(**create_args)
    except ClientError as e:
        if _error_code(e) != "ResourceInUseException":
            raise
    dynamodb.get_waiter("table_exists").wait(
        TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )

    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        current = dynamodb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            dynamodb.update_time_to_live(
                TableName=table_name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
    pitr = properties.get("PointInTimeRecoverySpecification", {})
    if pitr.get("PointInTimeRecoveryEnabled"):
        dynamodb.update_continuous_backups(
            TableName=table_name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )


def create_bucket(
    s3: Any, properties: dict[str, Any], region: str, app_origin: str | None = None
) -> None:
    """Create the bucket (or keep it), then apply encryption, public-access block, CORS (for
    `app_origin`, the local web client, instead of the template's parameter) and lifecycle."""
    bucket = properties["BucketName"]
    create_args: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        create_args["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**create_args)
    except ClientError as e:
        if _error_code(e) != "BucketAlreadyOwnedByYou":
            raise

    encryption = properties.get("BucketEncryption")
    if encryption:
        rules = [
            {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
            for rule in encryption["ServerSideEncryptionConfiguration"]
        ]
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": rules})
    public_access_block = properties.get("PublicAccessBlockConfiguration")
    if public_access_block:
        s3.put_public_access_block(
            Bucket=bucket, PublicAccessBlockConfiguration=public_access_block
        )
    cors = properties.get("CorsConfiguration")
    if cors and app_origin:
        rules = [
            {
                "ID": rule["Id"],
                "AllowedOrigins": [app_origin],
                "AllowedMethods": rule["AllowedMethods"],
                "AllowedHeaders": rule["AllowedHeaders"],
                "ExposeHeaders": rule["ExposedHeaders"],
                "MaxAgeSeconds": rule["MaxAge"],
            }
            for rule in cors["CorsRules"]
        ]
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    lifecycle = properties.get("LifecycleConfiguration")
    if lifecycle:
        rules = [
            {
                "ID": rule["Id"],
                "Filter": {"Prefix": rule.get("Prefix", "")},
                "Status": rule["Status"],
                "Expiration": {"Days": rule["ExpirationInDays"]},
            }
            for rule in lifecycle["Rules"]
        ]
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={"Rules": rules}
        )


def create_queue(sqs: Any, properties: dict[str, Any], arns_by_id: dict[str, str]) -> str:
    """Create the queue with the template's attributes (or update them); returns its URL.

    `arns_by_id` resolves `Fn::GetAtt [<id>, Arn]` in the redrive policy.
    """
    attributes: dict[str, str] = {}
    for name, value in properties.items():
        if name == "QueueName":
            continue
        if name == "RedrivePolicy":
            target = value["deadLetterTargetArn"]
            if isinstance(target, dict):
                target = arns_by_id[target["Fn::GetAtt"][0]]
            value = json.dumps(
                {"deadLetterTargetArn": target, "maxReceiveCount": value["maxReceiveCount"]}
            )
        elif isinstance(value, bool):
            value = "true" if value else "false"
        attributes[name] = str(value)
    try:
        queue_url: str = sqs.create_queue(QueueName=properties["QueueName"], Attributes=attributes)[
            "QueueUrl"
        ]
    except ClientError as e:
        if _error_code(e) not in ("QueueAlreadyExists", "QueueNameExists"):
            raise
        queue_url = sqs.get_queue_url(QueueName=properties["QueueName"])["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes=attributes)
    return queue_url


def create_kms_key(kms: Any, properties: dict[str, Any], alias: str) -> str:
    """The key its alias names (made, with the alias, when there is none); returns its id."""
    try:
        return str(kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"])
    except ClientError as e:
        if _error_code(e) != "NotFoundException":
            raise
    key_id = str(
        kms.create_key(
            Description=properties["Description"],
            KeyUsage=properties["KeyUsage"],
            KeySpec=properties["KeySpec"],
        )["KeyMetadata"]["KeyId"]
    )
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    return key_id


def _queue_arn(sqs: Any, queue_url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def _depends_on_queue(properties: dict[str, Any]) -> bool:
    target = properties.get("RedrivePolicy", {}).get("deadLetterTargetArn")
    return isinstance(target, dict)


def create_resources(
    settings: Settings | None = None, *, endpoint_url: str | None = None
) -> LocalResources:
    """Create every resource of `infra.template` for `settings` on `endpoint_url`.

    Safe to run again: existing resources are kept and their attributes re-applied.
    `endpoint_url` defaults to boto3's own choice (`AWS_ENDPOINT_URL`).
    """
    settings = settings or get_settings()
    template = build_resource_template(settings)
    clients = _session_clients(endpoint_url, settings.region)
    resources: dict[str, dict[str, Any]] = template["Resources"]

    queue_ids = [rid for rid, r in resources.items() if r["Type"] == "AWS::SQS::Queue"]
    # Dead-letter queues first: the queues' redrive policies need their ARNs.
    queue_ids.sort(key=lambda rid: _depends_on_queue(resources[rid]["Properties"]))
    urls_by_id: dict[str, str] = {}
    arns_by_id: dict[str, str] = {}
    for resource_id, resource in resources.items():
        kind = resource["Type"]
        if kind == "AWS::DynamoDB::Table":
            create_table(clients["dynamodb"], resource["Properties"])
        elif kind == "AWS::S3::Bucket":
            create_bucket(clients["s3"], resource["Properties"], settings.region, _origin(settings))
        elif kind == "AWS::KMS::Key":
            alias = next(
                r["Properties"]["AliasName"]
                for r in resources.values()
                if r["Type"] == "AWS::KMS::Alias"
                and r["Properties"]["TargetKeyId"] == {"Ref": resource_id}
            )
            create_kms_key(
                boto3.session.Session(region_name=settings.region).client(
                    "kms", endpoint_url=endpoint_url
                ),
                resource["Properties"],
                alias,
            )
        elif kind == "AWS::KMS::Alias":
            continue  # made with its key
        elif kind != "AWS::SQS::Queue":
            raise NotImplementedError(f"devstack cannot create {kind} ({resource_id}) yet")
    for resource_id in queue_ids:
        url = create_queue(clients["sqs"], resources[resource_id]["Properties"], arns_by_id)
        urls_by_id[resource_id] = url
        arns_by_id[resource_id] = _queue_arn(clients["sqs"], url)

    logical_names = settings.queues.all()
    return LocalResources(
        endpoint=endpoint_url or clients["sqs"].meta.endpoint_url,
        region=settings.region,
        table_name=settings.table_name,
        bucket=settings.content_bucket,
        queue_urls={name: urls_by_id[queue_id(name)] for name in logical_names},
        dlq_urls={name: urls_by_id[dead_letter_queue_id(name)] for name in logical_names},
    )


def _origin(settings: Settings) -> str | None:
    """scheme://host[:port] of the stage's APP_BASE_URL (None when it has none)."""
    from urllib.parse import urlsplit

    url = urlsplit(settings.app_base_url)
    return f"{url.scheme}://{url.netloc}" if url.scheme and url.netloc else None
