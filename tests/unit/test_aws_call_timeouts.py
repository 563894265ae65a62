"""How long an AWS call waits before it counts as an outage: AWS's few seconds, unless a
stack behind a local emulator asks for longer (chalicelib/settings.py
`aws_read_timeout_seconds`, chalicelib/store/aws_outage.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.settings import get_settings
from chalicelib.store.aws_outage import READ_TIMEOUT_SECONDS

EMULATOR = {"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}


@pytest.mark.parametrize(
    ("asked", "aws", "waits"),
    [
        (15, EMULATOR, 15),
        (0, EMULATOR, READ_TIMEOUT_SECONDS),
        (15, {}, READ_TIMEOUT_SECONDS),  # a deployed stack reaches AWS itself
        (15, {"AWS_REGION": "ap-southeast-1"}, READ_TIMEOUT_SECONDS),
        (-4, EMULATOR, READ_TIMEOUT_SECONDS),
    ],
)
def test_a_longer_wait_for_aws_is_only_ever_taken_behind_a_local_emulator(asked, aws, waits):
    settings = replace(
        get_settings(),
        emulator_read_timeout_seconds=asked,
        aws_environment=tuple(sorted(aws.items())),
    )
    assert settings.aws_read_timeout_seconds == waits


def test_every_boto3_client_waits_as_the_settings_say(monkeypatch):
    from chalicelib import settings as settings_module
    from chalicelib.store.aws_outage import client_config

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    monkeypatch.setenv("EMULATOR_READ_TIMEOUT_SECONDS", "15")
    settings_module.reload_settings()
    try:
        assert client_config().read_timeout == 15
        monkeypatch.setenv("EMULATOR_READ_TIMEOUT_SECONDS", "0")
        settings_module.reload_settings()
        assert client_config().read_timeout == READ_TIMEOUT_SECONDS
    finally:
        monkeypatch.undo()
        settings_module.reload_settings()
