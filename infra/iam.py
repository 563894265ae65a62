"""One IAM role per Lambda function, allowed only what that function's code uses.

`FUNCTION_ACCESS` says, per function, which queues it sends to, which prefixes of the content
bucket it reads or writes; the queue it is triggered by comes from the app's event sources
and the secrets it reads from `chalicelib.secret_store.FUNCTION_SECRETS`. Each role writes
logs to its own log group only (the merge template fixes every function's name, so the group's
name is known before the function exists).

`python -m infra build` writes `.chalice/policy-<stage>-<function>.json` for every function;
`.chalice/config.json` names each file as the function's `iam_policy_file`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.secret_store import FUNCTION_SECRETS, SECRETS_BY_FIELD
from chalicelib.settings import Settings

API_FUNCTION = "api_handler"

# Prefixes of the content bucket (docs/data-model.md "Objects").
INBOUND_RAW = "inbound/*"
ATTACHMENTS = "ws/*/attachments/*"
KNOWLEDGE_BASE = "ws/*/kb/*"  # article images and search indexes
AVATARS = "users/*/avatar/*"  # people's avatars (a person belongs to several workspaces)
EXPORTS = "exports/*"  # data-subject export bundles (kept EXPORTS_RETENTION_DAYS)
WORKSPACE_OBJECTS = "ws/*"  # everything a workspace keeps (its deletion removes it all)
READ = ("s3:GetObject",)
# Presigned POSTs act with the signer's rights: the API signs the agents' uploads.
READ_AND_PRESIGN_UPLOADS = ("s3:GetObject", "s3:PutObject")
READ_WRITE = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")

# Every function that touches tickets may queue mail, publish events and queue AI jobs.
_TICKET_QUEUES = ("mail_out", "events", "ai_jobs")


@dataclass(frozen=True)
class FunctionAccess:
    sends_to: tuple[str, ...]  # logical queue names (Settings.queues)
    objects: dict[str, tuple[str, ...]] = field(default_factory=dict)  # prefix -> actions
    # Lists the bucket's keys: to find every object under a workspace's prefixes, and so that
    # S3 answers 404 (not 403) for an object already gone, which a removal run again meets.
    lists_objects: bool = False
    # Receives and deletes on every queue and dead-letter queue: a data-subject erasure
    # removes the messages that name the person wherever they wait (and puts a mail to others
    # that copied them back without them).
    sweeps_queues: bool = False


FUNCTION_ACCESS: dict[str, FunctionAccess] = {
    # Webhooks keep raw mail; attachment links and agents' uploads are presigned with this
    # role, and an upload's first bytes read before a reply uses it; images, indexes;
    # avatars (uploads presigned, links to them); booking changes queue their jobs.
    API_FUNCTION: FunctionAccess(
        sends_to=(
            *_TICKET_QUEUES,
            "inbound_mail",
            "booking_jobs",
            "billing_events",
            "privacy_jobs",
        ),
        objects={
            INBOUND_RAW: READ_WRITE,
            ATTACHMENTS: READ_AND_PRESIGN_UPLOADS,
            KNOWLEDGE_BASE: READ_WRITE,
            AVATARS: READ_AND_PRESIGN_UPLOADS,
            # Data-subject exports: the download links are presigned with this role.
            EXPORTS: READ,
        },
    ),
    # Reads the files a reply carries, to send them with it.
    "mail_out_worker": FunctionAccess(sends_to=_TICKET_QUEUES, objects={ATTACHMENTS: READ}),
    # Reads the raw delivery (or fetches a stored one into inbound/), keeps the attachments.
    "inbound_mail_worker": FunctionAccess(
        sends_to=_TICKET_QUEUES,
        objects={INBOUND_RAW: READ_WRITE, ATTACHMENTS: READ_WRITE, KNOWLEDGE_BASE: READ},
    ),
    # The events queue: ticket search index, knowledge-base index rebuilds, AI triage requests.
    "search_indexer": FunctionAccess(
        sends_to=_TICKET_QUEUES, objects={KNOWLEDGE_BASE: READ_WRITE, ATTACHMENTS: READ}
    ),
    "ai_jobs_worker": FunctionAccess(sends_to=_TICKET_QUEUES, objects={KNOWLEDGE_BASE: READ}),
    # Scheduled: refreshes tenants' pending help-centre hostnames at Cloudflare.
    "custom_hostnames_job": FunctionAccess(sends_to=()),
    # Scheduled: mails agents their notification digests (through the mail-out queue).
    "notification_digest_job": FunctionAccess(sends_to=("mail_out",)),
    # Booking jobs: mails (with their .ics inline), a ticket a booking opens (its events);
    # the hosts' calendars and Zoom are outside AWS.
    "booking_jobs_worker": FunctionAccess(sends_to=_TICKET_QUEUES),
    # Scheduled: booking reminders, through the mail-out queue; booking jobs whose queueing
    # was lost, queued again.
    "booking_reminders_job": FunctionAccess(sends_to=("mail_out", "booking_jobs")),
    # Billing: processor events applied (dunning mails through the mail-out queue; the
    # processors are outside AWS).
    "billing_events_worker": FunctionAccess(sends_to=("mail_out",)),
    # Scheduled: trials and grace periods that ended, with their mails.
    "billing_dunning_job": FunctionAccess(sends_to=("mail_out",)),
    # Scheduled: sub-processor change notices to owners, admins and subscribers (mail-out).
    "subprocessor_notices_job": FunctionAccess(sends_to=("mail_out",)),
    # Data-subject exports: reads a contact's raw mail and attachments, writes the bundle.
    # Erasures: delete their raw mail, attachments and bundles, remove the messages naming
    # them from every queue, and queue their own continuation.  A workspace deletion's
    # scheduled and cancelled mails to every member (through the mail-out queue).
    "privacy_jobs_worker": FunctionAccess(
        sends_to=("privacy_jobs", "mail_out"),
        objects={INBOUND_RAW: READ_WRITE, ATTACHMENTS: READ_WRITE, EXPORTS: READ_WRITE},
        lists_objects=True,
        sweeps_queues=True,
    ),
    # Scheduled: creates and renews push channels on members' busy calendars.
    "calendar_channels_job": FunctionAccess(sends_to=()),
    # The live WebSocket API: connect checks a session or a visitor token and records the
    # connection; a message subscribes (and is answered on the connection); disconnect forgets.
    "websocket_connect": FunctionAccess(sends_to=()),
    "websocket_message": FunctionAccess(sends_to=()),
    "websocket_disconnect": FunctionAccess(sends_to=()),
    # Scheduled: removes the closed tickets a workspace's retention no longer keeps, with
    # their attachments and raw mail.
    "privacy_retention_job": FunctionAccess(
        sends_to=(),
        objects={INBOUND_RAW: READ_WRITE, ATTACHMENTS: READ_WRITE},
        lists_objects=True,
    ),
    # Scheduled: deletes a workspace after its grace period: every object under its prefixes
    # (attachments, images, indexes, exports) and the raw mail it held; ending its
    # subscription mails the owners; calendar push channels stopped at the providers.
    "workspace_deletion_job": FunctionAccess(
        sends_to=("mail_out",),
        objects={INBOUND_RAW: READ_WRITE, WORKSPACE_OBJECTS: READ_WRITE, EXPORTS: READ_WRITE},
        lists_objects=True,
    ),
}

# Functions that post to the live WebSocket API's connections: `execute-api:ManageConnections`
# on that API only, granted by the merge template (`infra.template.live_push_resources`: the
# API's id is known once it is created). The API answers agents and visitors; the workers
# push the bot's answers and replies that arrive by mail; the events consumer tells the
# inbox of every ticket event.
LIVE_PUSHERS = frozenset(
    {API_FUNCTION, "websocket_message", "ai_jobs_worker", "inbound_mail_worker", "search_indexer"}
    | {"booking_jobs_worker"}  # a ticket a booking opens tells the inbox
)

# Functions that seal or open members' calendar refresh tokens (KMS envelope encryption,
# chalicelib/store/token_vault.py): the API (connect, busy times, disconnect), the booking
# jobs worker (events on hosts' calendars) and the calendar channels job.  Granted on the key
# its alias names only (`kms:ResourceAliases`: the key's id is known once it exists).
CALENDAR_TOKEN_USERS = frozenset(
    {API_FUNCTION, "booking_jobs_worker", "calendar_channels_job"}
    | {"workspace_deletion_job"}  # stops the push channels of a deleted workspace's calendars
)
_CALENDAR_TOKEN_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]

_RECEIVE = (
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
)
_TABLE_ACTIONS = [
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
]


def function_name(settings: Settings, function: str) -> str:
    """The deployed Lambda function's name (the merge template sets it; chalice deploy's too)."""
    app = "helptal"
    stage_prefix = f"{app}-{settings.stage}"
    return stage_prefix if function == API_FUNCTION else f"{stage_prefix}-{function}"


def log_group_name(settings: Settings, function: str) -> str:
    return f"/aws/lambda/{function_name(settings, function)}"


def secrets_path(settings: Settings) -> str:
    """The parameter path of a stage's secrets (`SECRETS_PATH`, e.g. `/helptal/prod`)."""
    return (settings.secrets_path or f"/helptal/{settings.stage}").rstrip("/")


def parameter_arn(settings: Settings, parameter: str) -> str:
    return f"arn:aws:ssm:{settings.region}:*:parameter{secrets_path(settings)}/{parameter}"


def function_policy(settings: Settings, function: str, trigger_queue: str | None) -> dict[str, Any]:
    """The IAM policy of one function's role."""
    if function not in FUNCTION_ACCESS or function not in FUNCTION_SECRETS:
        raise KeyError(
            f"function {function!r} has no access entry: add it to infra.iam.FUNCTION_ACCESS "
            "and chalicelib.secret_store.FUNCTION_SECRETS"
        )
    access = FUNCTION_ACCESS[function]
    region = settings.region
    table_arn = f"arn:aws:dynamodb:{region}:*:table/{settings.table_name}"
    bucket_arn = f"arn:aws:s3:::{settings.content_bucket}"
    queue_names = settings.queues.all()
    log_group = f"arn:aws:logs:{region}:*:log-group:{log_group_name(settings, function)}"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "OwnLogGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [log_group, f"{log_group}:*"],
        },
        {
            "Sid": "Table",
            "Effect": "Allow",
            "Action": _TABLE_ACTIONS,
            "Resource": [table_arn, f"{table_arn}/index/*"],
        },
    ]
    by_actions: dict[tuple[str, ...], list[str]] = {}
    for prefix, actions in sorted(access.objects.items()):
        by_actions.setdefault(actions, []).append(f"{bucket_arn}/{prefix}")
    for number, (actions, resources) in enumerate(sorted(by_actions.items()), start=1):
        statements.append(
            {
                "Sid": f"ContentObjects{number}",
                "Effect": "Allow",
                "Action": list(actions),
                "Resource": resources,
            }
        )
    if access.lists_objects:
        statements.append(
            {
                "Sid": "ListContentObjects",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [bucket_arn],
            }
        )
    if access.sends_to:
        statements.append(
            {
                "Sid": "SendToQueues",
                "Effect": "Allow",
                "Action": ["sqs:GetQueueUrl", "sqs:SendMessage"],
                "Resource": [
                    f"arn:aws:sqs:{region}:*:{queue_names[name]}" for name in access.sends_to
                ],
            }
        )
    if trigger_queue is not None:
        statements.append(
            {
                "Sid": "ReadOwnQueue",
                "Effect": "Allow",
                "Action": [*_RECEIVE, "sqs:GetQueueUrl"],
                "Resource": [f"arn:aws:sqs:{region}:*:{trigger_queue}"],
            }
        )
    if access.sweeps_queues:
        statements.append(
            {
                "Sid": "SweepEveryQueue",
                "Effect": "Allow",
                # SendMessage: a mail to others that copied the person goes back without them.
                "Action": [*_RECEIVE, "sqs:GetQueueUrl", "sqs:SendMessage"],
                "Resource": [
                    f"arn:aws:sqs:{region}:*:{name}{suffix}"
                    for name in queue_names.values()
                    for suffix in ("", "-dlq")
                ],
            }
        )
    secrets = sorted(FUNCTION_SECRETS[function])
    if secrets:
        statements.append(
            {
                "Sid": "OwnSecrets",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter", "ssm:GetParameters"],
                "Resource": [
                    parameter_arn(settings, SECRETS_BY_FIELD[name].parameter) for name in secrets
                ],
            }
        )
        statements.append(
            {
                "Sid": "DecryptSecretsThroughSsm",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": f"ssm.{region}.amazonaws.com"}},
            }
        )
    if function in CALENDAR_TOKEN_USERS:
        statements.append(
            {
                "Sid": "CalendarTokensKey",
                "Effect": "Allow",
                "Action": _CALENDAR_TOKEN_ACTIONS,
                "Resource": f"arn:aws:kms:{region}:*:key/*",
                "Condition": {
                    "ForAnyValue:StringEquals": {
                        "kms:ResourceAliases": f"alias/{settings.resource_prefix}-calendar-tokens"
                    }
                },
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def function_policies(
    settings: Settings, event_sources: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Function name -> policy, for the API and every worker and scheduled job of the app."""
    triggers: dict[str, str | None] = {API_FUNCTION: None}
    for source in event_sources:
        triggers[source["name"]] = source.get("queue") if source["kind"] == "sqs" else None
    return {
        function: function_policy(settings, function, queue)
        for function, queue in sorted(triggers.items())
    }
