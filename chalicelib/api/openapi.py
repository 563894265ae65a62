"""The OpenAPI 3.1 document, generated from the registered operations and their schemas."""

from __future__ import annotations

import re
from typing import Any

from pydantic.json_schema import models_json_schema

from chalicelib.api import plan_gate
from chalicelib.api.browser_session import CLIENT_HEADER, SAFE_METHODS, SESSION_COOKIE, WEB_CLIENT
from chalicelib.api.cors import API_PREFIX
from chalicelib.api.examples import request_example
from chalicelib.api.glossary import (
    PATH_PARAMETERS,
    field_description,
    query_description,
)
from chalicelib.api.routing import FORM, OPERATIONS, WORKSPACE_HEADER, Operation, schema

REF = "#/components/schemas/{model}"
_ERROR_TEXT = {
    400: "Malformed request: `missing_body`, `malformed_json` (not a JSON object, or nested "
    "deeper than 64 levels), or a code of this operation",
    401: "Missing, invalid, expired or revoked token",
    403: "Your role does not allow this (`forbidden_role`); a browser's request made with the "
    f"session cookie without `{CLIENT_HEADER}: {WEB_CLIENT}`, or from another site's Origin "
    "(`csrf_failed`); or a rule of this operation",
    404: "Not found in this workspace (also: `X-Workspace-Id` names a workspace you are not "
    "a member of)",
    402: "The workspace's plan, seats or payment standing does not allow this now "
    "(`plan_limit`; error.details says why and what would allow it: a plan that includes "
    "the feature, more seats, or paying the open invoice)",
    405: "Method not allowed",
    409: "Conflicts with the current state",
    410: "No longer usable",
    413: "Body too large",
    415: "Wrong Content-Type: send the body as the media type documented here",
    422: "A field is invalid (named in error.details)",
    429: "Too many attempts: wait for `Retry-After` seconds",
    503: "Briefly unavailable (`service_unavailable`, with `Retry-After`), or this deployment "
    "is missing settings (`not_configured`)",
}
_ANSWERED_BEFORE_THE_HANDLER = {415, 503}
WORKSPACE_PARAMETER = {
    "name": WORKSPACE_HEADER,
    "in": "header",
    "required": False,
    "description": "Act in another of your workspaces (its id); default: the one the token "
    "was issued for.",
    "schema": {"type": "string"},
}


def _path_parameters(path: str) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "description": PATH_PARAMETERS.get(name, ""),
            "schema": {"type": "string"},
        }
        for name in re.findall(r"{(\w+)}", path)
    ]


def _query_parameters(query: str | None) -> list[dict[str, Any]]:
    if query is None:
        return []
    described = schema(query).model_json_schema(ref_template=REF)
    required = set(described.get("required", []))
    parameters = []
    for name, spec in described.get("properties", {}).items():
        spec = dict(spec)
        text = spec.pop("description", None) or query_description(query, name)
        parameter = {"name": name, "in": "query", "required": name in required, "schema": spec}
        if text:
            parameter["description"] = text
        parameters.append(parameter)
    return parameters


def _describe_fields(schemas: dict[str, Any]) -> None:
    """Gives each property that has no description of its own the glossary's."""
    for name, described in schemas.items():
        for field, spec in described.get("properties", {}).items():
            if not spec.get("description"):
                text = field_description(name, field)
                if text:
                    spec["description"] = text


def _error_statuses(op: Operation) -> set[int]:
    """Every error status `op` can answer: its own, and those routing answers for it."""
    errors = set(op.errors) | {503}
    if op.auth:
        errors |= {401, 404}
    if op.path.startswith(API_PREFIX) and op.method.upper() not in SAFE_METHODS:
        errors.add(403)  # csrf_failed: answered to a forged browser request
    if op.roles is not None:
        errors.add(403)
    if "{" in op.path:
        errors.add(404)
    if op.body is not None:
        errors |= {400, 413, 415, 422}
    if op.form is not None:
        errors |= {415, 422}
    if op.accepts:
        errors.add(415)
    if op.query is not None:
        errors.add(422)
    if op.auth and plan_gate.needs_check(op.method.upper(), op.path, op.gate, op.seats):
        errors.add(402)
    return errors


def _ref(model: str) -> dict[str, str]:
    return {"$ref": REF.format(model=model)}


_SUCCESS_TEXT = {
    200: "Success",
    201: "Created",
    202: "Accepted: queued, `status: pending`; ask again for the result",
}


# Answers a poll revalidates: the tag in an `ETag` header, 304 (no body) for an unchanged one.
_ETAG_HEADER = {
    "description": "Tags this answer: send it back in `If-None-Match` to be told 304 while "
    "nothing changed.",
    "schema": {"type": "string"},
}
_NOT_MODIFIED = {
    "description": "Not modified: the answer is still the one tagged by `If-None-Match` (no body)",
    "headers": {"ETag": _ETAG_HEADER},
}

_TEXT = {"type": "string"}
_MEDIA_TEXT = {
    "text/html": "HTML page",
    "application/xml": "XML document",
    "text/plain": "Plain text",
    "text/javascript": "JavaScript file",
    "text/css": "Stylesheet",
}


def _operation(op: Operation) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": op.name,
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": _path_parameters(op.path)
        + _query_parameters(op.query or op.page_query)
        + ([WORKSPACE_PARAMETER] if op.auth else []),
        "responses": {},
    }
    if op.description:
        spec["description"] = op.description
    for media_type, body in (("application/json", op.body), (FORM, op.form)):
        if body is not None:
            content: dict[str, Any] = {"schema": _ref(body)}
            example = request_example(body, schema(body).model_json_schema())
            if example is not None:
                content["example"] = example
            spec["requestBody"] = {"required": True, "content": {media_type: content}}
    if op.accepts:
        spec["requestBody"] = {
            "required": True,
            "description": "As the sender (Mailgun) posts it; its signature is verified.",
            "content": {media_type: {"schema": {"type": "object"}} for media_type in op.accepts},
        }
    media_type = op.produces.split(";", 1)[0].strip()
    is_json = media_type == "application/json"
    page = {"text/html": {"schema": {"type": "string"}}}
    if op.status == 204:
        spec["responses"]["204"] = {"description": "Success, no content"}
    elif op.response is not None:
        for status in (op.status, *op.also):
            if status == 304:
                spec["responses"]["304"] = _NOT_MODIFIED
                spec["responses"][str(op.status)]["headers"] = {"ETag": _ETAG_HEADER}
                continue
            spec["responses"][str(status)] = {
                "description": _SUCCESS_TEXT.get(status, "Success"),
                "content": {"application/json": {"schema": _ref(op.response)}},
            }
    else:
        spec["responses"][str(op.status)] = {
            "description": _MEDIA_TEXT.get(media_type, "Success"),
            "content": {media_type: {"schema": {"type": "object"} if is_json else _TEXT}},
        }
    for status in sorted(_error_statuses(op)):
        # Pages, sitemaps and files answer their own errors as an HTML page; a wrong
        # Content-Type and an outage are answered before them, in JSON.
        as_json = is_json or status in _ANSWERED_BEFORE_THE_HANDLER
        spec["responses"][str(status)] = {
            "description": _ERROR_TEXT.get(status, "Error"),
            "content": {"application/json": {"schema": _ref("ErrorOut")}} if as_json else page,
        }
    spec["security"] = [{"bearer": []}, {"session_cookie": []}] if op.auth else []
    if op.path.startswith(CHAT_CONVERSATION_PATH):
        spec["security"] = [{"visitor_token": []}]
    return spec


# The chat widget's requests in one conversation: authorised by its visitor token.
CHAT_CONVERSATION_PATH = "/v1/chat/{public_key}/conversations/{conversation_id}"


def build_openapi(server_url: str | None = None) -> dict[str, Any]:
    names = {"ErrorOut"} | {n for op in OPERATIONS for n in (op.body, op.response, op.form) if n}
    bodies = {op.body for op in OPERATIONS} | {op.form for op in OPERATIONS}
    _, definitions = models_json_schema(
        [(schema(n), "validation" if n in bodies else "serialization") for n in sorted(names)],
        ref_template=REF,
    )
    schemas = definitions.get("$defs", {})
    _describe_fields(schemas)
    paths: dict[str, dict[str, Any]] = {}
    for op in sorted(OPERATIONS, key=lambda o: (o.path, o.method)):
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Helptal API",
            "version": "1.0.0",
            "description": "The helpdesk API used by the Helptal web client and by "
            "integrations. Authenticate with `Authorization: Bearer "
            "<session token or API key>`; send `X-Workspace-Id` to act in "
            "another of your workspaces. Every error has the shape "
            '`{"error": {"code", "message"}}`. '
            f"The web client sends `{CLIENT_HEADER}: {WEB_CLIENT}` on every request: "
            "logging in or signing up then sets its session as the HttpOnly cookie "
            f"`{SESSION_COOKIE}` (the answer's `token` is `null`), which authenticates "
            "when no `Authorization` header is sent; a request made with that cookie "
            f"that changes anything must send `{CLIENT_HEADER}: {WEB_CLIENT}` and, with "
            "an `Origin`, come from the web client's or the API's own origin, or it is "
            "refused with 403 `csrf_failed`. CORS answers the web client's origin "
            "(`APP_BASE_URL`) only, with credentials: every `/v1` path answers the "
            "browser's `OPTIONS` preflight (not listed below) for that origin.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "visitor_token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The chat widget's visitor token, answered by `POST "
                    "/v1/chat/{public_key}/conversations` (or the history): it authorises "
                    "that one conversation. Widget requests need no login; they must come "
                    "from an `Origin` the workspace's chat settings allow (else 403 "
                    "`origin_not_allowed`), and CORS answers that origin, without credentials.",
                },
                "session_cookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": SESSION_COOKIE,
                    "description": "The web client's session, set by `POST /v1/auth/login` "
                    f"and `POST /v1/signup` sent with `{CLIENT_HEADER}: {WEB_CLIENT}` "
                    "(HttpOnly, Secure, SameSite=Strict) and cleared by `POST "
                    "/v1/auth/logout`. Never an API key; an `Authorization` header wins. "
                    f"Requests that change anything must send `{CLIENT_HEADER}: "
                    f"{WEB_CLIENT}` (else 403 `csrf_failed`).",
                },
            },
        },
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document
