"""`python -m devstack run|pump|fire|resources`: the local Helptal stack.

run        emulator (unless AWS_ENDPOINT_URL is set) + resources + API + seed + event pump
pump       only the event pump, for the app in this environment
fire       run one scheduled job once on the running stack: `fire <schedule> [--time ISO8601]`
resources  only create the resources on AWS_ENDPOINT_URL and print where they are
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from devstack.emulator import MotoServer, ensure_port_free, wait_for_http
from fakes.cloudflare import FakeCloudflare
from fakes.mailgun import FakeMailgun
from infra.template import PROJECT_DIR, stage_environment

STATE_DIR = Path(os.environ.get("DEVSTACK_STATE_DIR") or PROJECT_DIR / ".devstack")
# Where a running stack says how to reach it (emulator, stand-ins), for `fire`.
STACK_FILE = "stack.json"
DEV_SECRETS = ("MAILGUN_WEBHOOK_SIGNING_KEY", "REPLY_ADDRESS_SECRET", "DOMAIN_VERIFICATION_SECRET")
REGION = "ap-southeast-1"


class Shutdown(Exception):
    """SIGINT or SIGTERM arrived."""


def _raise_shutdown(signum: int, frame: FrameType | None) -> None:
    raise Shutdown(signal.Signals(signum).name)


def dev_secrets(environ: dict[str, str], path: Path = STATE_DIR / "secrets.json") -> dict[str, str]:
    """Webhook signing secrets for dev: from the environment, else generated once and kept."""
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    values: dict[str, str] = {}
    for name in DEV_SECRETS:
        values[name] = environ.get(name) or stored.get(name) or secrets.token_hex(32)
    if any(stored.get(name) != values[name] for name in DEV_SECRETS if not environ.get(name)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({**stored, **values}, indent=2) + "\n")
        path.chmod(0o600)
    return values


def dev_environment(api_port: int) -> dict[str, str]:
    """The environment of the API and the pump: config.json's dev stage under ours."""
    environ = dict(stage_environment("dev"))
    environ.update({k: v for k, v in os.environ.items() if v != ""})
    environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    environ.setdefault("AWS_DEFAULT_REGION", REGION)
    environ.setdefault("AWS_REGION", environ["AWS_DEFAULT_REGION"])
    for name in ("PUBLIC_BASE_URL", "APP_BASE_URL"):
        # The stage's value names port 8000; the local API may listen elsewhere.
        if not os.environ.get(name):
            environ[name] = f"http://127.0.0.1:{api_port}"
    environ.update(dev_secrets(environ))
    return environ


def _stop(process: subprocess.Popen[bytes] | None, timeout: float = 5.0) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run(args: argparse.Namespace) -> int:
    aws_port = int(os.environ.get("AWS_PORT", "4566"))
    api_port = int(os.environ.get("API_PORT", "8000"))
    api_url = f"http://127.0.0.1:{api_port}"
    environ = dev_environment(api_port)

    signal.signal(signal.SIGINT, _raise_shutdown)
    signal.signal(signal.SIGTERM, _raise_shutdown)
    moto: MotoServer | None = None
    mail_catcher: FakeMailgun | None = None
    cloudflare: FakeCloudflare | None = None
    api: subprocess.Popen[bytes] | None = None
    pump: subprocess.Popen[bytes] | None = None
    try:
        if "AWS_ENDPOINT_URL" not in environ:
            moto = MotoServer(port=aws_port)
            environ["AWS_ENDPOINT_URL"] = moto.start()
            print(f"moto server on {moto.endpoint}", flush=True)
        if "MAILGUN_API_BASE" not in environ:
            # No Mailgun configured: outbound mail lands in a local catcher instead.
            environ.setdefault("MAILGUN_API_KEY", "key-dev")
            mail_catcher = FakeMailgun(
                api_key=environ["MAILGUN_API_KEY"],
                port=int(os.environ.get("MAIL_PORT", "0")),
                echo=True,
                # It also plays a store() route: keeps mail it receives, notifies the API.
                webhook_signing_key=environ["MAILGUN_WEBHOOK_SIGNING_KEY"],
                notify_url=f"{api_url}/v1/webhooks/mailgun/stored",
            ).start()
            environ["MAILGUN_API_BASE"] = mail_catcher.url
        if not environ.get("CLOUDFLARE_API_TOKEN"):
            # No Cloudflare configured: help-centre domains get their custom hostnames at a
            # local stand-in, which moves each one a step towards active every time it is read.
            cloudflare = FakeCloudflare(
                api_token="cf-dev-token",
                zone_id="dev-zone",
                port=int(os.environ.get("CLOUDFLARE_PORT", "0")),
                steps_per_read=1,
                echo=True,
            ).start()
            environ["CLOUDFLARE_API_BASE"] = cloudflare.url
            environ["CLOUDFLARE_API_TOKEN"] = cloudflare.api_token
            environ["CLOUDFLARE_ZONE_ID"] = cloudflare.zone_id
            environ.setdefault("HELP_CENTRE_CNAME_TARGET", "customers.helptal.test")
        os.environ.update(environ)
        _write_stack_file(environ)

        from chalicelib.settings import reload_settings
        from devstack.resources import create_resources

        created = create_resources(reload_settings())
        print(
            f"resources ready: table {created.table_name}, bucket {created.bucket}, "
            f"queues {', '.join(created.queue_urls)}",
            flush=True,
        )

        ensure_port_free(api_port, "API (set API_PORT)")
        api = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devstack.local_api",
                "--host",
                "127.0.0.1",
                "--port",
                str(api_port),
                "--stage",
                "dev",
            ],
            cwd=PROJECT_DIR,
            env=environ,
        )
        wait_for_http(f"{api_url}/v1/health", args.timeout, expect_status=200, process=api)

        from devstack.seed import seed_demo_workspace

        login = seed_demo_workspace(api_url)
        pump = subprocess.Popen(
            [sys.executable, "-m", "devstack", "pump"], cwd=PROJECT_DIR, env=environ
        )

        print(
            "\nHelptal is running\n"
            f"  API           {api_url}\n"
            f"  API docs      {api_url}/docs\n"
            f"  AWS endpoint  {environ['AWS_ENDPOINT_URL']}\n"
            + (
                f"  sent mail     {mail_catcher.url}/_fake/messages (local Mailgun stand-in)\n"
                f"  receive mail  curl --data-binary @mail.eml "
                f"'{mail_catcher.url}/_fake/receive?recipient=<inbound address>'\n"
                if mail_catcher
                else f"  Mailgun       {environ['MAILGUN_API_BASE']}\n"
            )
            + (
                f"  hostnames     {cloudflare.url.removesuffix('/client/v4')}"
                "/_fake/custom_hostnames (local Cloudflare for SaaS stand-in)\n"
                if cloudflare
                else ""
            )
            + f"  demo login    {login.email} / {login.password}"
            f"{'' if login.created else ' (existing)'}\n"
            + "".join(f"  {name}={environ[name]}\n" for name in DEV_SECRETS)
            + "Ctrl-C stops everything.\n",
            flush=True,
        )
        while True:
            for name, process in (("API", api), ("event pump", pump)):
                if process.poll() is not None:
                    print(f"{name} exited with code {process.returncode}", file=sys.stderr)
                    return 1
            time.sleep(0.5)
    except Shutdown:
        return 0
    except (RuntimeError, TimeoutError) as e:
        print(f"devstack: {e}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        (STATE_DIR / STACK_FILE).unlink(missing_ok=True)
        _stop(pump)
        _stop(api)
        if mail_catcher is not None:
            mail_catcher.stop()
        if cloudflare is not None:
            cloudflare.stop()
        if moto is not None:
            moto.stop()


def pump(args: argparse.Namespace) -> int:
    from devstack.pump import EventPump
    from infra.describe import load_app

    event_pump = EventPump.from_app(load_app())

    def _stop_pump(signum: int, frame: FrameType | None) -> None:
        event_pump.stop()

    signal.signal(signal.SIGINT, _stop_pump)
    signal.signal(signal.SIGTERM, _stop_pump)
    event_pump.run()
    return 0


def _write_stack_file(environ: dict[str, str]) -> None:
    """The running stack's own settings (not the caller's whole environment)."""
    ours = set(stage_environment("dev")) | set(DEV_SECRETS)
    prefixes = ("AWS_", "MAILGUN_", "CLOUDFLARE_", "HELP_CENTRE_", "RESOURCE_PREFIX")
    stack = {
        name: value
        for name, value in environ.items()
        if name in ours or name.startswith(prefixes) or name in ("PUBLIC_BASE_URL", "APP_BASE_URL")
    }
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    path = STATE_DIR / STACK_FILE
    path.write_text(json.dumps(stack, indent=2))
    path.chmod(0o600)


def fire(args: argparse.Namespace) -> int:
    """One scheduled job, once, on the running stack; "now" is the event's time."""
    from datetime import datetime

    path = STATE_DIR / STACK_FILE
    if not path.exists():
        print("devstack: no running stack found: start it with `make run`", file=sys.stderr)
        return 1
    at = None
    if args.time:
        try:
            when = datetime.fromisoformat(args.time.replace("Z", "+00:00"))
        except ValueError:
            print(f"devstack: --time {args.time!r} is not ISO 8601", file=sys.stderr)
            return 2
        if when.tzinfo is None:
            print("devstack: --time needs a time zone, e.g. 2026-12-01T09:00:00Z", file=sys.stderr)
            return 2
        at = when.timestamp()
    os.environ.update(json.loads(path.read_text()))

    from chalicelib.settings import reload_settings
    from devstack.pump import EventPump
    from infra.describe import load_app

    reload_settings()
    try:
        result = EventPump.from_app(load_app()).fire(args.schedule, at)
    except LookupError as e:
        print(f"devstack: {e.args[0]}", file=sys.stderr)
        return 2
    print(f"{args.schedule} ran once: {json.dumps(result, default=str)}", flush=True)
    return 0


def resources(args: argparse.Namespace) -> int:
    from devstack.resources import create_resources

    created = create_resources()
    print(json.dumps(created.__dict__, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack")
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="the whole local stack")
    run_parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds to wait for the API to answer /v1/health",
    )
    run_parser.set_defaults(func=run)
    commands.add_parser("pump", help="only the event pump").set_defaults(func=pump)
    fire_parser = commands.add_parser("fire", help="run one scheduled job once")
    fire_parser.add_argument("schedule", help="the schedule's name, e.g. custom_hostnames_job")
    fire_parser.add_argument("--time", help="the event's time (ISO 8601, with a zone); default now")
    fire_parser.set_defaults(func=fire)
    commands.add_parser("resources", help="only create the resources").set_defaults(func=resources)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("botocore", "pynamodb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
