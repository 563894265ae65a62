"""Each function's IAM role allows every AWS call the function makes, and the API cannot read
the workers' secrets: a helpdesk day (knowledge base, mail in with an attachment, a reply out
with a file the agent uploaded, AI triage and a draft) runs with every AWS call recorded
under the function that made it, then each call is checked against that function's policy
from `infra.iam`."""

from __future__ import annotations

import contextvars
import dataclasses
import fnmatch
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest
import requests

from chalicelib import bootstrap
from chalicelib.settings import get_settings
from chalicelib.tickets import merging
from chalicelib.tickets.merge_record import MergeStatus
from fakes.mailgun import InboundAttachment, inbound_form
from infra.describe import describe_event_sources
from infra.iam import function_policies
from tests.integration.conftest import drain_mail_queue
from tests.integration.test_ai_teammate import claude, owner, pump, run_workers, turn_ai_on
from tests.integration.test_ticket_merges import Crash, StoreThatCrashes

__all__ = ["claude", "owner", "pump"]  # fixtures used by name

current_function: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_function", default=None
)

_TRANSACTION_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def _needs(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """(IAM action, resource ARN) pairs a call needs (account 000000000000)."""
    region = get_settings().region

    def table(name: str, index: str | None = None) -> str:
        suffix = f"/index/{index}" if index else ""
        return f"arn:aws:dynamodb:{region}:000000000000:table/{name}{suffix}"

    if service == "dynamodb":
        if operation in ("TransactWriteItems", "TransactGetItems"):
            return [
                (f"dynamodb:{_TRANSACTION_ACTIONS[kind]}", table(part["TableName"]))
                for item in params["TransactItems"]
                for kind, part in item.items()
            ]
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(f"dynamodb:{operation}", table(name)) for name in params["RequestItems"]]
        return [(f"dynamodb:{operation}", table(params["TableName"], params.get("IndexName")))]
    if service == "sqs":
        name = params.get("QueueName") or urlparse(params["QueueUrl"]).path.rsplit("/", 1)[1]
        # A batch call is allowed by its single call's action (SQS API reference).
        action = operation.removesuffix("Batch")
        return [(f"sqs:{action}", f"arn:aws:sqs:{region}:000000000000:{name}")]
    if service == "s3":
        bucket = f"arn:aws:s3:::{params['Bucket']}"
        if operation in ("ListObjectsV2", "ListObjects"):
            return [("s3:ListBucket", bucket)]
        if operation == "DeleteObjects":
            return [
                ("s3:DeleteObject", f"{bucket}/{o['Key']}") for o in params["Delete"]["Objects"]
            ]
        action = {"HeadObject": "GetObject"}.get(operation, operation)
        return [(f"s3:{action}", f"{bucket}/{params['Key']}")]
    if service == "ssm":
        names = params.get("Names") or [params["Name"]]
        return [
            (f"ssm:{operation}", f"arn:aws:ssm:{region}:000000000000:parameter{name}")
            for name in names
        ]
    raise AssertionError(f"unexpected AWS call {service}:{operation}")


def _allowed(policy: dict[str, Any], action: str, arn: str) -> bool:
    for statement in policy["Statement"]:
        actions = statement["Action"]
        actions = actions if isinstance(actions, list) else [actions]
        resources = statement["Resource"]
        resources = resources if isinstance(resources, list) else [resources]
        if action in actions and any(
            fnmatch.fnmatchcase(arn, pattern.replace(":*:", ":000000000000:", 1))
            for pattern in resources
        ):
            return True
    return False


@pytest.fixture()
def recorded_calls(monkeypatch) -> Iterator[list[tuple[str, str, str]]]:
    """(function, IAM action, resource ARN) of every AWS call made inside a function."""
    from botocore.client import BaseClient

    calls: list[tuple[str, str, str]] = []
    original = BaseClient._make_api_call

    def recording(client: Any, operation: str, params: dict[str, Any]) -> Any:
        function = current_function.get()
        if function is not None:
            service = client.meta.service_model.service_name
            calls.extend(
                (function, action, arn) for action, arn in _needs(service, operation, params)
            )
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    yield calls


@pytest.fixture()
def as_functions(api, pump, monkeypatch):
    """The API's requests run as `api_handler`, each worker as its own function."""
    original_request = api.request

    def request(*args: Any, **kwargs: Any) -> Any:
        token = current_function.set("api_handler")
        try:
            return original_request(*args, **kwargs)
        finally:
            current_function.reset(token)

    monkeypatch.setattr(api, "request", request)
    original_post = api.client.http.post

    def post(*args: Any, **kwargs: Any) -> Any:
        token = current_function.set("api_handler")
        try:
            return original_post(*args, **kwargs)
        finally:
            current_function.reset(token)

    monkeypatch.setattr(api.client.http, "post", post)
    for subscription in pump.queues:
        handler = subscription.handler

        def as_worker(event: Any, context: Any, _handler=handler, _name=subscription.name):
            token = current_function.set(_name)
            try:
                return _handler(event, context)
            finally:
                current_function.reset(token)

        monkeypatch.setattr(subscription, "handler", as_worker)
    return api


def _helpdesk_day(api, owner, pump, fake_mailgun) -> None:
    token = owner["token"]
    # Mail in, with an attachment, through the webhook and the inbound worker.
    body, content_type = inbound_form(
        recipient=owner["workspace"]["inbound_address"],
        sender="carla@customer.test",
        from_header="Carla <carla@customer.test>",
        subject="Débitée deux fois",
        body_plain="Bonjour, j'ai été débitée deux fois, pouvez-vous me rembourser ?",
        attachments=[InboundAttachment("facture.pdf", "application/pdf", b"%PDF-1.4 facture")],
    )
    response = api.client.http.post(
        "/v1/webhooks/mailgun/inbound", headers={"Content-Type": content_type}, body=body
    )
    assert response.status_code == 200
    pump.drain(["inbound_mail_worker"])
    run_workers(pump)  # search index, triage
    tickets = api.request("GET", "/v1/tickets", token=token)[1]["tickets"]
    [ticket] = [t for t in tickets if t["subject"] == "Débitée deux fois"]
    detail = api.request("GET", f"/v1/tickets/{ticket['id']}", token=token)[1]
    [attachment] = [a for m in detail["messages"] for a in m.get("attachments", [])]
    status, _, _ = api.request(
        "GET", f"/v1/tickets/{ticket['id']}/attachments/{attachment['id']}", token=token
    )
    assert status in (200, 302, 303, 307)
    # A grounded AI draft, then a reply out through the mail-out worker.
    status, _, _ = api.request("POST", f"/v1/tickets/{ticket['id']}/drafts", {}, token=token)
    assert status == 202
    run_workers(pump)
    # The reply carries a file the agent uploaded (presigned POST, checked, then mailed).
    receipt = b"%PDF-1.4 avoir"
    status, permit, _ = api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/attachments",
        {"filename": "avoir.pdf", "content_type": "application/pdf", "size": len(receipt)},
        token=token,
    )
    assert status == 201, permit
    posted = requests.post(
        permit["upload_url"],
        data=permit["fields"],
        files={"file": ("avoir.pdf", receipt, "application/pdf")},
        timeout=10,
    )
    assert posted.status_code in (200, 201, 204), posted.text
    status, _, _ = api.request(
        "POST",
        f"/v1/tickets/{ticket['id']}/messages",
        {
            "body": "Nous vous remboursons aujourd'hui.",
            "kind": "reply",
            "attachment_ids": [permit["id"]],
        },
        token=token,
    )
    assert status in (200, 201, 202)
    pump.drain(["mail_out_worker", "search_indexer"])
    assert [a.content for m in fake_mailgun.messages for a in m.attachments] == [receipt]
    status, _, _ = api.request("GET", "/v1/kb/search?q=remboursement", token=token)
    assert status == 200


def _merges(api, owner, pump, monkeypatch) -> None:
    """A merge through the API (which queues its delayed check), and a merge cut short that
    its check finishes in the events worker."""
    deps = bootstrap.ticket_deps()
    policy = dataclasses.replace(deps.policy, merge_check_delay_seconds=1)
    monkeypatch.setattr(bootstrap, "ticket_deps", lambda: dataclasses.replace(deps, policy=policy))
    token, ws = owner["token"], owner["workspace"]["id"]
    tickets = []
    for n in range(4):
        status, ticket, _ = api.request(
            "POST",
            "/v1/tickets",
            {"requester": {"email": f"m{n}@customer.test"}, "subject": "Help", "body": "Hi"},
            token=token,
        )
        assert status == 201, ticket
        tickets.append(ticket["id"])
    status, _, _ = api.request(
        "POST", f"/v1/tickets/{tickets[0]}/merge", {"into": tickets[1]}, token=token
    )
    assert status == 200
    crashing = dataclasses.replace(
        bootstrap.ticket_deps(), store=StoreThatCrashes(deps.store, "merge_messages", False)
    )
    with pytest.raises(Crash):  # outside any function: not recorded
        merging.merge_tickets(crashing, ws, tickets[2], tickets[3], "user:ann")
    time.sleep(1.5)
    pump.drain(["search_indexer"])
    assert deps.store.get_merge(ws, tickets[2]).status is MergeStatus.DONE


def _privacy_requests(api, owner, pump) -> None:
    """A data-subject export of Carla, then her erasure (every queue swept, her files
    deleted), both run by the privacy-jobs worker."""
    token = owner["token"]
    for path, body in (
        ("/v1/privacy/exports", {"contact_email": "carla@customer.test"}),
        ("/v1/privacy/erasures", {"email": "carla@customer.test"}),
    ):
        status, answer, _ = api.request("POST", path, body, token=token)
        assert status == 202, answer
        pump.drain(["privacy_jobs_worker"])
    erasures = api.request("GET", "/v1/privacy/erasures", token=token)[1]["erasures"]
    assert [e["status"] for e in erasures] == ["done"]
    assert erasures[0]["counts"]["tickets"] >= 1
    # The workspace's deletion scheduled, then cancelled: the members are mailed each time.
    slug = owner["workspace"]["slug"]
    for method, body, expected in (("POST", {"confirm_slug": slug}, 202), ("DELETE", None, 200)):
        status, answer, _ = api.request(method, "/v1/workspace/deletion", body, token=token)
        assert status == expected, answer
        pump.drain(["privacy_jobs_worker"])
    mails = [json.loads(m["Body"]) for m in drain_mail_queue()]
    assert {m["purpose"] for m in mails} >= {"workspace_deletion"}


def test_every_aws_call_of_a_helpdesk_day_is_allowed_by_its_functions_role(
    as_functions, owner, claude, pump, fake_mailgun, recorded_calls, monkeypatch
):
    from app import app

    turn_ai_on(as_functions, owner, features={"drafts": True, "triage": True})
    drain_mail_queue()
    recorded_calls.clear()
    _helpdesk_day(as_functions, owner, pump, fake_mailgun)
    _merges(as_functions, owner, pump, monkeypatch)
    _privacy_requests(as_functions, owner, pump)

    policies = function_policies(get_settings(), describe_event_sources(app))
    functions = {function for function, *_ in recorded_calls}
    assert {"api_handler", "inbound_mail_worker", "mail_out_worker"} <= functions
    assert {"search_indexer", "ai_jobs_worker", "privacy_jobs_worker"} <= functions
    refused = sorted(
        {
            (function, action, arn)
            for function, action, arn in recorded_calls
            if not _allowed(policies[function], action, arn)
        }
    )
    assert refused == []
    assert len(recorded_calls) > 50
