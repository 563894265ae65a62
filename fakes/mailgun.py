"""A fake Mailgun HTTP API: `POST /v3/<domain>/messages` as Mailgun documents it.

It checks Basic auth (`api:<key>`), the form encoding (multipart or urlencoded), the required
fields and address syntax, and answers like Mailgun (200 `{"id": "<...>", "message":
"Queued. Thank you."}`, 400 for a bad address, 401 for a wrong key).  Tests can script
failures (`fail_next(503, times=2)`).  Every accepted message is kept in `.messages`.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from email.utils import getaddresses
from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


@dataclass
class SentMessage:
    domain: str
    fields: MultiDict
    content_type: str
    files: dict[str, bytes] = field(default_factory=dict)

    def one(self, name: str) -> str | None:
        return self.fields.get(name)

    def all(self, name: str) -> list[str]:
        return self.fields.getlist(name)


class FakeMailgun:
    def __init__(
        self, api_key: str = "key-test", host: str = "127.0.0.1", port: int = 0, echo: bool = False
    ) -> None:
        self.api_key = api_key
        self.echo = echo  # print a line per accepted message (the local stack's mail catcher)
        self.messages: list[SentMessage] = []
        self.requests_seen = 0
        self._failures: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        self._server = make_server(host, port, self._wsgi, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._sequence = 0

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"

    def start(self) -> FakeMailgun:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def fail_next(self, status: int, times: int = 1, message: str = "Service Unavailable") -> None:
        with self._lock:
            self._failures.extend([(status, message)] * times)

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self._failures.clear()
            self.requests_seen = 0

    # -- the API ----------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self._handle(request)
        return response(environ, start_response)

    @staticmethod
    def _json(body: dict[str, Any], status: int) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json")

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == "api" and password == self.api_key

    def inbox(self) -> list[dict[str, Any]]:
        """What was sent, as plain data (also served at `GET /_fake/messages`)."""
        with self._lock:
            return [
                {"domain": m.domain, **{k: m.fields.getlist(k) for k in m.fields}}
                for m in self.messages
            ]

    def _handle(self, request: Request) -> Response:
        if request.method == "GET" and request.path == "/_fake/messages":
            return Response(json.dumps(self.inbox()), content_type="application/json")
        with self._lock:
            self.requests_seen += 1
        match = re.fullmatch(r"/v3/([^/]+)/messages", request.path)
        if request.method != "POST" or match is None:
            return self._json({"message": "not found"}, 404)
        if not self._authorised(request):
            return Response("Forbidden", status=401)
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure:
            return self._json({"message": failure[1]}, failure[0])
        content_type = request.mimetype
        if content_type not in ("multipart/form-data", "application/x-www-form-urlencoded"):
            return self._json({"message": "unsupported content type"}, 400)
        form = request.form
        if not form.get("from"):
            return self._json({"message": "'from' parameter is missing"}, 400)
        recipients = [addr for _, addr in getaddresses(form.getlist("to"))]
        if not recipients:
            return self._json({"message": "'to' parameter is missing"}, 400)
        for address in recipients + [a for _, a in getaddresses([form["from"]])]:
            if not _ADDRESS.match(address):
                return self._json(
                    {
                        "message": f"to parameter is not a valid address. "
                        f"please check documentation ({address})"
                    },
                    400,
                )
        if not (form.get("text") or form.get("html") or form.get("template")):
            return self._json(
                {
                    "message": "Need at least one of 'text', 'html' or 'template' "
                    "parameters specified"
                },
                400,
            )
        files = {name: storage.read() for name, storage in request.files.items()}
        with self._lock:
            self._sequence += 1
            message_id = f"<20261129.{self._sequence}@{match.group(1)}>"
            self.messages.append(SentMessage(match.group(1), MultiDict(form), content_type, files))
        if self.echo:
            links = re.findall(r"https?://\S+", form.get("text", ""))
            print(
                f"[mail] to {', '.join(recipients)}: {form.get('subject', '')}"
                + (f"  {links[0]}" if links else ""),
                flush=True,
            )
        return self._json({"id": message_id, "message": "Queued. Thank you."}, 200)
