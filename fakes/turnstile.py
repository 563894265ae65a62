"""A fake Cloudflare Turnstile siteverify endpoint, over HTTP.

`POST <url>/turnstile/v0/siteverify` with `secret`, `response` (and `remoteip`) answers
like Turnstile: `{"success": true, ...}` for a token in `passing_tokens` (Cloudflare's own
test token `XXXX.DUMMY.TOKEN.XXXX` by default) when the secret is right; `success: false`
with `invalid-input-secret` or `invalid-input-response` otherwise.  Each token passes once,
as Turnstile's do (`timeout-or-duplicate` the second time).  `verifications` lists what
was asked."""

from __future__ import annotations

import json
import threading
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

DUMMY_TOKEN = "XXXX.DUMMY.TOKEN.XXXX"


class FakeTurnstile:
    def __init__(
        self,
        secret_key: str = "turnstile-test-secret",  # noqa: S107 (a fake's own secret)
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.secret_key = secret_key
        self.passing_tokens: set[str] = {DUMMY_TOKEN}
        self.verifications: list[dict[str, str]] = []
        self._used: set[str] = set()
        self._lock = threading.Lock()
        self._server = make_server(host, port, self._wsgi, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base, like https://challenges.cloudflare.com."""
        return f"http://{self._server.host}:{self._server.port}"

    def start(self) -> FakeTurnstile:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.method != "POST" or request.path != "/turnstile/v0/siteverify":
            return Response("not found", status=404)(environ, start_response)
        form = {key: request.form.get(key, "") for key in ("secret", "response", "remoteip")}
        with self._lock:
            self.verifications.append(form)
            if form["secret"] != self.secret_key:
                verdict: dict[str, Any] = {
                    "success": False,
                    "error-codes": ["invalid-input-secret"],
                }
            elif form["response"] in self._used:
                verdict = {"success": False, "error-codes": ["timeout-or-duplicate"]}
            elif form["response"] in self.passing_tokens:
                self._used.add(form["response"])
                verdict = {"success": True, "error-codes": [], "hostname": "localhost"}
            else:
                verdict = {"success": False, "error-codes": ["invalid-input-response"]}
        body = json.dumps(verdict)
        return Response(body, content_type="application/json")(environ, start_response)
