"""Privacy-jobs worker: builds a data-subject export's bundle into the content bucket
(chalicelib/privacy/exports.py `build_export`), runs data-subject erasures
(chalicelib/privacy/erasure.py `run_erasure`), and mails a workspace's members that its
deletion was scheduled or cancelled (chalicelib/privacy/workspace_deletion.py
`mail_members`).  A run that fails fails the record, so SQS retries it (an export is
rebuilt from the start, its object overwritten; an erasure carries on from its last
recorded step; the members' mails go only to those not yet mailed) and finally moves it to
the dead-letter queue; a ready export's or a done erasure's job does nothing, and so does a
second delivery of an erasure's job while the first runs.  An erasure run stops taking
steps `RESERVE_SECONDS` before the function's timeout and queues its continuation.  A
message that is no job (not a JSON object, or a job without its ids) is logged and dropped:
it never will be one."""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib import bootstrap
from chalicelib.observability import logger
from chalicelib.settings import get_settings
from chalicelib.workers.batches import each_record

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from chalicelib.privacy.workspace_deletion import MembersMail

# Time kept back for the step under way and the continuation (a step is a page of work).
RESERVE_SECONDS = 90

privacy_jobs_bp = Blueprint(__name__)


def _run_one(record: SQSRecord, deadline: float | None = None) -> None:
    import json

    from chalicelib.store.privacy_erasure_repo import MalformedJob, erasure_job
    from chalicelib.store.workspace_deletion_repo import members_mail_job

    try:
        body = json.loads(record.body)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        logger.warning("privacy job dropped: not a JSON object", extra={"id": record.message_id})
        return
    try:
        erasure = erasure_job(body)
        members_mail = members_mail_job(body)
    except MalformedJob as e:
        logger.warning("privacy job dropped", extra={"id": record.message_id, "reason": str(e)})
        return
    if erasure is not None:
        _erase(record, *erasure, deadline=deadline)
    elif members_mail is not None:
        _mail_members(record, members_mail)
    else:
        _export(record)


def _mail_members(record: SQSRecord, job: MembersMail) -> None:
    from chalicelib.privacy.workspace_deletion import mail_members

    logger.append_keys(workspace_id=job.workspace_id, correlation_id=record.message_id)
    queued = mail_members(bootstrap.workspace_deletion_deps(), job)
    logger.info(
        "workspace deletion mails queued",
        extra={"deletion_id": job.deletion_id, "mail": job.kind, "queued": queued},
    )


def _erase(
    record: SQSRecord, workspace_id: str, erasure_id: str, deadline: float | None = None
) -> None:
    from chalicelib.privacy.erasure import run_erasure

    logger.append_keys(
        workspace_id=workspace_id, correlation_id=record.message_id, erasure_id=erasure_id
    )
    try:
        erasure = run_erasure(
            bootstrap.erasure_deps(),
            workspace_id,
            erasure_id,
            out_of_time=(lambda: time.monotonic() > deadline) if deadline is not None else bool,
        )
        logger.info(
            "privacy erasure job ran",
            extra={
                "status": erasure.status.value if erasure else "gone",
                "phase": erasure.phase if erasure else None,
            },
        )
    finally:
        logger.remove_keys(["erasure_id"])


def _export(record: SQSRecord) -> None:
    from chalicelib.privacy.exports import build_export
    from chalicelib.store.privacy_export_repo import job_from_json

    workspace_id, export_id = job_from_json(record.body)
    logger.append_keys(
        workspace_id=workspace_id, correlation_id=record.message_id, export_id=export_id
    )
    try:
        export = build_export(bootstrap.export_deps(), workspace_id, export_id)
        logger.info(
            "privacy export job finished",
            extra={"status": export.status.value if export else "gone"},
        )
    finally:
        logger.remove_keys(["export_id"])


@privacy_jobs_bp.on_sqs_message(
    queue=get_settings().queues.privacy_jobs, batch_size=1, name="privacy_jobs_worker"
)
def privacy_jobs_worker(event: SQSEvent) -> PartialItemFailureResponse:
    remaining_ms = getattr(event.context, "get_remaining_time_in_millis", None)
    if remaining_ms is None:
        return each_record(event, _run_one)
    deadline = time.monotonic() + remaining_ms() / 1000 - RESERVE_SECONDS
    return each_record(event, functools.partial(_run_one, deadline=deadline))
