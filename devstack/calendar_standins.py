"""The local stack's stand-ins for Google Calendar, Microsoft Graph and Zoom (fakes/), each
started when its client id (GOOGLE_CLIENT_ID, MS_CLIENT_ID, ZOOM_ACCOUNT_ID) is not set, as
the Mailgun stand-in is; the API's environment then points at them.  Their consent pages
work in a browser (an Allow button); their `/_fake/...` controls add busy times, revoke
grants and script failures (fakes/calendar_common.py).  Ports: GOOGLE_PORT, MS_PORT,
ZOOM_PORT (default: any free one)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from fakes.google import FakeGoogle
from fakes.microsoft import FakeMicrosoft
from fakes.zoom import FakeZoom


@dataclass
class CalendarStandIns:
    google: FakeGoogle | None = None
    microsoft: FakeMicrosoft | None = None
    zoom: FakeZoom | None = None

    def stop(self) -> None:
        for fake in (self.google, self.microsoft, self.zoom):
            if fake is not None:
                fake.stop()

    def banner(self) -> str:
        """Lines for `make run`'s banner (empty when every provider is a real one)."""
        lines = []
        if self.google is not None:
            lines.append(
                f"  Google        {self.google.url} (local stand-in; /_fake/events?email=)\n"
            )
        if self.microsoft is not None:
            lines.append(
                f"  Microsoft     {self.microsoft.url} (local stand-in; /_fake/events?email=)\n"
            )
        if self.zoom is not None:
            lines.append(f"  Zoom          {self.zoom.url} (local stand-in; /_fake/meetings)\n")
        return "".join(lines)


def start_calendar_standins(environ: dict[str, str]) -> CalendarStandIns:
    """Starts the stand-ins of the providers `environ` configures none for, and sets the
    settings' variables (bases, client id and secret) in `environ` to reach them."""
    started = CalendarStandIns()
    if not environ.get("GOOGLE_CLIENT_ID"):
        google = FakeGoogle(port=_port("GOOGLE_PORT"), echo=True).start()
        started.google = google
        environ.update(
            {
                "GOOGLE_API_BASE": google.url,
                "GOOGLE_OAUTH_BASE": google.url,
                "GOOGLE_ACCOUNTS_BASE": google.url,
                "GOOGLE_CLIENT_ID": google.client_id,
                "GOOGLE_CLIENT_SECRET": google.client_secret,
            }
        )
    if not environ.get("MS_CLIENT_ID"):
        microsoft = FakeMicrosoft(port=_port("MS_PORT"), echo=True).start()
        started.microsoft = microsoft
        environ.update(
            {
                "MS_GRAPH_BASE": f"{microsoft.url}/v1.0",
                "MS_LOGIN_BASE": microsoft.url,
                "MS_TENANT": "common",
                "MS_CLIENT_ID": microsoft.client_id,
                "MS_CLIENT_SECRET": microsoft.client_secret,
            }
        )
    if not environ.get("ZOOM_ACCOUNT_ID"):
        zoom = FakeZoom(port=_port("ZOOM_PORT"), echo=True).start()
        started.zoom = zoom
        environ.update(
            {
                "ZOOM_API_BASE": f"{zoom.url}/v2",
                "ZOOM_OAUTH_BASE": zoom.url,
                "ZOOM_ACCOUNT_ID": zoom.account_id,
                "ZOOM_CLIENT_ID": zoom.client_id,
                "ZOOM_CLIENT_SECRET": zoom.client_secret,
            }
        )
    return started


def _port(name: str) -> int:
    return int(os.environ.get(name) or "0")
