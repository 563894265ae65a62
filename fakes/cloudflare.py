"""A fake Cloudflare API v4 for custom hostnames (Cloudflare for SaaS), over HTTP.

Serves `<url>/zones/<zone>/custom_hostnames`: create (POST), list (`?hostname=`), get,
edit (PATCH, re-runs validation) and delete, each answered in Cloudflare's envelope
`{success, errors, messages, result}`.  It checks the Bearer token (403, code 10000) and the
zone (404, code 7003), refuses a duplicate hostname (409, code 1406) and answers 404 for an
unknown id.

A new hostname is `pending` with its certificate `pending_validation`, an ownership TXT
record and a verification error, like a hostname whose CNAME is not in place yet.  It moves
on one step at a time (`pending_validation` -> `pending_issuance` -> `pending_deployment` ->
`active`) when a test calls `step()` or `activate()`, or, with `steps_per_read`, each time
it is read (the local stack).  `fail_next(503)` scripts failures; `lose_next_answers()` makes
the next calls take effect and still answer 502, like an answer lost on the way back.

`GET /_fake/custom_hostnames` lists everything; `POST /_fake/custom_hostnames/<hostname>/
activate` activates one (for trying the local stack by hand).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CERTIFICATE_STEPS = ("pending_validation", "pending_issuance", "pending_deployment", "active")
NOT_CNAMED = "custom hostname does not CNAME to this zone."
DUPLICATE = 1406


@dataclass
class FakeHostname:
    id: str
    hostname: str
    ssl_method: str
    created_at: str
    step: int = 0  # index in CERTIFICATE_STEPS
    status: str = "pending"
    ownership_token: str = field(default_factory=lambda: str(uuid.uuid4()))
    validations: int = 1  # times validation was (re)started

    @property
    def certificate_status(self) -> str:
        return CERTIFICATE_STEPS[self.step]

    def advance(self) -> None:
        self.step = min(self.step + 1, len(CERTIFICATE_STEPS) - 1)
        if self.certificate_status == "active":
            self.status = "active"

    def describe(self) -> dict[str, Any]:
        pending = self.status != "active"
        ssl: dict[str, Any] = {
            "id": f"ssl-{self.id}",
            "type": "dv",
            "method": self.ssl_method,
            "status": self.certificate_status,
            "settings": {"min_tls_version": "1.2"},
            "certificate_authority": "google",
        }
        if self.certificate_status == "pending_validation":
            token = f"ca3-{self.id[:8]}"
            ssl["validation_records"] = (
                [{"txt_name": f"_acme-challenge.{self.hostname}", "txt_value": token}]
                if self.ssl_method == "txt"
                else [
                    {
                        "http_url": f"http://{self.hostname}/.well-known/acme-challenge/{token}",
                        "http_body": token,
                    }
                ]
            )
        return {
            "id": self.id,
            "hostname": self.hostname,
            "ssl": ssl,
            "status": self.status,
            "verification_errors": [NOT_CNAMED] if pending else [],
            "ownership_verification": {
                "type": "txt",
                "name": f"_cf-custom-hostname.{self.hostname}",
                "value": self.ownership_token,
            },
            "ownership_verification_http": {
                "http_url": f"http://{self.hostname}/.well-known/cf-custom-hostname-challenge/"
                f"{self.id}",
                "http_body": self.ownership_token,
            },
            "created_at": self.created_at,
        }


@dataclass
class SeenRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any


class FakeCloudflare:
    def __init__(
        self,
        api_token: str = "cf-test-token",  # noqa: S107 (a fake's own token)
        zone_id: str = "zone-test",
        host: str = "127.0.0.1",
        port: int = 0,
        steps_per_read: int = 0,
        echo: bool = False,
    ) -> None:
        self.api_token = api_token
        self.zone_id = zone_id
        self.steps_per_read = steps_per_read
        self.echo = echo
        self.hostnames: dict[str, FakeHostname] = {}
        self.requests: list[SeenRequest] = []
        self._failures: list[int] = []
        self._lost_answers = 0
        self._lock = threading.Lock()
        self._server = make_server(host, port, self._wsgi, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The API base, like https://api.cloudflare.com/client/v4."""
        return f"http://{self._server.host}:{self._server.port}/client/v4"

    def start(self) -> FakeCloudflare:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    # -- controls -------------------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self.hostnames.clear()
            self.requests.clear()
            self._failures.clear()
            self._lost_answers = 0

    def fail_next(self, status: int = 503, times: int = 1) -> None:
        """The next `times` API calls answer `status` and change nothing."""
        with self._lock:
            self._failures.extend([status] * times)

    def lose_next_answers(self, times: int = 1) -> None:
        """The next `times` API calls take effect, then answer 502 (the answer was lost)."""
        with self._lock:
            self._lost_answers += times

    def by_name(self, hostname: str) -> FakeHostname | None:
        with self._lock:
            return next((h for h in self.hostnames.values() if h.hostname == hostname), None)

    def step(self, hostname: str) -> None:
        """Moves the hostname's certificate one step towards active."""
        with self._lock:
            found = next(h for h in self.hostnames.values() if h.hostname == hostname)
            found.advance()

    def activate(self, hostname: str) -> None:
        """The CNAME is in place and the certificate is issued and deployed."""
        with self._lock:
            found = next(h for h in self.hostnames.values() if h.hostname == hostname)
            while found.status != "active":
                found.advance()

    def calls(self, method: str | None = None) -> list[SeenRequest]:
        """API calls received (with the right token), oldest first."""
        with self._lock:
            return [r for r in self.requests if method is None or r.method == method]

    # -- HTTP ----------------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._handle(Request(environ))(environ, start_response)

    @staticmethod
    def _envelope(
        result: Any,
        status: int = 200,
        errors: list[dict[str, Any]] | None = None,
        **extra: Any,
    ) -> Response:
        body = {"success": not errors, "errors": errors or [], "messages": [], "result": result}
        return Response(
            json.dumps({**body, **extra}), status=status, content_type="application/json"
        )

    def _error(self, status: int, code: int, message: str) -> Response:
        return self._envelope(None, status, [{"code": code, "message": message}])

    def _handle(self, request: Request) -> Response:
        if request.path.startswith("/_fake/"):
            return self._control(request)
        if request.headers.get("Authorization") != f"Bearer {self.api_token}":
            return self._error(403, 10000, "Authentication error")
        match = re.fullmatch(
            r"/client/v4/zones/([^/]+)/custom_hostnames(?:/([^/]+))?", request.path
        )
        if match is None:
            return self._error(404, 7000, "No route for that URI")
        if match.group(1) != self.zone_id:
            return self._error(
                404, 7003, "Could not route to /zones, perhaps your object identifier is invalid?"
            )
        body = request.get_json(silent=True) if request.data else None
        with self._lock:
            self.requests.append(
                SeenRequest(request.method, request.path, dict(request.args), body)
            )
            failure = self._failures.pop(0) if self._failures else None
            lost = self._lost_answers > 0
            if lost and failure is None:
                self._lost_answers -= 1
        if failure is not None:
            return self._error(failure, 1500, "Internal Server Error")
        with self._lock:
            response = self._api(request.method, match.group(2), request.args, body)
        if self.echo and request.method != "GET":
            print(f"[cloudflare] {request.method} {request.path} -> {response.status_code}")
        return self._error(502, 1500, "Bad Gateway") if lost else response

    def _api(self, method: str, hostname_id: str | None, args: Any, body: Any) -> Response:
        if hostname_id is None and method == "POST":
            return self._create(body)
        if hostname_id is None and method == "GET":
            wanted = args.get("hostname")
            found = [h for h in self.hostnames.values() if wanted in (None, h.hostname)]
            for listed_hostname in found:
                self._read(listed_hostname)
            listed = [h.describe() for h in found]
            info = {"page": 1, "per_page": 20, "count": len(listed), "total_count": len(listed)}
            return self._envelope(listed, result_info=info)
        hostname = self.hostnames.get(hostname_id or "")
        if hostname is None:
            return self._error(404, 1436, "The custom hostname was not found.")
        if method == "GET":
            self._read(hostname)
            return self._envelope(hostname.describe())
        if method == "PATCH":
            if not isinstance(body, dict) or not isinstance(body.get("ssl"), dict):
                return self._error(400, 1407, "Invalid ssl settings")
            hostname.validations += 1
            return self._envelope(hostname.describe())
        if method == "DELETE":
            del self.hostnames[hostname.id]
            return self._envelope({"id": hostname.id})
        return self._error(405, 10405, "Method not allowed")

    def _create(self, body: Any) -> Response:
        if not isinstance(body, dict) or not isinstance(body.get("hostname"), str):
            return self._error(400, 1400, "Unable to decode the JSON request body.")
        ssl = body.get("ssl")
        if not isinstance(ssl, dict) or ssl.get("method") not in ("http", "txt", "email"):
            return self._error(400, 1407, "Invalid SSL validation method")
        if ssl.get("type") != "dv":
            return self._error(400, 1407, "Only DV certificates can be requested")
        name = body["hostname"].lower()
        if not re.fullmatch(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", name):
            return self._error(400, 1411, "Custom hostname is invalid.")
        if any(h.hostname == name for h in self.hostnames.values()):
            return self._error(409, DUPLICATE, "Duplicate custom hostname found.")
        created = FakeHostname(
            id=str(uuid.uuid4()),
            hostname=name,
            ssl_method=ssl["method"],
            created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        )
        self.hostnames[created.id] = created
        return self._envelope(created.describe())

    def _read(self, hostname: FakeHostname) -> None:
        for _ in range(self.steps_per_read):
            hostname.advance()

    def _control(self, request: Request) -> Response:
        with self._lock:
            if request.method == "GET" and request.path == "/_fake/custom_hostnames":
                listed = [h.describe() for h in self.hostnames.values()]
                return Response(json.dumps(listed), content_type="application/json")
            match = re.fullmatch(r"/_fake/custom_hostnames/([^/]+)/activate", request.path)
            if request.method == "POST" and match:
                found = [h for h in self.hostnames.values() if h.hostname == match.group(1)]
                for hostname in found:
                    while hostname.status != "active":
                        hostname.advance()
                return Response(
                    json.dumps([h.describe() for h in found]), status=200 if found else 404
                )
        return Response("not found", status=404)
