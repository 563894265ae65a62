import json
import re
import subprocess
import sys

from chalice.test import Client
from openapi_spec_validator import validate

from app import app
from chalicelib.api.openapi import build_openapi
from tests.stages import TEST_STAGE


def test_openapi_document_is_valid_3_1():
    document = build_openapi()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_route_is_described():
    documented = {
        (path, method.upper())
        for path, methods in build_openapi()["paths"].items()
        for method in methods
    }
    # CORS preflights (OPTIONS on every /v1 path) are the browser's, not operations.
    routed = {
        (path, method)
        for path, methods in app.routes.items()
        for method in methods
        if method != "OPTIONS"
    }
    assert routed == documented
    assert all("OPTIONS" in app.routes[path] for path, _ in routed if path.startswith("/v1/"))


def test_request_schemas_forbid_unknown_fields():
    schemas = build_openapi()["components"]["schemas"]
    assert schemas["SignupIn"]["additionalProperties"] is False
    assert set(schemas["SignupIn"]["required"]) == {"workspace_name", "name", "email", "password"}


def test_openapi_and_docs_are_served_without_auth():
    with Client(app, stage_name=TEST_STAGE) as client:
        response = client.http.get("/v1/openapi.json")
        assert response.status_code == 200
        assert "/v1/signup" in json.loads(response.body)["paths"]
        page = client.http.get("/docs")
        assert page.status_code == 200
        assert page.headers["Content-Type"].startswith("text/html")
        assert b'data-openapi-url="v1/openapi.json"' in page.body


def test_reference_page_serves_swagger_ui_and_its_starter_from_the_app():
    with Client(app, stage_name=TEST_STAGE) as client:
        page = client.http.get("/docs").body.decode()
        assets = re.findall(r'(?:src|href)="(docs/[\w.-]+)"', page)
        assert set(assets) == {
            "docs/swagger-ui.css",
            "docs/swagger-ui-bundle.js",
            "docs/api-reference.js",
        }
        for asset in assets:
            response = client.http.get("/" + asset)
            assert response.status_code == 200, asset
            expected = "text/css" if asset.endswith(".css") else "text/javascript"
            assert response.headers["Content-Type"].startswith(expected), asset
            assert response.headers["Cache-Control"].startswith("public"), asset
        bundle = client.http.get("/docs/swagger-ui-bundle.js").body
        assert b"SwaggerUIBundle" in bundle and len(bundle) > 500_000
        assert b"SwaggerUIBundle(" in client.http.get("/docs/api-reference.js").body


def test_importing_the_app_reads_no_reference_assets():
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, app; print(sorted(m for m in sys.modules if 'swagger' in m))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"


def test_queued_ai_work_documents_both_pending_and_done_answers():
    paths = build_openapi()["paths"]
    for path, method in [
        ("/v1/tickets/{ticket_id}/drafts", "post"),
        ("/v1/tickets/{ticket_id}/drafts/latest", "get"),
        ("/v1/tickets/{ticket_id}/summary", "get"),
        ("/v1/tickets/{ticket_id}/messages/{message_id}/translate", "post"),
    ]:
        responses = paths[path][method]["responses"]
        assert {"200", "202"} <= set(responses), path
        assert responses["200"]["content"] == responses["202"]["content"]


def test_attachment_uploads_are_described_with_their_limits_errors_and_examples():
    document = build_openapi()
    upload = document["paths"]["/v1/tickets/{ticket_id}/attachments"]["post"]
    assert {"201", "404", "413", "422"} <= set(upload["responses"])
    for code in ("attachment_type_refused", "attachment_already_used", "attachment_not_usable"):
        assert code in upload["description"]
    schemas = document["components"]["schemas"]
    assert set(schemas["AttachmentUploadIn"]["required"]) == {"filename", "content_type", "size"}
    assert schemas["AttachmentUploadIn"]["examples"][0]["content_type"] == "application/pdf"
    assert {"id", "upload_url", "fields", "max_bytes"} <= set(
        schemas["AttachmentUploadOut"]["properties"]
    )
    assert schemas["MessageIn"]["properties"]["attachment_ids"]["maxItems"] == 10
    assert "AttachmentOut" in schemas


def _operations(document):
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            yield path, method, spec


def _registered():
    from chalicelib.api.routing import OPERATIONS

    return {(op.path, op.method.lower()): op for op in OPERATIONS}


def test_every_parameter_matches_its_handler_and_is_described():
    from chalicelib.api.routing import schema

    registered = _registered()
    for path, method, spec in _operations(build_openapi()):
        op = registered[(path, method)]
        parameters = spec["parameters"]
        assert all(p.get("description") for p in parameters), (path, method, parameters)
        in_path = [p["name"] for p in parameters if p["in"] == "path"]
        assert in_path == re.findall(r"{(\w+)}", path), (path, method)
        query = op.query or op.page_query
        fields = set(schema(query).model_fields) if query else set()
        assert {p["name"] for p in parameters if p["in"] == "query"} == fields, (path, method)
        headers = {p["name"] for p in parameters if p["in"] == "header"}
        assert headers == ({"X-Workspace-Id"} if op.auth else set()), (path, method)


def test_every_field_of_every_schema_is_described():
    schemas = build_openapi()["components"]["schemas"]
    undescribed = [
        f"{name}.{field}"
        for name, described in schemas.items()
        for field, spec in described.get("properties", {}).items()
        if not spec.get("description")
    ]
    assert undescribed == []


def test_every_request_body_has_a_valid_example():
    from chalicelib.api.routing import schema

    registered = _registered()
    for path, method, spec in _operations(build_openapi()):
        op = registered[(path, method)]
        if op.body is None and op.form is None:
            continue
        [(media_type, content)] = spec["requestBody"]["content"].items()
        example = content.get("example")
        assert example, (path, method)
        if op.body is not None:
            assert media_type == "application/json"
            schema(op.body).model_validate_json(json.dumps(example))
        else:
            assert media_type == "application/x-www-form-urlencoded"
            schema(op.form).model_validate(example)


def test_every_error_routing_can_answer_is_documented():
    registered = _registered()
    for path, method, spec in _operations(build_openapi()):
        op = registered[(path, method)]
        documented = set(spec["responses"])
        assert "503" in documented, (path, method)
        if op.body is not None:
            assert {"400", "413", "415", "422"} <= documented, (path, method)
        if op.form is not None or op.accepts:
            assert "415" in documented, (path, method)
        if op.query is not None:
            assert "422" in documented, (path, method)
        if op.auth:
            assert {"401", "404"} <= documented, (path, method)
        if op.roles is not None:
            assert "403" in documented, (path, method)
        if "{" in path:
            assert "404" in documented, (path, method)
        assert set(op.errors) <= {int(status) for status in documented}, (path, method)
        for status, answer in spec["responses"].items():
            assert answer["description"], (path, method, status)
            if status not in ("204", "304"):
                assert answer["content"], (path, method, status)


def test_files_are_documented_with_their_real_media_types():
    paths = build_openapi()["paths"]

    def media_types(path):
        return set(paths[path]["get"]["responses"]["200"]["content"])

    assert media_types("/sitemap.xml") == {"application/xml"}
    assert media_types("/hc/{workspace_slug}/sitemap.xml") == {"application/xml"}
    assert media_types("/robots.txt") == {"text/plain"}
    assert media_types("/docs") == {"text/html"}
    assert media_types("/docs/swagger-ui.css") == {"text/css"}
    assert media_types("/docs/swagger-ui-bundle.js") == {"text/javascript"}
    assert media_types("/hc/{workspace_slug}/api/search") == {"application/json"}


def test_pages_document_their_own_errors_as_html_and_routing_errors_as_json():
    join = build_openapi()["paths"]["/join/{token}"]["post"]["responses"]
    assert set(join["410"]["content"]) == {"text/html"}
    assert set(join["415"]["content"]) == {"application/json"}
    assert set(join["503"]["content"]) == {"application/json"}
