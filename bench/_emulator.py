"""Shared set-up for benchmarks that need AWS: a private moto server and fresh resources.

Import this before anything from chalicelib: it sets the environment the settings read."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from devstack.emulator import MotoServer, free_port  # noqa: E402

_server = MotoServer(port=free_port())
os.environ.update(
    {
        "AWS_ENDPOINT_URL": _server.endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "ap-southeast-1",
        "AWS_REGION": "ap-southeast-1",
        "RESOURCE_PREFIX": f"helptal-bench-{uuid.uuid4().hex[:6]}",
        "MAILGUN_API_KEY": "key-bench",
        "MAILGUN_WEBHOOK_SIGNING_KEY": "bench-signing-key",
        "REPLY_ADDRESS_SECRET": "bench-reply-secret",
        "PUBLIC_BASE_URL": "https://api.helptal.test",
        "APP_BASE_URL": "https://app.helptal.test",
        "LOG_LEVEL": "ERROR",
    }
)


def start() -> MotoServer:
    """Starts the emulator and creates every resource; stop it with `.stop()`."""
    from chalicelib.settings import get_settings
    from devstack.resources import create_resources

    _server.start()
    create_resources(get_settings(), endpoint_url=_server.endpoint)
    return _server
