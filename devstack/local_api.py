"""`chalice local` for devstack: the same server, but the process environment wins.

`chalice local` overwrites the environment with the stage's `environment_variables` from
`.chalice/config.json`; here those are only defaults, so a test run (or LocalStack user) can
point the API at its own resources with RESOURCE_PREFIX, TABLE_NAME, ... in the environment.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys

from chalice.cli import create_local_server
from chalice.cli.factory import CLIFactory

from infra.template import PROJECT_DIR, stage_environment

# socketserver's default backlog is 5: a burst of clients (a web client, the pump, a load
# script) overflows it, and the kernel drops or resets the connections beyond it.
LISTEN_BACKLOG = 512


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
    # chalice's server has already listened with socketserver's backlog; listening again on
    # the bound socket only raises the backlog (chalice.local takes no server class here).
    server.server.request_queue_size = LISTEN_BACKLOG
    server.server.socket.listen(LISTEN_BACKLOG)
    # Ctrl-C reaches the whole process group; devstack itself reports the shutdown.
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
