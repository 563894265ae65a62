"""How the local API serves the web client's files at /app/ (devstack/web_client.py)."""

from devstack.web_client import app_response, security_headers


def _get(path, method="GET", **headers):
    return app_response(method, path, headers)


def test_paths_outside_app_are_left_to_the_api():
    for path in ("/", "/v1/me", "/application", "/hc/demo/app"):
        assert _get(path) is None


def test_app_routes_get_the_index_page_with_the_strict_policy():
    for path in ("/app/", "/app/login", "/app/tickets/01ABC", "/app/kb/articles/01XYZ", "/app/x/y"):
        response = _get(path)
        assert response["statusCode"] == 200, path
        assert response["headers"]["Content-Type"] == "text/html; charset=utf-8"
        assert b'<script type="module" src="js/main.js">' in response["body"]
        policy = response["headers"]["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        # Scripts: the app's own, and TapPay's card-fields SDK (the backup card) only.
        assert directives["script-src"].split() == ["'self'", "https://js.tappaysdk.com"]
        assert "unsafe" not in policy
        assert response["headers"]["X-Frame-Options"] == "DENY"


def test_files_are_served_with_their_type_and_the_same_headers():
    module = _get("/app/js/main.js")
    assert module["statusCode"] == 200
    assert module["headers"]["Content-Type"] == "text/javascript; charset=utf-8"
    assert _get("/app/vendor/preact.mjs")["headers"]["Content-Type"].startswith("text/javascript")
    assert _get("/app/i18n/fr.json")["headers"]["Content-Type"].startswith("application/json")
    assert _get("/app/vendor/LICENSE-preact")["headers"]["Content-Type"].startswith("text/plain")
    for name, value in security_headers().items():
        assert module["headers"][name] == value


def test_a_missing_file_is_a_404_not_the_app():
    assert _get("/app/js/missing.js")["statusCode"] == 404


def test_nothing_outside_webapp_or_hidden_is_served():
    for path in (
        "/app/../README.md",
        "/app/%2e%2e/README.md",
        "/app/..%2fREADME.md",
        "/app/js/../../README.md",
        "/app/.gitignore",
        "/app/%00",
    ):
        response = _get(path)
        assert response["statusCode"] in (200, 404), path
        assert b"Helptal is a modern helpdesk" not in (response["body"] or b""), path


def test_the_bare_app_path_redirects_and_other_methods_are_refused():
    assert _get("/app?next=1")["statusCode"] == 301
    assert _get("/app?next=1")["headers"]["Location"] == "/app/?next=1"
    assert _get("/app/login", method="POST")["statusCode"] == 405


def test_an_unchanged_file_answers_304():
    first = _get("/app/app.css")
    again = _get("/app/app.css", **{"If-None-Match": first["headers"]["ETag"]})
    assert again["statusCode"] == 304
    assert again["body"] is None
    assert _get("/app/app.css", method="HEAD")["body"] is None


def test_the_local_policy_allows_the_emulators_host_for_uploads_and_images(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5123")
    security_headers.cache_clear()
    try:
        csp = security_headers()["Content-Security-Policy"]
    finally:
        security_headers.cache_clear()
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert "http://127.0.0.1:5123" in directives["connect-src"]
    assert "http://127.0.0.1:5123" in directives["img-src"]
    assert "http://127.0.0.1:5123" not in directives["script-src"]
