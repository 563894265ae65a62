"""Fixtures for tests that drive the API and workers against the moto server."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import bootstrap
from chalicelib.settings import reload_settings
from fakes.mailgun import FakeMailgun
from tests.stages import TEST_STAGE

PASSWORD = "correct horse battery"


class MovableClock:
    """A clock tests can move forward (tokens, invitations and throttles expire)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **kwargs: float) -> None:
        self.offset += timedelta(**kwargs)


class Api:
    """The Chalice test client with JSON helpers."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        payload = body if isinstance(body, str) or body is None else json.dumps(body)
        response = getattr(self.client.http, method.lower())(path, headers=sent, body=payload)
        decoded = json.loads(response.body) if response.body else None
        return response.status_code, decoded, response.headers

    def sign_up(
        self,
        workspace: str = "Acme Support",
        email: str = "ann@acme.test",
        name: str = "Ann Owner",
        confirm: bool = True,
        **extra: Any,
    ) -> dict[str, Any]:
        """Signs a workspace up and, unless `confirm` is false, confirms the owner's address
        from the link in the mail it queued (as the owner would), so that the workspace may
        mail its customers."""
        status, body, _ = self.request(
            "POST",
            "/v1/signup",
            {
                "workspace_name": workspace,
                "name": name,
                "email": email,
                "password": PASSWORD,
                **extra,
            },
        )
        assert status == 201, body
        if confirm:
            link = confirmation_link(email)
            confirmed = self.client.http.post(
                f"/account/confirm/{link}",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                body="",
            )
            assert confirmed.status_code == 200, confirmed.body
            body["user"]["email_confirmed"] = True
            body["workspace"]["customer_mail_enabled"] = True
        return body


@pytest.fixture()
def clock(monkeypatch: pytest.MonkeyPatch) -> MovableClock:
    movable = MovableClock()
    deps = dataclasses.replace(bootstrap.account_deps(), clock=movable)
    tickets = dataclasses.replace(bootstrap.ticket_deps(), clock=movable)
    monkeypatch.setattr(bootstrap, "account_deps", lambda: deps)
    monkeypatch.setattr(bootstrap, "ticket_deps", lambda: tickets)
    return movable


@pytest.fixture()
def api(clean_aws: Any) -> Api:
    from app import app

    with Client(app, stage_name=TEST_STAGE) as client:
        yield Api(client)


@pytest.fixture(scope="session")
def fake_mailgun_server() -> FakeMailgun:
    server = FakeMailgun(api_key="key-test").start()
    yield server
    server.stop()


@pytest.fixture()
def fake_mailgun(fake_mailgun_server: FakeMailgun, monkeypatch: pytest.MonkeyPatch) -> FakeMailgun:
    """The real Mailgun adapter pointed at the fake server."""
    fake_mailgun_server.reset()
    monkeypatch.setenv("MAILGUN_API_BASE", fake_mailgun_server.url)
    monkeypatch.setenv("MAILGUN_API_KEY", fake_mailgun_server.api_key)
    reload_settings()
    bootstrap.mail_sender.cache_clear()
    yield fake_mailgun_server
    monkeypatch.undo()
    reload_settings()
    bootstrap.mail_sender.cache_clear()


def drain_mail_queue() -> list[dict[str, Any]]:
    """Takes every message off the mail-out queue (as the worker would receive them)."""
    import boto3

    from chalicelib.settings import get_settings

    sqs = boto3.client("sqs", region_name=get_settings().region)
    url = sqs.get_queue_url(QueueName=get_settings().queues.mail_out)["QueueUrl"]
    taken: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not batch:
            return taken
        for message in batch:
            taken.append(message)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def take_queued_mail(to: str, purpose: str) -> dict[str, Any]:
    """Takes the newest queued mail of `purpose` to `to` off the mail-out queue and puts
    every other message back."""
    import boto3

    from chalicelib.settings import get_settings

    found: dict[str, Any] | None = None
    others = []
    for message in drain_mail_queue():
        mail = json.loads(message["Body"])
        if mail.get("to") == [to.strip().lower()] and mail.get("purpose") == purpose:
            found = mail
        else:
            others.append(message["Body"])
    if others:
        sqs = boto3.client("sqs", region_name=get_settings().region)
        url = sqs.get_queue_url(QueueName=get_settings().queues.mail_out)["QueueUrl"]
        for body in others:
            sqs.send_message(QueueUrl=url, MessageBody=body)
    assert found is not None, f"no {purpose} mail queued for {to}"
    return found


def confirmation_link(email: str) -> str:
    """The token of the confirmation link mailed to `email` at sign-up."""
    import re

    mail = take_queued_mail(email, "email_confirmation")
    match = re.search(r"/account/confirm/(htl_[A-Za-z0-9_-]+)", mail["text"])
    assert match, mail["text"]
    return match.group(1)


def invite(api: Api, token: str, email: str, role: str = "agent") -> str:
    """Invites `email` and returns the single-use token from the queued e-mail's link."""
    import re

    status, body, _ = api.request(
        "POST", "/v1/members/invitations", {"email": email, "role": role}, token=token
    )
    assert status == 201, body
    for message in drain_mail_queue():
        mail = json.loads(message["Body"])
        if mail["to"] == [email]:
            match = re.search(r"/join/(hti_[A-Za-z0-9_-]+)", mail["text"])
            assert match, mail["text"]
            return match.group(1)
    raise AssertionError(f"no invitation mail queued for {email}")


def accept_invitation(
    api: Api, invitation: str, name: str = "Bob Agent", password: str = PASSWORD
) -> tuple[int, Any, dict[str, str]]:
    return api.request(
        "POST", f"/v1/invitations/{invitation}/accept", {"name": name, "password": password}
    )


@pytest.fixture(scope="session")
def lambda_package(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The prod Lambda package (sam.json, deployment.zip), built once as `make package` does.

    The first build of a requirements.txt downloads wheels from PyPI."""
    import fcntl
    import os

    from tests.integration.lambda_build import LambdaPackage, build_lambda_package

    # One build for the whole run: the run's test processes (xdist workers) share their
    # base directory's parent, and the first to take the lock builds while the others wait
    # and read its result.  Without workers the base directory is the run's own.
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "lambda-package"
    shared.mkdir(exist_ok=True)
    done = shared / "built.json"
    with (shared / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return LambdaPackage(**{**json.loads(done.read_text()), "out": shared / "package"})
        built = build_lambda_package(shared)
        done.write_text(json.dumps({"output": built.output, "seconds": built.seconds}))
        return built


@pytest.fixture()
def deliver_mail(api: Api, clean_aws: Any) -> Any:
    """`deliver_mail((body, content_type))`: posts a delivery to the inbound webhook (200
    expected) and files everything queued with the inbound-mail worker (no record failing)."""
    from app import app
    from devstack.pump import EventPump

    pump = EventPump.from_app(app, wait_seconds=0, max_backoff_seconds=0)
    [worker] = [q for q in pump.queues if q.name == "inbound_mail_worker"]

    def deliver(body_and_type: tuple[bytes, str]) -> None:
        body, content_type = body_and_type
        response = api.client.http.post(
            "/v1/webhooks/mailgun/inbound", headers={"Content-Type": content_type}, body=body
        )
        assert response.status_code == 200, response.body
        while (outcome := pump.poll_queue(worker)).received:
            assert outcome.failed == 0, "the inbound worker failed a record"

    return deliver


@pytest.fixture()
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every AWS call made while the test runs (clear it to count one request)."""
    import botocore.endpoint

    calls: list[str] = []
    original = botocore.endpoint.Endpoint.make_request

    def counting(self: Any, operation_model: Any, request_dict: Any) -> Any:
        calls.append(operation_model.name)
        return original(self, operation_model, request_dict)

    monkeypatch.setattr(botocore.endpoint.Endpoint, "make_request", counting)
    return calls
