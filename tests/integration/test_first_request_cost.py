"""What a fresh container builds for its first inbox page: one DynamoDB client for every
item type, and no client for a service the page does not call (S3, SQS)."""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import botocore.session

from chalicelib import bootstrap
from chalicelib.store.models import Item

PROJECT_DIR = Path(__file__).resolve().parents[2]


def _fresh_container() -> None:
    """Forget every built service and every table connection, as a new container starts."""
    bootstrap.reset()
    pending: list[type[Any]] = [Item]
    while pending:
        model = pending.pop()
        model._connection = None
        pending.extend(model.__subclasses__())


def test_a_first_inbox_page_builds_one_dynamodb_client_and_nothing_else(api, monkeypatch):
    owner = api.sign_up()
    status, _, _ = api.request(
        "POST",
        "/v1/tickets",
        {"requester": {"email": "ana@example.com", "name": "Ana"}, "subject": "S", "body": "B"},
        token=owner["token"],
    )
    assert status == 201
    _fresh_container()
    built: Counter[str] = Counter()
    create_client = botocore.session.Session.create_client

    def counting(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        built[service_name] += 1
        return create_client(self, service_name, *args, **kwargs)

    monkeypatch.setattr(botocore.session.Session, "create_client", counting)

    status, body, _ = api.request("GET", "/v1/tickets", token=owner["token"])

    assert status == 200, body
    assert len(body["tickets"]) == 1
    assert built == Counter({"dynamodb": 1})


FIRST_PAGE_IN_A_FRESH_PROCESS = """
import json, os, sys
from chalice.test import Client
from pydantic import BaseModel
from app import app
with Client(app) as client:
    response = client.http.get(
        "/v1/tickets", headers={"Authorization": "Bearer " + os.environ["TOKEN"]}
    )
assert response.status_code == 200, response.body
schemas = [
    value
    for name, module in sys.modules.items()
    if name.startswith("chalicelib.api.schemas.")
    for value in vars(module).values()
    if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == name
]
print(json.dumps({
    "modules": sorted(sys.modules),
    "schemas": len(schemas),
    "built": sorted(s.__name__ for s in schemas if s.__pydantic_complete__),
}))
"""


def test_a_first_inbox_page_loads_and_builds_only_what_it_uses(api):
    owner = api.sign_up()
    result = subprocess.run(
        [sys.executable, "-c", FIRST_PAGE_IN_A_FRESH_PROCESS],
        cwd=PROJECT_DIR,
        env={**os.environ, "TOKEN": owner["token"]},
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(result.stdout.splitlines()[-1])

    heavy = {"anthropic", "openai", "stripe", "numpy", "bm25s", "email_validator", "argon2"}
    assert heavy.isdisjoint(loaded["modules"])
    other_capabilities = {f"chalicelib.api.schemas.{name}" for name in ("ai", "kb", "mail")}
    assert other_capabilities.isdisjoint(loaded["modules"])
    # Validators are built on first use: the page's query and response, not every schema
    # of the capabilities it loaded.
    assert set(loaded["built"]) <= {"TicketQuery", "TicketListOut", "TicketOut", "ErrorOut"}
    assert loaded["schemas"] > 20
    # Route modules load the domain modules of their capability on first use: the inbox page
    # does not load the help centre, mail intake, AI settings, sign-up or team management.
    unused_capabilities = {
        f"chalicelib.{name}"
        for name in (
            "kb.model",
            "kb.helpcentre_site",
            "kb.domains",
            "mail.intake_queue",
            "mail.templates",
            "ai.settings",
            "accounts.signup",
            "accounts.invitations",
            "accounts.api_keys",
            "tickets.mailbox_admin",
            "http_forms",
            "web.i18n",
            "web.render",
        )
    }
    assert unused_capabilities.isdisjoint(loaded["modules"]), sorted(
        unused_capabilities & set(loaded["modules"])
    )
