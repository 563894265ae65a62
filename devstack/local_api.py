"""`chalice local` for devstack: the same server, but the process environment wins.

`chalice local` overwrites the environment with the stage's `environment_variables` from
`.chalice/config.json`; here those are only defaults, so a test run (or LocalStack user) can
point the API at its own resources with RESOURCE_PREFIX, TABLE_NAME, ... in the environment.

An unknown path answers the product's own 404 (`{"error": {"code": "not_found", ...}}`), not
the 403 `{"message": "Missing Authentication Token"}` that chalice local copies from API
Gateway (which deployed stages still answer: README, "The API").
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import logging
import os
import sys
from typing import Any

from chalice.cli import create_local_server
from chalice.cli.factory import CLIFactory
from chalice.local import ChaliceRequestHandler, ForbiddenError, LocalGateway

from devstack import web_client
from infra.template import PROJECT_DIR, stage_environment

# socketserver's default backlog is 5: a burst of clients (a web client, the pump, a load
# script) overflows it, and the kernel drops or resets the connections beyond it.
LISTEN_BACKLOG = 512
UNKNOWN_PATH_MESSAGE = (
    "Nothing is served at this path; every endpoint is in /v1/openapi.json (readable at /docs)."
)


def unknown_path_response() -> dict[str, Any]:
    """The product's 404 for a path no route matches, as a Lambda proxy response."""
    from chalicelib.api.routing import JSON, error_body
    from chalicelib.ids import new_id

    return {
        "statusCode": 404,
        "headers": {
            "Content-Type": JSON,
            "X-Request-Id": new_id(),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
        "multiValueHeaders": {},
        "body": json.dumps(error_body("not_found", UNKNOWN_PATH_MESSAGE)),
    }


class ProductGateway(LocalGateway):
    def handle_request(
        self, method: str, path: str, headers: dict[str, Any], body: bytes | None
    ) -> dict[str, Any]:
        app_files = web_client.app_response(method, path, headers)
        if app_files is not None:  # the web client, at /app/
            return app_files
        try:
            return super().handle_request(method, path, headers, body)
        except ForbiddenError as error:
            # chalice.local raises this error type only when no route matches the path.
            if error.headers.get("x-amzn-ErrorType") != "UnauthorizedException":
                raise
            return unknown_path_response()


class ProductRequestHandler(ChaliceRequestHandler):
    """chalice's handler with ProductGateway (it handles the request inside __init__)."""

    def __init__(self, request: Any, client_address: Any, server: Any, **app: Any) -> None:
        self.local_gateway = ProductGateway(app["app_object"], app["config"])
        # Skips ChaliceRequestHandler.__init__, which would build a plain LocalGateway.
        super(ChaliceRequestHandler, self).__init__(request, client_address, server)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """An access line only for a failed answer: the app logs every request it handles
        ("request handled", with status and duration), not a path no route serves."""
        if not str(code).isdigit() or int(code) >= 400:
            super().log_request(code, size)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.local_api")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args(argv)

    for name, value in stage_environment(args.stage).items():
        os.environ.setdefault(name, value)
    os.chdir(PROJECT_DIR)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    for noisy in ("botocore", "pynamodb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # A throwaway environ: the factory would otherwise write the stage variables over ours.
    factory = CLIFactory(str(PROJECT_DIR), environ={})
    server = create_local_server(factory, args.host, args.port, args.stage)
    server.server.RequestHandlerClass = functools.partial(
        ProductRequestHandler, **server._wrapped_handler.keywords
    )
    # chalice's server has already listened with socketserver's backlog; listening again on
    # the bound socket only raises the backlog (chalice.local takes no server class here).
    server.server.request_queue_size = LISTEN_BACKLOG
    server.server.socket.listen(LISTEN_BACKLOG)
    # Ctrl-C reaches the whole process group; devstack itself reports the shutdown.
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
