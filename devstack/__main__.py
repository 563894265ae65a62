"""`python -m devstack run|pump|fire|mail|resources`: the local Helptal stack.

run        emulator (unless AWS_ENDPOINT_URL is set) + resources + API + seed + event pump;
           `--ai local` adds the local stand-in model (fakes/local_model.py)
pump       only the event pump, for the app in this environment
fire       run one scheduled job once on the running stack: `fire <schedule> [--time ISO8601]`
mail       send a customer's mail into the running stack's demo workspace: `mail "text"`
resources  only create the resources on AWS_ENDPOINT_URL and print where they are
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from devstack.billing_standins import BillingStandIns, start_billing_standins
from devstack.calendar_standins import CalendarStandIns, start_calendar_standins
from devstack.demo_site import DEFAULT_PORT as DEMO_SITE_PORT
from devstack.demo_site import DemoSite
from devstack.emulator import MotoServer, ensure_port_free, wait_for_http
from fakes.cloudflare import FakeCloudflare
from fakes.local_model import LocalModel
from fakes.mailgun import FakeMailgun
from infra.template import PROJECT_DIR, stage_environment

STATE_DIR = Path(os.environ.get("DEVSTACK_STATE_DIR") or PROJECT_DIR / ".devstack")
# Where a running stack says how to reach it (emulator, stand-ins), for `fire`.
STACK_FILE = "stack.json"
# Generated once and kept in .devstack/secrets.json (64 hex digits: also a two-factor key).
DEV_SECRETS = (
    "MAILGUN_WEBHOOK_SIGNING_KEY",
    "REPLY_ADDRESS_SECRET",
    "DOMAIN_VERIFICATION_SECRET",
    "TWO_FACTOR_KEY",
    "CARD_TOKEN_KEY",
)
REGION = "ap-southeast-1"
# The local Mailgun stand-in's port, kept across runs so that bookmarks and scripts work.
DEFAULT_MAIL_PORT = 8025
# Set in the stack file: where `mail` posts a customer's mail, and to whom.
LOCAL_MAIL_URL = "DEVSTACK_MAIL_URL"
DEMO_INBOUND_ADDRESS = "DEVSTACK_DEMO_INBOUND_ADDRESS"
# Where the local API serves the web client (devstack/web_client.py).
WEB_APP_PATH = "/app"


class Shutdown(Exception):
    """SIGINT or SIGTERM arrived."""


def _raise_shutdown(signum: int, frame: FrameType | None) -> None:
    raise Shutdown(signal.Signals(signum).name)


def dev_secrets(environ: dict[str, str], path: Path = STATE_DIR / "secrets.json") -> dict[str, str]:
    """Signing and sealing secrets for dev: from the environment, else generated once and
    kept."""
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
    # The stage's values name port 8000; the local API may listen elsewhere.
    for name, path in (("PUBLIC_BASE_URL", ""), ("APP_BASE_URL", WEB_APP_PATH)):
        if not os.environ.get(name):
            environ[name] = f"http://127.0.0.1:{api_port}{path}"
    environ.update(dev_secrets(environ))
    # Readable log lines for a person at a terminal (deployed stages always log JSON).
    environ.setdefault("LOG_FORMAT", "text")
    return environ


def use_local_model(environ: dict[str, str], url: str) -> None:
    """Point Claude and OpenAI embeddings at the local stand-in model, with its own key and
    model name: nothing leaves this machine, and every result is named `local-stand-in`."""
    from fakes.local_model import MODEL

    environ.update(
        {
            "ANTHROPIC_BASE_URL": url,
            "ANTHROPIC_API_KEY": MODEL,
            "ANTHROPIC_MODEL": MODEL,
            "ANTHROPIC_TRIAGE_MODEL": MODEL,
            "OPENAI_BASE_URL": f"{url}/v1",
            "OPENAI_API_KEY": MODEL,
            "OPENAI_EMBEDDING_MODEL": MODEL,
        }
    )


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
    mail_port = int(os.environ.get("MAIL_PORT") or DEFAULT_MAIL_PORT)
    live_port = _live_port(os.environ.get("LIVE_PORT", ""))
    api_url = f"http://127.0.0.1:{api_port}"
    environ = dev_environment(api_port)
    try:
        # Before starting anything: a busy port is the most common first-run failure.
        ensure_port_free(api_port, "API (set API_PORT)")
        if live_port:
            ensure_port_free(live_port, "live WebSocket bridge (set LIVE_PORT, or LIVE_PORT=off)")
        if "MAILGUN_API_BASE" not in environ:
            ensure_port_free(mail_port, "local Mailgun stand-in (set MAIL_PORT)")
    except RuntimeError as e:
        print(f"devstack: {e}", file=sys.stderr)
        return 1

    signal.signal(signal.SIGINT, _raise_shutdown)
    signal.signal(signal.SIGTERM, _raise_shutdown)
    moto: MotoServer | None = None
    mail_catcher: FakeMailgun | None = None
    cloudflare: FakeCloudflare | None = None
    calendar_standins: CalendarStandIns | None = None
    billing_standins: BillingStandIns | None = None
    local_model: LocalModel | None = None
    api: subprocess.Popen[bytes] | None = None
    pump: subprocess.Popen[bytes] | None = None
    live_bridge: subprocess.Popen[bytes] | None = None
    demo_site: DemoSite | None = None
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
                port=mail_port,
                echo=True,
                # It also plays a store() route: keeps mail it receives, notifies the API.
                webhook_signing_key=environ["MAILGUN_WEBHOOK_SIGNING_KEY"],
                notify_url=f"{api_url}/v1/webhooks/mailgun/stored",
            ).start()
            environ["MAILGUN_API_BASE"] = mail_catcher.url
            environ[LOCAL_MAIL_URL] = mail_catcher.url
        if args.ai == "local":
            local_model = LocalModel(port=int(os.environ.get("AI_PORT", "0")), echo=True).start()
            use_local_model(environ, local_model.url)
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
        # No Google / Microsoft / Zoom app configured: booking talks to local stand-ins.
        calendar_standins = start_calendar_standins(environ)
        # No Stripe / TapPay / PayPal configured: billing talks to local stand-ins.
        billing_standins = start_billing_standins(environ, api_url)
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
        from devstack.subprocessors_seed import seed_subprocessor_changes

        seed_subprocessor_changes()

        if live_port:
            live_bridge = _start_live_bridge(environ, live_port, args.timeout)
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

        # The demo page first: the workspace's widget allows the origin it really got.
        demo_site = _start_demo_site(api_url)
        login = seed_demo_workspace(
            api_url,
            ai=local_model is not None,
            chat_origins=[api_url, demo_site.url.rstrip("/")] if demo_site else None,
        )
        environ[DEMO_INBOUND_ADDRESS] = login.inbound_address
        _write_stack_file(environ)
        pump = subprocess.Popen(
            [sys.executable, "-m", "devstack", "pump"], cwd=PROJECT_DIR, env=environ
        )
        if login.created and mail_catcher:
            # The pump delivers the sign-up's confirmation mail to the Mailgun stand-in.
            from devstack.seed import confirm_demo_owner

            if not confirm_demo_owner(api_url, f"{mail_catcher.url}/_fake/messages"):
                print("the demo owner's address is not confirmed: no mail to customers yet")

        print(
            "\nHelptal is running\n"
            f"  web app       {api_url}{WEB_APP_PATH}/\n"
            f"  API           {api_url}\n"
            f"  API docs      {api_url}/docs\n"
            f"  help centre   {login.help_centre_url}\n"
            + (f"  booking page  {login.booking_url}\n" if login.booking_url else "")
            + (
                f"  chat demo     {demo_site.url} (the chat widget on a site)\n"
                if demo_site
                else ""
            )
            + f"  inbound mail  {login.inbound_address}\n"
            f"  live pushes   {_live_line(environ)}\n"
            f"  AWS endpoint  {environ['AWS_ENDPOINT_URL']}\n"
            + (
                f"  sent mail     {mail_catcher.url}/_fake/messages (local Mailgun stand-in)\n"
                f'  send a mail   {MAIL_COMMAND} "Hello, I cannot log in"\n'
                if mail_catcher
                else f"  Mailgun       {environ['MAILGUN_API_BASE']}\n"
            )
            + (
                f"  hostnames     {cloudflare.url.removesuffix('/client/v4')}"
                "/_fake/custom_hostnames (local Cloudflare for SaaS stand-in)\n"
                if cloudflare
                else ""
            )
            + (calendar_standins.banner() if calendar_standins else "")
            + (billing_standins.banner() if billing_standins else "")
            + f"  AI            {_ai_line(environ, local_model)}\n"
            + f"  human check   {_human_check_line(environ)}\n"
            + f"  demo login    {login.email} / {login.password}"
            f"{'' if login.created else ' (existing)'}\n"
            + "".join(f"  {name}={environ[name]}\n" for name in DEV_SECRETS)
            + "Ctrl-C stops everything.\n",
            flush=True,
        )
        while True:
            for name, process in (("API", api), ("event pump", pump), ("live bridge", live_bridge)):
                if process is not None and process.poll() is not None:
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
        if demo_site is not None:
            demo_site.stop()
        _stop(api)
        _stop(live_bridge)
        if mail_catcher is not None:
            mail_catcher.stop()
        if cloudflare is not None:
            cloudflare.stop()
        if calendar_standins is not None:
            calendar_standins.stop()
        if billing_standins is not None:
            billing_standins.stop()
        if local_model is not None:
            local_model.stop()
        if moto is not None:
            moto.stop()


MAIL_COMMAND = ".venv/bin/python -m devstack mail"
# The local WebSocket bridge (devstack/live_bridge.py): clients connect here.
DEFAULT_LIVE_PORT = 8001


def _live_port(asked: str) -> int:
    """The live bridge's port: `LIVE_PORT` (0 for `off`), else 8001, else (busy, as when
    another stack runs) any free one."""
    if asked.strip().lower() in ("off", "0", "no", "false"):
        return 0
    if asked:
        return int(asked)
    try:
        ensure_port_free(DEFAULT_LIVE_PORT, "live WebSocket bridge")
    except RuntimeError:
        from devstack.emulator import free_port

        return free_port()
    return DEFAULT_LIVE_PORT


def _live_line(environ: dict[str, str]) -> str:
    if environ.get("LIVE_WEBSOCKET_URL"):
        return f"{environ['LIVE_WEBSOCKET_URL']} (local WebSocket bridge; clients also poll)"
    return "off (LIVE_PORT=off): clients poll"


def _start_live_bridge(
    environ: dict[str, str], port: int, timeout: float
) -> subprocess.Popen[bytes]:
    """Starts the live WebSocket bridge and points the app at it: `LIVE_WEBSOCKET_URL` for
    clients, `LIVE_CALLBACK_URL` (its management API) for the pushes of the API, the pump
    and the bridge's own message handler (which API Gateway would answer through the API
    its event came by)."""
    import socket

    with socket.socket() as probe:  # a free port for the management API
        probe.bind(("127.0.0.1", 0))
        callback_port = probe.getsockname()[1]
    from devstack.live_bridge import STAGE

    environ["LIVE_CALLBACK_URL"] = f"http://127.0.0.1:{callback_port}/{STAGE}"
    environ["LIVE_WEBSOCKET_URL"] = f"ws://127.0.0.1:{port}"
    os.environ["LIVE_WEBSOCKET_URL"] = environ["LIVE_WEBSOCKET_URL"]  # the demo site's policy
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devstack.live_bridge",
            "--port",
            str(port),
            "--callback-port",
            str(callback_port),
        ],
        cwd=PROJECT_DIR,
        env=environ,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the live bridge exited with code {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.1)
    _stop(process)
    raise TimeoutError("the live bridge did not start")


def _human_check_line(environ: dict[str, str]) -> str:
    """What guards the chat widget's and the contact form's openings in this stack."""
    if environ.get("TURNSTILE_SITE_KEY") and environ.get("TURNSTILE_SECRET_KEY"):
        base = environ.get("TURNSTILE_API_BASE", "https://challenges.cloudflare.com")
        return f"Cloudflare Turnstile ({base})"
    return "off (no TURNSTILE_SECRET_KEY): chat and contact form rely on rate limits alone"


def _ai_line(environ: dict[str, str], local_model: LocalModel | None) -> str:
    if local_model is not None:
        return (
            f"LOCAL STAND-IN MODEL on {local_model.url} (rules, not a real AI; every result "
            "is labelled local-stand-in); AI is on for the demo workspace"
        )
    if environ.get("ANTHROPIC_API_KEY"):
        return "Claude (turn AI on per workspace: PUT /v1/workspace/ai)"
    return "off: no ANTHROPIC_API_KEY (`make run AI=local` starts a local stand-in model)"


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
    prefixes = ("AWS_", "MAILGUN_", "CLOUDFLARE_", "HELP_CENTRE_", "RESOURCE_PREFIX", "DEVSTACK_")
    prefixes_with_providers = (*prefixes, "GOOGLE_", "MS_", "ZOOM_")  # booking's providers
    stack = {
        name: value
        for name, value in environ.items()
        if name in ours
        or name.startswith(prefixes_with_providers)
        or name in ("PUBLIC_BASE_URL", "APP_BASE_URL")
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


def mail(args: argparse.Namespace) -> int:
    """A customer's mail, delivered to the running stack's local Mailgun stand-in as Mailgun
    would deliver it to the demo workspace's inbound address (the pump files the ticket)."""
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    import requests

    path = STATE_DIR / STACK_FILE
    stack = json.loads(path.read_text()) if path.exists() else {}
    if not stack.get(LOCAL_MAIL_URL) or not stack.get(DEMO_INBOUND_ADDRESS):
        print(
            "devstack: no running stack with the local Mailgun stand-in found: start it with "
            "`make run` (and leave MAILGUN_API_BASE unset)",
            file=sys.stderr,
        )
        return 1
    recipient = args.to or stack[DEMO_INBOUND_ADDRESS]
    message = EmailMessage()
    message["From"] = args.sender
    message["To"] = recipient
    message["Subject"] = args.subject or _first_sentence(args.text)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="customer.test")
    message.set_content(args.text)
    try:
        response = requests.post(
            f"{stack[LOCAL_MAIL_URL]}/_fake/receive",
            params={"recipient": recipient},
            data=message.as_bytes(),
            timeout=30,
        )
    except requests.ConnectionError:
        print("devstack: the stack is not answering: is `make run` still running?", file=sys.stderr)
        return 1
    notified = response.json().get("notify_status") if response.ok else None
    if notified != 200:
        print(f"devstack: the mail was not accepted: {response.text[:300]}", file=sys.stderr)
        return 1
    print(f"mail from {args.sender} delivered to {recipient}: a ticket opens in a few seconds")
    return 0


def _first_sentence(text: str, limit: int = 70) -> str:
    first = re.split(r"(?<=[.?!])\s", " ".join(text.split()), maxsplit=1)[0]
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


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
    run_parser.add_argument(
        "--ai",
        choices=("off", "local"),
        default="off",
        help="local: start a local stand-in model (rules, no key) and turn AI on for the demo",
    )
    run_parser.set_defaults(func=run)
    commands.add_parser("pump", help="only the event pump").set_defaults(func=pump)
    fire_parser = commands.add_parser("fire", help="run one scheduled job once")
    fire_parser.add_argument("schedule", help="the schedule's name, e.g. custom_hostnames_job")
    fire_parser.add_argument("--time", help="the event's time (ISO 8601, with a zone); default now")
    fire_parser.set_defaults(func=fire)
    mail_parser = commands.add_parser("mail", help="send a customer's mail to the demo workspace")
    mail_parser.add_argument("text", help="the mail's text")
    mail_parser.add_argument("--subject", help="default: the first words of the text")
    mail_parser.add_argument(
        "--from", dest="sender", default="Carla Customer <carla@customer.test>"
    )
    mail_parser.add_argument("--to", help="default: the demo workspace's inbound address")
    mail_parser.set_defaults(func=mail)
    commands.add_parser("resources", help="only create the resources").set_defaults(func=resources)
    args = parser.parse_args(argv)
    # The same shape as the app's readable log lines (chalicelib/observability.py).
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)-7s %(message)s", datefmt="%H:%M:%S"
    )
    # Every request to a stand-in or a provider is logged by the app already.
    for noisy in ("botocore", "pynamodb", "werkzeug", "httpx", "httpx2"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    code: int = args.func(args)
    return code


def _start_demo_site(api_url: str) -> DemoSite | None:
    """The chat widget's demo host page (devstack/demo_site.py) on DEMO_SITE_PORT (8010),
    or on a free port when that one is taken (another stack on this machine)."""
    port = int(os.environ.get("DEMO_SITE_PORT") or DEMO_SITE_PORT)
    for attempt in (port, 0):
        try:
            return DemoSite(api_url, attempt).start()
        except OSError as e:
            print(f"chat demo page not started on port {attempt}: {e}", flush=True)
    return None


if __name__ == "__main__":
    sys.exit(main())
