"""The calendar and meeting stand-ins for tests (an importable helper, not a conftest).

    from tests.calendar_fakes import start_calendar_fakes, pkce_pair, WebhookCatcher

    fakes = start_calendar_fakes()        # Google, Microsoft and Zoom on free ports
    os.environ.update(fakes.env())        # GOOGLE_*, MS_*, ZOOM_* for the app's settings
    google = fakes.google_calendar()      # the real adapters, pointed at the stand-ins
    code, state = fakes.google.consent(google.authorization_url(...), "ann@gmail.test")
    fakes.google.add_busy("ann@gmail.test", "2026-03-02T09:00:00+01:00", "...")
    fakes.reset(); fakes.stop()

Or as pytest fixtures, imported into a test module: `calendar_fakes_server` (session) and
`calendar_fakes` (reset before each test).  `WebhookCatcher` is a tiny local server for
push notifications and Graph's validation handshake.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from chalicelib.providers.google_calendar import GoogleCalendar
from chalicelib.providers.microsoft_graph import MicrosoftCalendar
from chalicelib.providers.zoom import ZoomMeetings
from fakes.google import FakeGoogle
from fakes.microsoft import FakeMicrosoft
from fakes.zoom import FakeZoom


@dataclass
class CalendarFakes:
    google: FakeGoogle
    microsoft: FakeMicrosoft
    zoom: FakeZoom

    @property
    def google_url(self) -> str:
        return self.google.url

    @property
    def microsoft_url(self) -> str:
        return self.microsoft.url

    @property
    def zoom_url(self) -> str:
        return self.zoom.url

    def env(self) -> dict[str, str]:
        """The settings' environment variables that point the app at the stand-ins."""
        return calendar_env(self.google, self.microsoft, self.zoom)

    def google_calendar(self, **overrides: Any) -> GoogleCalendar:
        values: dict[str, Any] = {
            "api_base": self.google.url,
            "oauth_base": self.google.url,
            "accounts_base": self.google.url,
            "client_id": self.google.client_id,
            "client_secret": self.google.client_secret,
            **overrides,
        }
        return GoogleCalendar(**values)

    def microsoft_calendar(self, **overrides: Any) -> MicrosoftCalendar:
        values: dict[str, Any] = {
            "graph_base": f"{self.microsoft.url}/v1.0",
            "login_base": self.microsoft.url,
            "tenant": "common",
            "client_id": self.microsoft.client_id,
            "client_secret": self.microsoft.client_secret,
            **overrides,
        }
        return MicrosoftCalendar(**values)

    def zoom_meetings(self, **overrides: Any) -> ZoomMeetings:
        values: dict[str, Any] = {
            "api_base": f"{self.zoom.url}/v2",
            "oauth_base": self.zoom.url,
            "account_id": self.zoom.account_id,
            "client_id": self.zoom.client_id,
            "client_secret": self.zoom.client_secret,
            **overrides,
        }
        return ZoomMeetings(**values)

    def reset(self) -> None:
        for fake in (self.google, self.microsoft, self.zoom):
            fake.reset()

    def stop(self) -> None:
        for fake in (self.google, self.microsoft, self.zoom):
            fake.stop()


def calendar_env(google: FakeGoogle, microsoft: FakeMicrosoft, zoom: FakeZoom) -> dict[str, str]:
    return {
        "GOOGLE_API_BASE": google.url,
        "GOOGLE_OAUTH_BASE": google.url,
        "GOOGLE_ACCOUNTS_BASE": google.url,
        "GOOGLE_CLIENT_ID": google.client_id,
        "GOOGLE_CLIENT_SECRET": google.client_secret,
        "MS_GRAPH_BASE": f"{microsoft.url}/v1.0",
        "MS_LOGIN_BASE": microsoft.url,
        "MS_TENANT": "common",
        "MS_CLIENT_ID": microsoft.client_id,
        "MS_CLIENT_SECRET": microsoft.client_secret,
        "ZOOM_API_BASE": f"{zoom.url}/v2",
        "ZOOM_OAUTH_BASE": zoom.url,
        "ZOOM_ACCOUNT_ID": zoom.account_id,
        "ZOOM_CLIENT_ID": zoom.client_id,
        "ZOOM_CLIENT_SECRET": zoom.client_secret,
    }


def start_calendar_fakes() -> CalendarFakes:
    """Google, Microsoft and Zoom stand-ins, started on free local ports."""
    return CalendarFakes(FakeGoogle().start(), FakeMicrosoft().start(), FakeZoom().start())


@pytest.fixture(scope="session")
def calendar_fakes_server() -> Iterator[CalendarFakes]:
    fakes = start_calendar_fakes()
    yield fakes
    fakes.stop()


@pytest.fixture()
def calendar_fakes(calendar_fakes_server: CalendarFakes) -> CalendarFakes:
    calendar_fakes_server.reset()
    return calendar_fakes_server


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookCatcher:
    """A local endpoint that records POSTs and answers Graph's `?validationToken=` with the
    token as text/plain (or as told: `echo_validation=False`, `validation_delay`)."""

    echo_validation: bool = True
    validation_delay: float = 0.0
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}/hook"

    def stop(self) -> None:
        self._server.shutdown()

    def notifications(self) -> list[Received]:
        """POSTs received other than validation handshakes."""
        with self._lock:
            return [r for r in self.received if "validationToken" not in r.query]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.notifications()
            if len(found) >= count:
                return found
            time.sleep(0.02)
        return self.notifications()

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self._lock:
            self.received.append(
                Received(
                    request.path, dict(request.args), dict(request.headers), request.get_data()
                )
            )
        token = request.args.get("validationToken")
        if token is not None:
            time.sleep(self.validation_delay)
            if not self.echo_validation:
                return Response("nope", status=403)(environ, start_response)
            return Response(token, content_type="text/plain; charset=utf-8")(
                environ, start_response
            )
        return Response(status=202)(environ, start_response)
