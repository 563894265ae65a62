"""A customer's website, for trying the chat widget locally: `make run` serves a small page
on http://localhost:8010 (another origin than the API) that embeds the widget from the local
API with the demo workspace's public key, under a strict Content-Security-Policy that allows
only the API's origin for scripts and calls (what a real site has to allow).

`/` is the English page, `/fr` the French one (`<html lang="fr">`). The public key is asked
of the API (as the demo owner, `GET /v1/chat/settings`) on the first page request, so the
site starts before the workspace has chat settings and shows why when it has none.

`python -m devstack.demo_site --api http://127.0.0.1:8000` runs it alone."""

from __future__ import annotations

import argparse
import os
import threading
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import requests

from devstack.seed import DEMO_EMAIL, DEMO_PASSWORD

DEFAULT_PORT = 8010
# The origin the demo workspace's chat settings allow (devstack/seed.py).
DEMO_HOST = "localhost"

PAGE_WORDS = {
    "en": {
        "title": "Acme Outdoor: demo shop",
        "heading": "Acme Outdoor",
        "lead": "A customer's website. The chat bubble in the corner is Helptal's widget, "
        "loaded from the local API with one script tag:",
        "other": "Voir cette page en français",
        "no_key": "The demo workspace has no chat settings yet, so there is no widget here.",
    },
    "fr": {
        "title": "Acme Outdoor : boutique de démonstration",
        "heading": "Acme Outdoor",
        "lead": "Le site d'un client. La bulle de discussion dans le coin est le widget de "
        "Helptal, chargé depuis l'API locale par une seule balise script :",
        "other": "See this page in English",
        "no_key": "L'espace de démonstration n'a pas encore de réglages de discussion : pas de "
        "widget ici.",
    },
}
STYLESHEET = (
    "body{font:16px/1.5 Georgia,serif;margin:0;background:#f6f3ee;color:#222}"
    "header{background:#2d4a3e;color:#fff;padding:16px 24px}main{max-width:720px;padding:24px}"
    "code{display:block;background:#fff;border:1px solid #ccc;padding:12px;white-space:pre-wrap;"
    "overflow-wrap:anywhere;font-size:13px}a{color:#1a4d8f}"
)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def snippet(api_url: str, public_key: str) -> str:
    """The tag a customer puts on their site (as `GET /v1/chat/settings` gives it)."""
    return (
        f'<script src="{escape(api_url.rstrip("/"))}/chat/widget.js" '
        f'data-workspace="{escape(public_key)}" async></script>'
    )


def _live_origins() -> list[str]:
    """The live WebSocket API the widget connects to, where the stack has one."""
    live = os.environ.get("LIVE_WEBSOCKET_URL", "")
    return [origin_of(live)] if live else []


def page_policy(api_url: str) -> str:
    """A strict host policy: scripts and calls from the API's origin only, nothing inline."""
    api = origin_of(api_url)
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {api}",
            f"connect-src {' '.join([api, *_live_origins()])}",
            f"img-src {api} https: data:",
            "style-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def demo_page(api_url: str, public_key: str | None, lang: str = "en") -> str:
    """The host page's HTML in `lang`, embedding the widget when there is a key."""
    words = PAGE_WORDS[lang]
    other = "/" if lang == "fr" else "/fr"
    tag = snippet(api_url, public_key) if public_key else ""
    body = (
        f"<p>{escape(words['lead'])}</p><code>{escape(tag)}</code>"
        if public_key
        else f"<p>{escape(words['no_key'])}</p>"
    )
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(words['title'])}</title>"
        '<link rel="stylesheet" href="/demo.css"></head><body>'
        f"<header><h1>{escape(words['heading'])}</h1></header>"
        f'<main>{body}<p><a href="{other}">{escape(words["other"])}</a></p></main>'
        f"{tag}</body></html>"
    )


def demo_public_key(api_url: str, timeout: float = 10.0) -> str | None:
    """The demo workspace's widget key, asked as its owner; None without chat settings."""
    api_url = api_url.rstrip("/")
    login = requests.post(
        f"{api_url}/v1/auth/login",
        json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
        timeout=timeout,
    )
    if login.status_code != 200:
        return None
    settings = requests.get(
        f"{api_url}/v1/chat/settings",
        headers={"Authorization": f"Bearer {login.json()['token']}"},
        timeout=timeout,
    )
    if settings.status_code != 200:
        return None
    key = settings.json().get("public_key")
    return str(key) if key else None


class DemoSite:
    """The demo host page on `port` (0: a free one), served from a thread."""

    def __init__(self, api_url: str, port: int = DEFAULT_PORT, host: str = "127.0.0.1") -> None:
        self.api_url = api_url.rstrip("/")
        self._public_key: str | None = None
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path in ("/", "/fr"):
                    lang = "fr" if path == "/fr" else "en"
                    html = demo_page(site.api_url, site.public_key(), lang)
                    self._send(200, "text/html; charset=utf-8", html.encode())
                elif path == "/demo.css":
                    self._send(200, "text/css; charset=utf-8", STYLESHEET.encode())
                else:
                    self._send(404, "text/plain; charset=utf-8", b"Not found")

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                if content_type.startswith("text/html"):
                    self.send_header("Content-Security-Policy", page_policy(site.api_url))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"http://{DEMO_HOST}:{self.port}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def public_key(self) -> str | None:
        with self._lock:
            if self._public_key is None:
                try:
                    self._public_key = demo_public_key(self.api_url)
                except requests.RequestException:
                    return None
            return self._public_key

    def start(self) -> DemoSite:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.demo_site")
    parser.add_argument("--api", default="http://127.0.0.1:8000", help="the local API's URL")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args()
    site = DemoSite(args.api, args.port).start()
    print(f"chat demo page on {site.url} (Ctrl-C stops it)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        site.stop()


if __name__ == "__main__":
    main()
