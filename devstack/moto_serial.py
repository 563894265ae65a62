"""moto server, with DynamoDB requests run one at a time.

DynamoDB applies each request atomically: a conditional write or a transaction either sees
the state before a concurrent write or after it.  moto's threaded server runs requests side by
side without a lock, so two conditional writes to one item can both pass their check (a lost
update that real DynamoDB would refuse).  Serialising DynamoDB requests restores DynamoDB's
guarantee; SQS long polls, S3 and the rest stay concurrent.

    python -m devstack.moto_serial -H 127.0.0.1 -p 4566
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

_DYNAMODB_TARGET = "DynamoDB_"


class SerialDynamoDB:
    """WSGI middleware: one DynamoDB request at a time, the rest untouched."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith(_DYNAMODB_TARGET):
            with self._lock:
                # Consume the whole response inside the lock: moto builds it eagerly.
                return list(self._app(environ, start_response))
        return self._app(environ, start_response)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.moto_serial")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=4566)
    args = parser.parse_args(argv)
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        SerialDynamoDB(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
