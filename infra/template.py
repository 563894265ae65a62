"""CloudFormation for a Helptal stage, built from the stage's settings.

Three products, all plain dicts:

- `build_resource_template(settings)`: the table, the content bucket and every queue with its
  dead-letter queue. `devstack.resources` creates exactly these on moto or LocalStack.
- `build_function_overrides(event_sources, resources)`: per-function patches merged into the SAM
  template chalice generates: ReportBatchItemFailures on every SQS event source and a
  DependsOn so a function is created after the queue it reads.
- `build_merge_template(description)`: all of it plus `infra.deployment` (template parameters,
  function names and settings, log groups, the API's custom domain) and `infra.web_hosting`
  (the web client's bucket and distribution), and `infra.residency`'s rule refusing a deploy
  outside the content region.

Each function's IAM policy comes from `infra.iam` (`.chalice/policy-<stage>-<function>.json`;
chalice cannot see pynamodb's calls, so autogen is off). `describe_stage(stage)` computes all
of it for a stage of `.chalice/config.json` in a child process, so the stage's environment
variables never leak into the caller's settings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from chalice.utils import to_cfn_resource_name

from chalicelib.privacy.residency import CONTENT_REGION, REGION_VARIABLES
from chalicelib.settings import Settings
from chalicelib.store.queues import MAX_RECEIVE_COUNT
from infra import deployment as infra_deployment
from infra import residency, web_hosting

PROJECT_DIR = Path(__file__).resolve().parent.parent
CHALICE_CONFIG = PROJECT_DIR / ".chalice" / "config.json"

TABLE_ID = "HelptalTable"
BUCKET_ID = "ContentBucket"
TTL_ATTRIBUTE = "expires_at"
# A worker function times out after 30 s; AWS asks for a visibility timeout of 6x that.
QUEUE_VISIBILITY_TIMEOUT_SECONDS = 180
# The AI-jobs worker may wait on a model for up to two calls (150 s): 6x that. The inbound-mail
# worker may download a stored 25 MB message from Mailgun (120 s): 6x that.
VISIBILITY_TIMEOUT_OVERRIDES = {"ai_jobs": 900, "inbound_mail": 720}
# The booking-jobs worker calls Zoom and each host's calendar (60 s): 6x that.
VISIBILITY_TIMEOUT_OVERRIDES["booking_jobs"] = 360
# The billing-events worker may wait on TapPay (30 s, as TapPay asks) and Stripe (90 s): 6x that.
VISIBILITY_TIMEOUT_OVERRIDES["billing_events"] = 540
# The privacy-jobs worker builds a data-subject export or runs an erasure (900 s): 6x that.
VISIBILITY_TIMEOUT_OVERRIDES["privacy_jobs"] = 5400
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
EXPORTS_RETENTION_DAYS = 30
# Records of stored inbound messages that were never fetched (chalicelib/mail/intake_queue.py
# REFUSED_PREFIX): for operators to look into, then gone with what they name.
REFUSED_INBOUND_RETENTION_DAYS = 30
# GSI1: a user's memberships and the ticket feed; GSI2-4: ticket views (docs/data-model.md).
INDEXES = (1, 2, 3, 4, 5)

Template = dict[str, Any]


def queue_id(logical_name: str) -> str:
    """CloudFormation logical id of the queue with this logical (settings) name."""
    return f"{to_cfn_resource_name(logical_name)}Queue"


def dead_letter_queue_id(logical_name: str) -> str:
    return f"{to_cfn_resource_name(logical_name)}DeadLetterQueue"


def dead_letter_queue_name(queue_name: str) -> str:
    return f"{queue_name}-dlq"


def _table(settings: Settings) -> Template:
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "TableName": settings.table_name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": name, "AttributeType": "S"}
                for name in ("PK", "SK", *(f"GSI{n}{k}" for n in INDEXES for k in ("PK", "SK")))
            ],
            "KeySchema": [
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": f"GSI{n}",
                    "KeySchema": [
                        {"AttributeName": f"GSI{n}PK", "KeyType": "HASH"},
                        {"AttributeName": f"GSI{n}SK", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
                for n in INDEXES
            ],
            "TimeToLiveSpecification": {"AttributeName": TTL_ATTRIBUTE, "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
        },
    }


# scheme://host of the AppBaseUrl parameter (the web client's origin).
_APP_URL_PARTS = {"Fn::Split": ["/", {"Ref": "AppBaseUrl"}]}
APP_ORIGIN = {
    "Fn::Join": [
        "",
        [{"Fn::Select": [0, _APP_URL_PARTS]}, "//", {"Fn::Select": [2, _APP_URL_PARTS]}],
    ]
}


def _bucket(settings: Settings) -> Template:
    return {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketName": settings.content_bucket,
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            # The web client uploads (presigned POST) and reads (presigned GET) from its own
            # origin only; devstack puts the local app's origin in its place.
            "CorsConfiguration": {
                "CorsRules": [
                    {
                        "Id": "web-client",
                        "AllowedOrigins": [APP_ORIGIN],
                        "AllowedMethods": ["GET", "HEAD", "POST"],
                        "AllowedHeaders": ["*"],
                        "ExposedHeaders": ["ETag"],
                        "MaxAge": 3000,
                    }
                ]
            },
            "LifecycleConfiguration": {
                "Rules": [
                    {
                        "Id": "expire-exports",
                        "Prefix": "exports/",
                        "Status": "Enabled",
                        "ExpirationInDays": EXPORTS_RETENTION_DAYS,
                    },
                    {
                        "Id": "expire-refused-inbound",
                        "Prefix": "inbound/refused/",
                        "Status": "Enabled",
                        "ExpirationInDays": REFUSED_INBOUND_RETENTION_DAYS,
                    },
                ]
            },
        },
    }


def _queues(settings: Settings) -> Template:
    resources: Template = {}
    for logical_name, queue_name in settings.queues.all().items():
        dlq_id = dead_letter_queue_id(logical_name)
        resources[dlq_id] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": dead_letter_queue_name(queue_name),
                "MessageRetentionPeriod": DLQ_RETENTION_SECONDS,
                "SqsManagedSseEnabled": True,
            },
        }
        resources[queue_id(logical_name)] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": queue_name,
                "VisibilityTimeout": VISIBILITY_TIMEOUT_OVERRIDES.get(
                    logical_name, QUEUE_VISIBILITY_TIMEOUT_SECONDS
                ),
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
                    "maxReceiveCount": MAX_RECEIVE_COUNT,
                },
            },
        }
    return resources


def build_resource_template(settings: Settings) -> Template:
    """The stateful resources of a stage: table, content bucket, queues and their DLQs."""
    resources: Template = {TABLE_ID: _table(settings), BUCKET_ID: _bucket(settings)}
    resources.update(_queues(settings))
    resources.update(calendar_tokens_key(settings))
    outputs: Template = {
        "TableName": {"Value": {"Ref": TABLE_ID}},
        "ContentBucketName": {"Value": {"Ref": BUCKET_ID}},
    }
    for logical_name in settings.queues.all():
        outputs[f"{to_cfn_resource_name(logical_name)}QueueUrl"] = {
            "Value": {"Ref": queue_id(logical_name)}
        }
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources, "Outputs": outputs}


# The KMS key sealing members' calendar refresh tokens (envelope encryption, see
# chalicelib/store/token_vault.py), addressed by its alias (settings.calendar_tokens_key).
CALENDAR_TOKENS_KEY_ID = "CalendarTokensKey"
CALENDAR_TOKENS_ALIAS_ID = "CalendarTokensKeyAlias"


def calendar_tokens_alias(settings: Settings) -> str:
    return f"alias/{settings.resource_prefix}-calendar-tokens"


def calendar_tokens_key(settings: Settings) -> Template:
    """The key (rotated yearly, kept when the stack goes) and its alias.  The account
    administers it; the functions that seal or open tokens are granted by `infra.iam`."""
    return {
        CALENDAR_TOKENS_KEY_ID: {
            "Type": "AWS::KMS::Key",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "Description": "Seals members' calendar refresh tokens (Helptal booking)",
                "EnableKeyRotation": True,
                "KeySpec": "SYMMETRIC_DEFAULT",
                "KeyUsage": "ENCRYPT_DECRYPT",
                "KeyPolicy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AccountAdministers",
                            "Effect": "Allow",
                            "Principal": {
                                "AWS": {
                                    "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
                                }
                            },
                            "Action": "kms:*",
                            "Resource": "*",
                        }
                    ],
                },
            },
        },
        CALENDAR_TOKENS_ALIAS_ID: {
            "Type": "AWS::KMS::Alias",
            "Properties": {
                "AliasName": calendar_tokens_alias(settings),
                "TargetKeyId": {"Ref": CALENDAR_TOKENS_KEY_ID},
            },
        },
    }


# /tmp of the functions that need more than Lambda's 512 MB: the privacy jobs write a
# data-subject export's ZIP (a whole workspace's files included) there before uploading it.
EPHEMERAL_STORAGE_MB = {"privacy_jobs_worker": 10240}


def build_function_overrides(
    event_sources: list[dict[str, Any]], resource_template: Template
) -> Template:
    """Patches for chalice's generated functions, one per SQS event source of the app.

    chalice names a function's resource after its handler name (CamelCase) and the SQS event
    `<Function>SqsEventSource`; the patches use the same names so the deep merge lands on them.
    """
    queue_ids_by_name = {
        resource["Properties"]["QueueName"]: resource_id
        for resource_id, resource in resource_template["Resources"].items()
        if resource["Type"] == "AWS::SQS::Queue"
    }
    overrides: Template = {}
    for source in event_sources:
        if source["kind"] != "sqs":
            continue
        function_id = to_cfn_resource_name(source["name"])
        patch: Template = {
            "Properties": {
                "Events": {
                    f"{function_id}SqsEventSource": {
                        "Properties": {"FunctionResponseTypes": ["ReportBatchItemFailures"]}
                    }
                }
            }
        }
        if source["name"] in EPHEMERAL_STORAGE_MB:
            patch["Properties"]["EphemeralStorage"] = {"Size": EPHEMERAL_STORAGE_MB[source["name"]]}
        queue_resource_id = queue_ids_by_name.get(source.get("queue") or "")
        if queue_resource_id is not None:
            patch["DependsOn"] = [queue_resource_id]
        overrides[function_id] = patch
    return overrides


def build_merge_template(description: dict[str, Any]) -> Template:
    """The template given to `chalice package --merge-template`, from `describe_stage`."""
    resource_template = description["resources"]
    deployment = description["deployment"]
    merged = json.loads(json.dumps(resource_template))
    merged["Rules"] = residency.region_rules()
    merged["Parameters"] = infra_deployment.parameters()
    merged["Conditions"] = dict(infra_deployment.CONDITIONS)
    patches, log_groups = infra_deployment.function_overrides(
        deployment["function_names"], deployment["secrets_path"]
    )
    sqs_patches = build_function_overrides(description["event_sources"], resource_template)
    for resource_id, patch in sqs_patches.items():
        patches.setdefault(resource_id, {"Properties": {}})
        patches[resource_id]["Properties"].update(patch["Properties"])
        patches[resource_id]["DependsOn"] = patches[resource_id].get("DependsOn", []) + patch.get(
            "DependsOn", []
        )
    domain_resources, api_patch, domain_outputs = infra_deployment.custom_domain()
    dead_letter_queues = sorted(
        resource_id
        for resource_id in resource_template["Resources"]
        if resource_id.endswith("DeadLetterQueue")
    )
    merged["Resources"].update(
        infra_deployment.alarms(dead_letter_queues, deployment["function_names"])
    )
    merged["Resources"].update(log_groups)
    merged["Resources"].update(domain_resources)
    merged["Resources"].update(patches)
    merged["Resources"][infra_deployment.API_ID] = api_patch
    merged["Outputs"].update(domain_outputs)
    web_resources, web_outputs = web_hosting.resources()
    merged["Parameters"].update(web_hosting.parameters())
    merged["Conditions"].update(web_hosting.CONDITIONS)
    merged["Resources"].update(web_resources)
    merged["Outputs"].update(web_outputs)
    if any(source["kind"] == "websocket" for source in description["event_sources"]):
        live_policy, live_variables = live_push_resources(deployment["function_names"])
        merged["Resources"].update(live_policy)
        for resource_id, variables in live_variables.items():
            merged["Resources"][resource_id]["Properties"]["Environment"]["Variables"].update(
                variables
            )
    return merged


# chalice's ids for the WebSocket API and its stage in the SAM template.
WEBSOCKET_API_ID = "WebsocketAPI"
WEBSOCKET_STAGE_ID = "WebsocketAPIStage"
LIVE_PUSH_POLICY_ID = "LivePushPolicy"


def live_push_resources(functions: dict[str, str]) -> tuple[Template, dict[str, Template]]:
    """(the policy letting `infra.iam.LIVE_PUSHERS` post to the live WebSocket API's
    connections, that API's only; `LIVE_CALLBACK_URL` per function resource id).

    The message function answers on the API its event came through: giving it the URL
    would make it depend on the stage, which depends on it."""
    from infra.iam import API_FUNCTION, LIVE_PUSHERS

    pushers = sorted(function for function in functions if function in LIVE_PUSHERS)
    connections = (
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
        f"${{{WEBSOCKET_API_ID}}}/${{{WEBSOCKET_STAGE_ID}}}/POST/@connections/*"
    )
    policy: Template = {
        LIVE_PUSH_POLICY_ID: {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": "live-push",
                "Roles": [{"Ref": f"{to_cfn_resource_name(function)}Role"} for function in pushers],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "PostToLiveConnections",
                            "Effect": "Allow",
                            "Action": ["execute-api:ManageConnections"],
                            "Resource": {"Fn::Sub": connections},
                        }
                    ],
                },
            },
        }
    }
    callback_url = {
        "Fn::Sub": f"https://${{{WEBSOCKET_API_ID}}}.execute-api.${{AWS::Region}}"
        f".${{AWS::URLSuffix}}/${{{WEBSOCKET_STAGE_ID}}}"
    }
    variables = {
        infra_deployment.function_resource_id(function): {"LIVE_CALLBACK_URL": callback_url}
        for function in pushers
        if not function.startswith("websocket_")
    }
    # The URL clients connect to, which the API hands them (`GET /v1/live`, the widget's config).
    websocket_url = {
        "Fn::Sub": f"wss://${{{WEBSOCKET_API_ID}}}.execute-api.${{AWS::Region}}"
        f".${{AWS::URLSuffix}}/${{{WEBSOCKET_STAGE_ID}}}"
    }
    api = infra_deployment.function_resource_id(API_FUNCTION)
    if api in variables:
        variables[api]["LIVE_WEBSOCKET_URL"] = websocket_url
    return policy, variables


def stage_environment(stage: str, config_path: Path = CHALICE_CONFIG) -> dict[str, str]:
    """The environment variables `.chalice/config.json` gives a stage (top level + stage)."""
    config = json.loads(config_path.read_text())
    if stage not in config.get("stages", {}):
        raise KeyError(f"stage {stage!r} is not defined in {config_path}")
    env = dict(config.get("environment_variables", {}))
    env.update(config["stages"][stage].get("environment_variables", {}))
    return env


def describe_stage(stage: str) -> dict[str, Any]:
    """Resource template, event sources and IAM policy of `stage`, as `infra.describe` prints.

    Runs in a child process with the stage's environment (as `chalice package` does), so the
    app's queue names resolve to the stage's names. The region is the content region, whatever
    the builder's shell says (the stage's variables could name another: `infra.residency`
    refuses that).
    """
    env = dict(os.environ)
    env.update(dict.fromkeys(REGION_VARIABLES, CONTENT_REGION))
    env.update(stage_environment(stage))
    output = subprocess.run(
        [sys.executable, "-m", "infra.describe"],
        cwd=PROJECT_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    description: dict[str, Any] = json.loads(output)
    return description
