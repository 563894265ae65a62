"""When AWS cannot be reached, requests fail fast with 503 and Retry-After (not 500 after
tens of seconds): the emulator is stopped mid-run and the API is called."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import bootstrap
from chalicelib.settings import reload_settings
from devstack.emulator import MotoServer
from fakes.mailgun import inbound_form
from tests.integration.conftest import Api
from tests.stages import TEST_STAGE

# A request during an outage must give up well within this (connect 2 s, read 5 s, retries).
OUTAGE_ANSWER_SECONDS = 8


def _forget_table_connections() -> None:
    """pynamodb keeps one connection (and its endpoint) per model class."""
    from chalicelib.store.models import Item

    pending: list[type[Any]] = [Item]
    while pending:
        model = pending.pop()
        model._connection = None
        pending.extend(model.__subclasses__())


def _point_at(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    reload_settings()
    bootstrap.reset()
    _forget_table_connections()


@pytest.fixture()
def own_emulator(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[MotoServer]:
    """A second emulator, with every resource, that the test may stop."""
    from chalicelib.settings import get_settings
    from devstack.resources import create_resources

    server = MotoServer(log_path=tmp_path / "moto.log")
    server.start()
    try:
        create_resources(get_settings(), endpoint_url=server.endpoint)
        _point_at(monkeypatch, server.endpoint)
        yield server
    finally:
        server.stop()
        monkeypatch.undo()
        reload_settings()
        bootstrap.reset()
        _forget_table_connections()


def _timed(call: Any) -> tuple[Any, float]:
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


def _assert_unavailable(answer: tuple[int, Any, dict[str, str]], code: str) -> None:
    status, body, headers = answer
    assert status == 503, body
    assert body["error"]["code"] == code
    assert int(headers["Retry-After"]) >= 1


def test_api_answers_503_with_retry_after_quickly_while_aws_is_down(own_emulator):
    from app import app

    with Client(app, stage_name=TEST_STAGE) as client:
        api = Api(client)
        owner = api.sign_up()
        status, _, _ = api.request("GET", "/v1/tickets", token=owner["token"])
        assert status == 200
        recipient = owner["workspace"]["inbound_address"]

        own_emulator.stop()

        login, login_seconds = _timed(
            lambda: api.request(
                "POST",
                "/v1/auth/login",
                {"email": "ann@acme.test", "password": "correct horse battery"},
            )
        )
        tickets, tickets_seconds = _timed(
            lambda: api.request("GET", "/v1/tickets", token=owner["token"])
        )
        body, content_type = inbound_form(recipient=recipient, sender="carla@customer.test")

        def post_inbound() -> tuple[int, Any, dict[str, str]]:
            response = client.http.post(
                "/v1/webhooks/mailgun/inbound",
                headers={"Content-Type": content_type},
                body=body,
            )
            return response.status_code, json.loads(response.body), response.headers

        inbound, inbound_seconds = _timed(post_inbound)

    print(
        f"during the outage: login {login_seconds:.2f} s, ticket list {tickets_seconds:.2f} s, "
        f"inbound webhook {inbound_seconds:.2f} s"
    )
    _assert_unavailable(login, "service_unavailable")
    _assert_unavailable(tickets, "service_unavailable")
    _assert_unavailable(inbound, "intake_unavailable")
    assert max(login_seconds, tickets_seconds, inbound_seconds) < OUTAGE_ANSWER_SECONDS


class _SilentEndpoint:
    """A TCP server that accepts connections and never answers: AWS hanging."""

    def __init__(self) -> None:
        import socket

        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(64)
        self.endpoint = f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    def close(self) -> None:
        self._socket.close()


def test_a_hanging_aws_answers_503_within_seconds(own_emulator, monkeypatch):
    from app import app

    silent = _SilentEndpoint()
    try:
        with Client(app, stage_name=TEST_STAGE) as client:
            api = Api(client)
            _point_at(monkeypatch, silent.endpoint)
            login, seconds = _timed(
                lambda: api.request(
                    "POST",
                    "/v1/auth/login",
                    {"email": "ann@acme.test", "password": "correct horse battery"},
                )
            )
    finally:
        silent.close()
    print(f"login while AWS hangs: {seconds:.2f} s")
    _assert_unavailable(login, "service_unavailable")
    assert seconds < OUTAGE_ANSWER_SECONDS
