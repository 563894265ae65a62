"""`GET /v1/openapi.json` and a readable `/docs` page (server-rendered, no external assets)."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.routing import HTML, Call, operation

bp = Blueprint(__name__)


@operation(
    bp,
    "GET",
    "/v1/openapi.json",
    summary="This API's OpenAPI 3.1 description",
    tag="docs",
    auth=False,
)
def openapi_document(call: Call) -> Response:
    from chalicelib.api.openapi import build_openapi

    return Response(
        body=json.dumps(build_openapi()),
        status_code=200,
        headers={"Content-Type": "application/json", "Cache-Control": "public, max-age=300"},
    )


def _schema_html(schema: dict[str, Any]) -> str:
    return f"<pre>{escape(json.dumps(schema, indent=2))}</pre>"


def render_docs_page(document: dict[str, Any]) -> str:
    sections = []
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            body = spec.get("requestBody", {}).get("content", {})
            request = "".join(_schema_html(c["schema"]) for c in body.values())
            responses = "".join(
                f"<li><code>{escape(status)}</code> {escape(r['description'])}</li>"
                for status, r in spec["responses"].items()
            )
            auth = "Bearer token" if spec["security"] else "No authentication"
            sections.append(
                f'<section id="{escape(spec["operationId"])}">'
                f"<h3><code>{escape(method.upper())} {escape(path)}</code></h3>"
                f"<p>{escape(spec['summary'])} <em>({auth})</em></p>"
                + (f"<h4>Request body</h4>{request}" if request else "")
                + f"<h4>Responses</h4><ul>{responses}</ul></section>"
            )
    schemas = "".join(
        f'<section id="schema-{escape(name)}"><h3>{escape(name)}</h3>'
        f"{_schema_html(schema)}</section>"
        for name, schema in document["components"]["schemas"].items()
    )
    info = document["info"]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(info['title'])} reference</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
        "padding:0 1rem;color:#1d2433}pre{background:#f4f5f7;padding:.75rem;"
        "overflow:auto}section{border-top:1px solid #dde;padding:.5rem 0}"
        "</style></head><body>"
        f"<h1>{escape(info['title'])}</h1><p>{escape(info['description'])}</p>"
        '<p><a href="/v1/openapi.json">OpenAPI document (JSON)</a></p>'
        f"<h2>Operations</h2>{''.join(sections)}<h2>Schemas</h2>{schemas}"
        "</body></html>"
    )


@operation(
    bp,
    "GET",
    "/docs",
    summary="Human-readable API reference",
    tag="docs",
    auth=False,
    produces=HTML,
)
def docs_page(call: Call) -> Response:
    from chalicelib.api.openapi import build_openapi

    return Response(
        body=render_docs_page(build_openapi()),
        status_code=200,
        headers={"Content-Type": HTML, "Cache-Control": "public, max-age=300"},
    )
