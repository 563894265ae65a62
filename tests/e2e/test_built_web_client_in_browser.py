"""The web client as `make package` builds it for CloudFront, at the root of its own origin,
with the API on another origin (as app.example.com beside api.example.com): an agent logs in
and works, a route loads directly, a missing file is a 404.

A small local server stands in for CloudFront: the app's routes to `/index.html` (as the
distribution's function), each file with its Cache-Control, and the production headers (the
CSP naming the API's origin in `connect-src`). The local stack runs with `APP_BASE_URL` set
to that origin, so CORS and the cookie's site are those of a deployment.
"""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from devstack.emulator import free_port
from infra import web_hosting
from infra.web_build import WebBuild, build_web_client, cache_control, content_type

PROJECT_DIR = Path(__file__).resolve().parents[2]
DEMO_EMAIL, DEMO_PASSWORD = "demo@helptal.test", "demo-password-123"


@dataclass
class Deployment:
    app_url: str
    api_url: str
    build: WebBuild


def _edge(
    build: WebBuild, api_url: str, port: int, files_url: str, live_url: str
) -> http.server.ThreadingHTTPServer:
    """Serves the built files as the distribution does (the emulator in the bucket's place,
    the local bridge in the WebSocket API's)."""
    headers = dict(web_hosting.security_headers())
    headers["Content-Security-Policy"] = web_hosting.with_sources(
        web_hosting.production_csp(headers["Content-Security-Policy"], api_url, files_url),
        {"connect-src": [live_url]},
    )

    class Edge(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            key = urlsplit(self.path).path.lstrip("/")
            if "." not in key.rsplit("/", 1)[-1]:
                key = "index.html"
            file = build.out / key
            if not file.is_file():
                self.send_response(404)
                self.end_headers()
                return
            body = file.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", content_type(key))
            self.send_header("Cache-Control", cache_control(key))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return http.server.ThreadingHTTPServer(("127.0.0.1", port), Edge)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    workdir = tmp_path_factory.mktemp("deployment")
    api_port, app_port, aws_port = free_port(), free_port(), free_port()
    live_port = free_port()
    api_url, app_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{app_port}"
    build = build_web_client(workdir / "webapp", app_base_url=app_url, api_base_url=api_url)
    edge = _edge(
        build, api_url, app_port, f"http://127.0.0.1:{aws_port}", f"ws://127.0.0.1:{live_port}"
    )
    threading.Thread(target=edge.serve_forever, daemon=True).start()

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("AWS_ENDPOINT_URL", "MAILGUN_API_BASE") and not k.startswith("LIVE_")
    }
    env.update(
        {
            "API_PORT": str(api_port),
            "AWS_PORT": str(aws_port),
            "LIVE_PORT": str(live_port),
            "MAIL_PORT": str(free_port()),
            "RESOURCE_PREFIX": f"helptal-edge-{api_port}",
            "DEVSTACK_STATE_DIR": str(workdir / "state"),
            "PUBLIC_BASE_URL": api_url,
            "APP_BASE_URL": app_url,
        }
    )
    log_path = workdir / "stack.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "devstack", "run", "--timeout", "120"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 150
        while "Helptal is running" not in log_path.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the local stack did not start:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.3)
        yield Deployment(app_url, api_url, build)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        edge.shutdown()


def test_an_agent_logs_in_to_the_built_app_on_its_own_origin_and_works(deployment, browser):
    context = browser.new_context()
    page = context.new_page()
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    page.on(
        "console",
        lambda message: (
            failures.append(message.text)
            if message.type == "error" and "401" not in message.text
            else None
        ),
    )

    page.goto(f"{deployment.app_url}/login")
    page.get_by_label("Email").fill(DEMO_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("ul.tickets", timeout=30_000)
    assert urlsplit(page.url).path == "/"

    page.goto(f"{deployment.app_url}/settings")  # a route, loaded directly
    assert page.locator("main h1").inner_text(timeout=30_000) == "Settings"
    assert failures == []
    assert not [c for c in context.cookies() if "session" in c["name"] and not c["httpOnly"]]
    context.close()


def test_a_missing_file_is_a_404_not_the_app_page(deployment):
    version = deployment.build.version
    assert requests.get(f"{deployment.app_url}/assets/{version}/js/gone.js").status_code == 404
    main = requests.get(f"{deployment.app_url}/assets/{version}/js/main.js")
    assert main.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    page = requests.get(f"{deployment.app_url}/tickets/01J0000000000000000000000")
    assert page.headers["Cache-Control"] == "no-cache"
    assert f'src="assets/{version}/js/main.js"' in page.text
