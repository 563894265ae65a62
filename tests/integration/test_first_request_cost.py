"""What a fresh container builds for its first inbox page: one DynamoDB client for every
item type, and no client for a service the page does not call (S3, SQS)."""

from collections import Counter
from typing import Any

import botocore.session

from chalicelib import bootstrap
from chalicelib.store.models import Item


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
