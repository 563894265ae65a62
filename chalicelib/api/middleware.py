"""HTTP middleware: correlation ids, request logging, one error shape for every response, CORS
headers for the web client."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

from chalice import Chalice, Response
from chalice.app import Request

from chalicelib import readiness
from chalicelib.api.cors import add_cors_headers
from chalicelib.api.routing import JSON, aws_unavailable, error_body, error_response
from chalicelib.ids import new_id
from chalicelib.observability import logger
from chalicelib.store.aws_outage import is_aws_outage

REQUEST_ID_HEADER = "X-Request-Id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
_CHALICE_CODES = {
    "BadRequestError": "bad_request",
    "UnauthorizedError": "unauthenticated",
    "ForbiddenError": "forbidden",
    "NotFoundError": "not_found",
    "MethodNotAllowedError": "method_not_allowed",
    "UnsupportedMediaType": "unsupported_media_type",
    "RequestTimeoutError": "request_timeout",
    "ConflictError": "conflict",
    "UnprocessableEntityError": "validation_failed",
    "TooManyRequestsError": "too_many_requests",
    "InternalServerError": "internal_error",
}


def correlation_id(request: Request | None) -> str:
    incoming = request.headers.get("x-request-id", "") if request is not None else ""
    return incoming if _SAFE_REQUEST_ID.match(incoming) else new_id()


def _in_house_error_shape(response: Response) -> Response:
    """Rewrites Chalice's own `{"Code", "Message"}` errors (415, 405, ...) to ours."""
    body = response.body
    if isinstance(body, str) and body.startswith("{"):
        try:
            body = json.loads(body)
        except ValueError:
            return response
    if isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = _CHALICE_CODES.get(str(body["Code"]), "error")
        response.body = json.dumps(error_body(code, str(body["Message"])))
        response.headers["Content-Type"] = JSON
    return response


def _internal_error() -> Response:
    return Response(
        body=json.dumps(
            error_body("internal_error", "Something went wrong on our side; it has been logged.")
        ),
        status_code=500,
        headers={"Content-Type": JSON},
    )


def _not_configured() -> Response:
    return Response(
        body=json.dumps(
            error_body(
                "not_configured",
                "This deployment is missing required settings; the operators have been told.",
            )
        ),
        status_code=503,
        headers={"Content-Type": JSON, "Retry-After": str(int(readiness.RECHECK_SECONDS))},
    )


def handle_http(request: Request, get_response: Callable[[Request], Response]) -> Response:
    started = time.perf_counter()
    request_id = correlation_id(request)
    logger.remove_keys(["workspace_id"])
    logger.append_keys(correlation_id=request_id)
    try:
        # Fail closed: never sign or verify with an empty key (logged with the missing names).
        response = _not_configured() if readiness.problems() else get_response(request)
    except Exception as e:
        if is_aws_outage(e):
            logger.warning("AWS unavailable", extra={"path": _path(request), "error": repr(e)})
            response = error_response(aws_unavailable())
        else:
            logger.exception("unhandled error", extra={"path": _path(request)})
            response = _internal_error()
    if response.status_code >= 400:
        response = _in_house_error_shape(response)
    add_cors_headers(request, _path(request), response)
    response.headers[REQUEST_ID_HEADER] = request_id
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if _is_html(response) and "Content-Security-Policy" not in response.headers:
        from chalicelib.web.csp import content_security_policy

        body = response.body if isinstance(response.body, str) else ""
        response.headers["Content-Security-Policy"] = content_security_policy(body)
    response.headers.setdefault("Cache-Control", "no-store")
    logger.info(
        "request handled",
        extra={
            "method": getattr(request, "method", None),
            "path": _path(request),
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return response


def _is_html(response: Response) -> bool:
    content_type = str(response.headers.get("Content-Type", ""))
    return content_type.split(";", 1)[0].strip().lower() == "text/html"


def _path(request: Any) -> str | None:
    context = getattr(request, "context", None) or {}
    return context.get("resourcePath") if isinstance(context, dict) else None


def install_http_middleware(app: Chalice) -> None:
    app.register_middleware(handle_http, "http")
