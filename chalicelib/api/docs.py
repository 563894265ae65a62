"""`GET /v1/openapi.json` and the API reference at `/docs`: Swagger UI (the pinned
`swagger-ui-bundle-v2` distribution), its files served by this app, no CDN.

The reference page is the one page that runs script: Swagger UI's bundle and our own
initialiser, both files from this site (`script-src 'self'`, nothing inline).  The files are
read on the first request for them, never when `app` is imported."""

from __future__ import annotations

import json
from functools import cache
from html import escape
from pathlib import Path

from chalice import Blueprint, Response

from chalicelib.api.routing import HTML, Call, operation

bp = Blueprint(__name__)

JAVASCRIPT = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
ASSET_CACHE = "public, max-age=3600"
# Swagger UI sets element styles through the DOM (allowed); its stylesheet's icons are data:
# URIs; "Try it out" calls this API (connect-src 'self').
REFERENCE_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# The page's links are relative, so they also work under an API Gateway stage path.
OPENAPI_URL = "v1/openapi.json"
REFERENCE_SCRIPT = Path(__file__).resolve().parents[1] / "web" / "static" / "api-reference.js"


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


def reference_page(title: str) -> str:
    """The HTML of `/docs`: an empty Swagger UI root that the scripts fill in."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        '<link rel="stylesheet" href="docs/swagger-ui.css"></head><body>'
        f'<div id="swagger-ui" data-openapi-url="{OPENAPI_URL}"></div>'
        f'<noscript><p><a href="{OPENAPI_URL}">The OpenAPI document (JSON)</a></p></noscript>'
        '<script src="docs/swagger-ui-bundle.js"></script>'
        '<script src="docs/api-reference.js"></script>'
        "</body></html>"
    )


@operation(
    bp,
    "GET",
    "/docs",
    summary="The API reference (Swagger UI): every operation, and Authorize + Try it out",
    tag="docs",
    auth=False,
    produces=HTML,
)
def docs_page(call: Call) -> Response:
    return Response(
        body=reference_page("Helptal API reference"),
        status_code=200,
        headers={
            "Content-Type": HTML,
            "Cache-Control": "public, max-age=300",
            "Content-Security-Policy": REFERENCE_POLICY,
        },
    )


@cache
def swagger_ui_file(name: str) -> str:
    """One file of the pinned Swagger UI distribution (read once per container)."""
    from swagger_ui_bundle import swagger_ui_path

    return (swagger_ui_path / name).read_text(encoding="utf-8")


@cache
def reference_script() -> str:
    return REFERENCE_SCRIPT.read_text(encoding="utf-8")


def _asset(body: str, content_type: str) -> Response:
    return Response(
        body=body,
        status_code=200,
        headers={"Content-Type": content_type, "Cache-Control": ASSET_CACHE},
    )


@operation(
    bp,
    "GET",
    "/docs/swagger-ui-bundle.js",
    summary="Swagger UI's script, for the API reference page",
    tag="docs",
    auth=False,
    produces=JAVASCRIPT,
)
def swagger_ui_script(call: Call) -> Response:
    return _asset(swagger_ui_file("swagger-ui-bundle.js"), JAVASCRIPT)


@operation(
    bp,
    "GET",
    "/docs/swagger-ui.css",
    summary="Swagger UI's stylesheet, for the API reference page",
    tag="docs",
    auth=False,
    produces=CSS,
)
def swagger_ui_stylesheet(call: Call) -> Response:
    return _asset(swagger_ui_file("swagger-ui.css"), CSS)


@operation(
    bp,
    "GET",
    "/docs/api-reference.js",
    summary="The API reference page's own script: starts Swagger UI on this API's document",
    tag="docs",
    auth=False,
    produces=JAVASCRIPT,
)
def api_reference_script(call: Call) -> Response:
    return _asset(reference_script(), JAVASCRIPT)
