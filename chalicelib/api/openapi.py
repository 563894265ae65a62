"""The OpenAPI 3.1 document, generated from the registered operations and their schemas."""

from __future__ import annotations

import re
from typing import Any

from pydantic.json_schema import models_json_schema

from chalicelib.api.routing import OPERATIONS, Operation, schema

REF = "#/components/schemas/{model}"
_ERROR_TEXT = {
    400: "Malformed request",
    401: "Missing, invalid, expired or revoked token",
    403: "Your role does not allow this",
    404: "Not found in this workspace",
    405: "Method not allowed",
    409: "Conflicts with the current state",
    410: "No longer usable",
    413: "Body too large",
    415: "Body is not JSON",
    422: "A field is invalid (named in error.details)",
    429: "Too many attempts",
    503: "A dependency is unavailable",
}


def _path_parameters(path: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", path)
    ]


def _query_parameters(query: str | None) -> list[dict[str, Any]]:
    if query is None:
        return []
    described = schema(query).model_json_schema(ref_template=REF)
    required = set(described.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": spec}
        for name, spec in described.get("properties", {}).items()
    ]


def _ref(model: str) -> dict[str, str]:
    return {"$ref": REF.format(model=model)}


_SUCCESS_TEXT = {
    200: "Success",
    201: "Created",
    202: "Accepted: queued, `status: pending`; ask again for the result",
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
        "parameters": _path_parameters(op.path) + _query_parameters(op.query),
        "responses": {},
    }
    if op.description:
        spec["description"] = op.description
    if op.body is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(op.body)}},
        }
    if op.form is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": _ref(op.form)}},
        }
    media_type = op.produces.split(";", 1)[0].strip()
    is_json = media_type == "application/json"
    page = {"text/html": {"schema": {"type": "string"}}}
    if op.status == 204:
        spec["responses"]["204"] = {"description": "Success, no content"}
    elif op.response is not None:
        for status in (op.status, *op.also):
            spec["responses"][str(status)] = {
                "description": _SUCCESS_TEXT.get(status, "Success"),
                "content": {"application/json": {"schema": _ref(op.response)}},
            }
    else:
        spec["responses"][str(op.status)] = {
            "description": _MEDIA_TEXT.get(media_type, "Success"),
            "content": {media_type: {"schema": {"type": "object"} if is_json else _TEXT}},
        }
    errors = set(op.errors) | ({401} if op.auth else set()) | ({415} if op.body else set())
    for status in sorted(errors):
        spec["responses"][str(status)] = {
            "description": _ERROR_TEXT.get(status, "Error"),
            # Pages, sitemaps and files answer their errors as an HTML page.
            "content": {"application/json": {"schema": _ref("ErrorOut")}} if is_json else page,
        }
    spec["security"] = [{"bearer": []}] if op.auth else []
    return spec


def build_openapi(server_url: str | None = None) -> dict[str, Any]:
    names = {"ErrorOut"} | {n for op in OPERATIONS for n in (op.body, op.response, op.form) if n}
    bodies = {op.body for op in OPERATIONS} | {op.form for op in OPERATIONS}
    _, definitions = models_json_schema(
        [(schema(n), "validation" if n in bodies else "serialization") for n in sorted(names)],
        ref_template=REF,
    )
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
            '`{"error": {"code", "message"}}`.',
        },
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document
