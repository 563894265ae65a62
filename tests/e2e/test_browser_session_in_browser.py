"""The web client's cookie session in headless Chromium on the local stack: a page of the
API's origin logs in with fetch and never sees the session, which then authenticates its
calls; a page on another origin (another local port: same site, so the cookie is sent)
posts a form and a script request that change nothing."""

from __future__ import annotations

import uuid

import requests
from pytest_httpserver import HTTPServer

from devstack.emulator import free_port

PASSWORD = "correct horse battery"
COOKIE = "__Host-helptal_session"

LOG_IN = """async ([email, password]) => {
    const response = await fetch("/v1/auth/login", {
        method: "POST",
        credentials: "include",
        headers: {"Content-Type": "application/json", "X-Helptal-Client": "web"},
        body: JSON.stringify({email, password}),
    });
    return {status: response.status, body: await response.json()};
}"""
WHO_AM_I = """async () => {
    const response = await fetch("/v1/me", {credentials: "include"});
    return {status: response.status, body: await response.json()};
}"""


def _forged_page(api_url: str) -> str:
    """A page of another origin: a form that logs the visitor out, sent on load."""
    return (
        "<!doctype html><html><body>"
        f'<form id="forged" method="post" action="{api_url}/v1/auth/logout">'
        '<input type="hidden" name="x" value="1"></form>'
        "<script>document.getElementById('forged').submit()</script>"
        "</body></html>"
    )


def test_web_login_keeps_the_session_from_scripts_and_other_origins(stack, browser):
    email = f"web-{uuid.uuid4().hex[:6]}@acme.test"
    signup = requests.post(
        f"{stack.api_url}/v1/signup",
        json={"workspace_name": "Acme Web", "name": "Ann", "email": email, "password": PASSWORD},
        timeout=10,
    )
    assert signup.status_code == 201, signup.text

    context = browser.new_context()
    page = context.new_page()
    assert page.goto(f"{stack.api_url}/docs").status == 200
    logged_in = page.evaluate(LOG_IN, [email, PASSWORD])
    assert logged_in["status"] == 200, logged_in
    assert logged_in["body"]["token"] is None
    assert logged_in["body"]["user"]["email"] == email

    # Chromium kept the cookie (127.0.0.1 is a secure context), out of scripts' reach.
    [session] = [c for c in context.cookies() if c["name"] == COOKIE]
    assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Strict"
    assert session["value"].startswith("hts_")
    assert COOKIE not in page.evaluate("document.cookie")
    me = page.evaluate(WHO_AM_I)
    assert me["status"] == 200, me
    assert me["body"]["user"]["email"] == email

    other = HTTPServer(host="127.0.0.1", port=free_port())
    other.expect_request("/forged").respond_with_data(
        _forged_page(stack.api_url), content_type="text/html"
    )
    other.expect_request("/blank").respond_with_data(
        "<!doctype html><p>hi", content_type="text/html"
    )
    other.start()
    try:
        forged = context.new_page()
        with forged.expect_navigation(url=f"{stack.api_url}/v1/auth/logout") as navigation:
            forged.goto(other.url_for("/forged"))
        answer = navigation.value
        assert answer is not None and answer.status == 403
        # csrf_failed, not missing_token: the cookie went along, and was refused.
        assert "csrf_failed" in forged.content()

        # A script of that origin: without the header (no preflight) it is refused; with it,
        # the preflight allows nothing, so the request is never sent.
        forged.goto(other.url_for("/blank"))
        outcomes = forged.evaluate(
            """async (api) => {
                const quiet = await fetch(api + "/v1/auth/logout", {
                    method: "POST", mode: "no-cors", credentials: "include"});
                let loud = "sent";
                try {
                    await fetch(api + "/v1/auth/logout", {
                        method: "POST", credentials: "include",
                        headers: {"X-Helptal-Client": "web"}});
                } catch (refused) {
                    loud = "refused by the browser";
                }
                return {quiet: quiet.type, loud};
            }""",
            stack.api_url,
        )
        assert outcomes == {"quiet": "opaque", "loud": "refused by the browser"}
    finally:
        other.stop()

    me = page.evaluate(WHO_AM_I)
    assert me["status"] == 200, me
    context.close()


def test_the_local_api_answers_preflights_for_the_web_client_itself(stack):
    """chalice local answers OPTIONS with the app's preflight, not its own stand-in."""
    # Locally the web client is served from the API's own origin (APP_BASE_URL's).
    answer = requests.options(
        f"{stack.api_url}/v1/workspace",
        headers={
            "Origin": stack.api_url,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "content-type,x-helptal-client",
        },
        timeout=10,
    )
    assert answer.status_code == 204, answer.text
    assert answer.headers["Access-Control-Allow-Origin"] == stack.api_url
    assert answer.headers["Access-Control-Allow-Credentials"] == "true"
    assert "PATCH" in answer.headers["Access-Control-Allow-Methods"]
    assert "X-Helptal-Client" in answer.headers["Access-Control-Allow-Headers"]
    foreign = requests.options(
        f"{stack.api_url}/v1/workspace",
        headers={"Origin": "http://evil.test", "Access-Control-Request-Method": "PATCH"},
        timeout=10,
    )
    assert "Access-Control-Allow-Origin" not in foreign.headers
