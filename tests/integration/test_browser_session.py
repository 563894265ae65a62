"""The web client's session: an HttpOnly cookie set on login, refused to forged requests
(CSRF), and CORS answered for the web client's origin (APP_BASE_URL) only."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest

from tests.integration.conftest import PASSWORD

COOKIE = "__Host-helptal_session"
WEB = {"X-Helptal-Client": "web"}
APP_ORIGIN = "https://app.helptal.test"  # APP_BASE_URL of the tests
API_ORIGIN = "https://api.helptal.test"  # PUBLIC_BASE_URL of the tests
FOREIGN_ORIGIN = "https://evil.test"


def _session_cookie(headers):
    """The session cookie's value and attributes, from a Set-Cookie header."""
    raw = headers.get("Set-Cookie") or headers.get("set-cookie")
    assert raw, headers
    jar = SimpleCookie()
    jar.load(raw)
    return jar[COOKIE].value, raw


def _log_in_from_the_web_client(api, email="ann@acme.test"):
    status, body, headers = api.request(
        "POST",
        "/v1/auth/login",
        {"email": email, "password": PASSWORD},
        headers={**WEB, "Origin": APP_ORIGIN},
    )
    assert status == 200, body
    token, _ = _session_cookie(headers)
    return token, body


def _with_cookie(token, **headers):
    return {"Cookie": f"{COOKIE}={token}", **headers}


@pytest.fixture()
def owner(api):
    return api.sign_up(workspace="Acme Support", email="ann@acme.test")


def test_web_login_sets_an_httponly_strict_cookie_and_no_token_in_the_body(api, owner):
    status, body, headers = api.request(
        "POST",
        "/v1/auth/login",
        {"email": "ann@acme.test", "password": PASSWORD},
        headers={**WEB, "Origin": APP_ORIGIN},
    )
    assert status == 200, body
    assert body["token"] is None
    assert body["user"]["email"] == "ann@acme.test"
    assert body["workspace_id"] == owner["workspace"]["id"]
    token, raw = _session_cookie(headers)
    assert token.startswith("hts_")
    attributes = [part.strip() for part in raw.split(";")]
    assert attributes[0] == f"{COOKIE}={token}"
    assert set(attributes[1:]) == {
        "Path=/",
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        f"Max-Age={7 * 24 * 3600}",
    }


def test_web_signup_sets_the_cookie_and_no_token_in_the_body(api):
    status, body, headers = api.request(
        "POST",
        "/v1/signup",
        {
            "workspace_name": "Web Desk",
            "name": "Wes",
            "email": "wes@web.test",
            "password": PASSWORD,
        },
        headers=WEB,
    )
    assert status == 201, body
    assert body["token"] is None
    token, raw = _session_cookie(headers)
    assert "HttpOnly" in raw and "Secure" in raw and "SameSite=Strict" in raw
    status, me, _ = api.request("GET", "/v1/me", headers=_with_cookie(token))
    assert status == 200, me
    assert me["workspace"]["id"] == body["workspace"]["id"]


def test_api_clients_still_get_the_token_in_the_body_and_no_cookie(api, owner):
    status, body, headers = api.request(
        "POST", "/v1/auth/login", {"email": "ann@acme.test", "password": PASSWORD}
    )
    assert status == 200
    assert body["token"].startswith("hts_")
    assert "Set-Cookie" not in headers and "set-cookie" not in headers


def test_the_cookie_authenticates_a_read(api, owner):
    token, _ = _log_in_from_the_web_client(api)
    status, me, _ = api.request("GET", "/v1/me", headers=_with_cookie(token))
    assert status == 200, me
    assert me["user"]["email"] == "ann@acme.test"
    assert me["api_key_id"] is None


def test_a_write_with_the_cookie_and_the_web_header_from_the_app_is_done(api, owner):
    token, _ = _log_in_from_the_web_client(api)
    status, body, _ = api.request(
        "PATCH",
        "/v1/workspace",
        {"name": "Renamed Desk"},
        headers=_with_cookie(token, **WEB, Origin=APP_ORIGIN),
    )
    assert status == 200, body
    assert body["name"] == "Renamed Desk"


def test_a_write_with_the_cookie_but_without_the_web_header_is_refused_and_changes_nothing(
    api, owner
):
    token, _ = _log_in_from_the_web_client(api)
    status, body, _ = api.request(
        "PATCH", "/v1/workspace", {"name": "Forged"}, headers=_with_cookie(token)
    )
    assert status == 403
    assert body["error"]["code"] == "csrf_failed"
    assert body["error"]["message"]
    _, workspace, _ = api.request("GET", "/v1/workspace", token=owner["token"])
    assert workspace["name"] == "Acme Support"


def test_a_form_like_logout_with_the_cookie_is_refused_and_the_session_lives_on(api, owner):
    token, _ = _log_in_from_the_web_client(api)
    status, body, _ = api.request(
        "POST",
        "/v1/auth/logout",
        "",
        headers=_with_cookie(
            token, **{"Content-Type": "application/x-www-form-urlencoded"}, Origin=APP_ORIGIN
        ),
    )
    assert status == 403
    assert body["error"]["code"] == "csrf_failed"
    assert api.request("GET", "/v1/me", headers=_with_cookie(token))[0] == 200


@pytest.mark.parametrize("origin", [FOREIGN_ORIGIN, "null", "https://app.helptal.test.evil.test"])
def test_a_write_with_the_cookie_from_a_foreign_origin_is_refused_and_changes_nothing(
    api, owner, origin
):
    token, _ = _log_in_from_the_web_client(api)
    status, body, _ = api.request(
        "PATCH",
        "/v1/workspace",
        {"name": "Forged"},
        headers=_with_cookie(token, **WEB, Origin=origin),
    )
    assert status == 403
    assert body["error"]["code"] == "csrf_failed"
    _, workspace, _ = api.request("GET", "/v1/workspace", token=owner["token"])
    assert workspace["name"] == "Acme Support"


def test_a_write_with_the_cookie_from_the_api_s_own_origin_is_done(api, owner):
    token, _ = _log_in_from_the_web_client(api)
    status, body, _ = api.request(
        "PATCH",
        "/v1/workspace",
        {"name": "From the docs page"},
        headers=_with_cookie(token, **WEB, Origin=API_ORIGIN),
    )
    assert status == 200, body


def test_a_web_login_from_a_foreign_origin_is_refused_and_sets_no_cookie(api, owner):
    status, body, headers = api.request(
        "POST",
        "/v1/auth/login",
        {"email": "ann@acme.test", "password": PASSWORD},
        headers={**WEB, "Origin": FOREIGN_ORIGIN},
    )
    assert status == 403
    assert body["error"]["code"] == "csrf_failed"
    assert "Set-Cookie" not in headers and "set-cookie" not in headers


def test_bearer_requests_need_no_web_header_and_win_over_the_cookie(api, owner):
    status, body, _ = api.request(
        "PATCH",
        "/v1/workspace",
        {"name": "By Bearer"},
        token=owner["token"],
        headers={"Origin": FOREIGN_ORIGIN, "Cookie": f"{COOKIE}=hts_not_a_session"},
    )
    assert status == 200, body
    assert body["name"] == "By Bearer"


def test_an_api_key_is_never_accepted_from_the_cookie(api, owner):
    status, created, _ = api.request(
        "POST", "/v1/api-keys", {"name": "CRM sync", "role": "agent"}, token=owner["token"]
    )
    assert status == 201, created
    assert api.request("GET", "/v1/me", token=created["key"])[0] == 200
    status, body, _ = api.request("GET", "/v1/me", headers=_with_cookie(created["key"]))
    assert status == 401
    assert body["error"]["code"] == "invalid_token"


def test_web_logout_revokes_the_session_and_clears_the_cookie(api, owner):
    token, _ = _log_in_from_the_web_client(api)
    status, body, headers = api.request(
        "POST", "/v1/auth/logout", headers=_with_cookie(token, **WEB, Origin=APP_ORIGIN)
    )
    assert status == 204, body
    cleared, raw = _session_cookie(headers)
    assert cleared == ""
    assert "Max-Age=0" in raw and "HttpOnly" in raw and "Secure" in raw and "Path=/" in raw
    status, body, _ = api.request("GET", "/v1/me", headers=_with_cookie(token))
    assert status == 401
    assert body["error"]["code"] == "invalid_token"


def test_cors_answers_the_web_client_s_origin_with_credentials(api, owner):
    status, _, headers = api.request(
        "GET", "/v1/me", token=owner["token"], headers={"Origin": APP_ORIGIN}
    )
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in headers["Vary"]
    exposed = {h.strip() for h in headers["Access-Control-Expose-Headers"].split(",")}
    assert {"X-Request-Id", "ETag"} <= exposed


def test_cors_headers_are_also_on_errors_for_the_web_client(api):
    status, body, headers = api.request("GET", "/v1/me", headers={"Origin": APP_ORIGIN, **WEB})
    assert status == 401, body
    assert headers["Access-Control-Allow-Origin"] == APP_ORIGIN


@pytest.mark.parametrize("origin", [FOREIGN_ORIGIN, API_ORIGIN, "http://app.helptal.test"])
def test_any_other_origin_gets_no_cors_headers(api, owner, origin):
    status, _, headers = api.request(
        "GET", "/v1/me", token=owner["token"], headers={"Origin": origin}
    )
    assert status == 200
    assert not [name for name in headers if name.lower().startswith("access-control-")]


def test_pages_outside_the_api_get_no_cors_headers(api):
    response = api.client.http.get("/docs", headers={"Origin": APP_ORIGIN})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def _preflight(api, path, origin, method="POST"):
    response = api.client.http.request(
        method="OPTIONS",
        path=path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type,x-helptal-client,x-workspace-id",
        },
        body=b"",
    )
    return response.status_code, response.headers


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/v1/auth/login", {"POST"}),
        ("/v1/workspace", {"GET", "PATCH"}),
        ("/v1/tickets/01JD3Y5Q6M8Z4XK2T9B7C1N0PA", {"GET", "PATCH"}),
    ],
)
def test_preflight_from_the_web_client_s_origin_allows_its_methods_and_headers(api, path, methods):
    status, headers = _preflight(api, path, APP_ORIGIN)
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert headers["Access-Control-Allow-Credentials"] == "true"
    allowed = {m.strip() for m in headers["Access-Control-Allow-Methods"].split(",")}
    assert methods | {"OPTIONS"} <= allowed
    allowed_headers = {
        h.strip().lower() for h in headers["Access-Control-Allow-Headers"].split(",")
    }
    assert {
        "content-type",
        "x-helptal-client",
        "x-workspace-id",
        "x-request-id",
        "authorization",
        "if-none-match",
    } <= allowed_headers
    assert int(headers["Access-Control-Max-Age"]) > 0


def test_preflight_from_another_origin_allows_nothing(api):
    status, headers = _preflight(api, "/v1/workspace", FOREIGN_ORIGIN, method="PATCH")
    assert status == 204
    assert not [name for name in headers if name.lower().startswith("access-control-")]


def test_every_api_path_answers_a_preflight():
    from app import app

    api_paths = [path for path in app.routes if path.startswith("/v1/")]
    assert api_paths
    assert [path for path in api_paths if "OPTIONS" not in app.routes[path]] == []


def test_api_gateway_passes_every_api_preflight_to_the_app():
    """The API Gateway definition `chalice package` writes: OPTIONS of every /v1 path is
    proxied to the Lambda (not a mock answer with fixed headers)."""
    from chalice.deploy.swagger import TemplatedSwaggerGenerator

    from app import app

    paths = TemplatedSwaggerGenerator().generate_swagger(app)["paths"]
    api_paths = {path: methods for path, methods in paths.items() if path.startswith("/v1/")}
    assert api_paths
    for path, methods in api_paths.items():
        assert methods["options"]["x-amazon-apigateway-integration"]["type"] == "aws_proxy", path
